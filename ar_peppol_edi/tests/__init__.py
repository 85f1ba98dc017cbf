from . import test_connectors
from . import test_invoice_response
from . import test_lookup
from . import test_peppol_ids
from . import test_rules_store
from . import test_transmission
from . import test_ubl_matrix
from . import test_webhook_http
