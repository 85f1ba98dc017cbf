from . import peppol_ids
from . import smp_lookup
from . import ubl_validator
from . import invoice_response
from . import locking
