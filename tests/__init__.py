from . import test_suite_portal
