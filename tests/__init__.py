from . import test_suite_portal
from . import test_suite_dashboard
from . import test_suite_onboarding
from . import test_suite_peppol_journey
