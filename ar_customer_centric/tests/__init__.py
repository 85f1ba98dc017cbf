from . import test_segment
from . import test_portal_contracts
from . import test_portal_common
from . import test_portal_http
from . import test_sending_channels
from . import test_cxml
from . import test_statement
