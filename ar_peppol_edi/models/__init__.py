from . import account_edi_xml_ubl_bis3
from . import account_move
from . import account_move_send
from . import ar_peppol_connector
from . import ar_peppol_finding
from . import res_company
from . import res_config_settings
from . import res_partner
