"""Peppol participant identifiers: pure helpers (no Odoo registry)."""

from stdnum.be import vat as be_vat

PARTICIPANT_SCHEME = "iso6523-actorid-upis"


def participant_id(eas, endpoint):
    """The Peppol participant identifier, e.g. ``iso6523-actorid-upis::0208:0477472701``."""
    return f"{PARTICIPANT_SCHEME}::{eas}:{endpoint.strip()}"


def be_enterprise_number(value):
    """The Belgian enterprise number (EAS 0208: ten digits) of a Belgian VAT or enterprise
    number, or None when the value is not a valid one."""
    try:
        return be_vat.validate(value)
    except Exception:  # noqa: BLE001 - stdnum raises several ValidationError subclasses
        return None
