from . import test_peppol_ids
