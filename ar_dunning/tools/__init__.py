from . import dunning_level
from . import locking
from . import official_rates
from . import credit_risk
from . import vat_check
from . import consumer_credit_de
