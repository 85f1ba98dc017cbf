# The umbrella module ar_suite. It must not import the feature modules beside it
# (ar_customer_centric, ar_peppol_edi, ar_dunning): Odoo loads them as addons of their own.
