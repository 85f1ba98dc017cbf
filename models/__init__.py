from . import ar_suite_receivable_report
from . import ar_suite_onboarding
from . import res_config_settings
from . import res_partner
from . import ar_dunning_line
from . import ar_suite_demo
from . import account_move
from . import ar_dunning_plan
