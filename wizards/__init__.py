from . import ar_suite_dashboard
