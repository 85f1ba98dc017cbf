from . import test_dunning_level
from . import test_dunning_run
from . import test_dunning_mail_lang
from . import test_dunning_access
from . import test_late_payment_law
from . import test_dunning_law
from . import test_official_rates
from . import test_dunning_currency
