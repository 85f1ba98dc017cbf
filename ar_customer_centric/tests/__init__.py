from . import test_segment
from . import test_portal_contracts
