from . import peppol_ids
