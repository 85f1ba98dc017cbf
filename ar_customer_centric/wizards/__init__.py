from . import ar_segment_apply
from . import account_move_send_wizard
