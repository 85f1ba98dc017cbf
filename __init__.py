# The umbrella module ar_suite. It must not import the feature modules beside it
# (ar_customer_centric, ar_peppol_edi, ar_dunning): Odoo loads them as addons of their own.
# Its own code is imported only when Odoo loads it as an addon (`odoo.addons.ar_suite`): the
# repository root is also a plain package to pytest (repo_tests/), where Odoo models may not
# be defined outside `odoo.addons`.
if __name__.startswith("odoo.addons."):
    from . import models
    from . import wizards
    from . import controllers
