from . import ar_dunning_policy
from . import ar_dunning_charge
from . import ar_dunning_promise
from . import res_partner
from . import account_move
from . import ar_dunning_run
from . import ar_dunning_kpi
from . import res_company
