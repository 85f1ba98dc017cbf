from . import account_move_credit_override
