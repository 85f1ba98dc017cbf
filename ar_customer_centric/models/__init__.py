from . import res_partner
from . import account_move_portal
from . import ar_dispute
from . import ar_sepa_mandate
from . import ar_autopay
from . import ar_autopay_sepa
from . import payment_transaction
from . import res_partner_portal
