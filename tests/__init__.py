from . import test_suite_portal
from . import test_suite_dashboard
from . import test_suite_onboarding
from . import test_suite_peppol_journey
from . import test_suite_pay_journey
from . import test_suite_dunning_journey
from . import test_suite_demo_walk
