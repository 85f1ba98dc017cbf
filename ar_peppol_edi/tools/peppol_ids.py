"""Peppol participant identifiers: pure helpers (no Odoo registry).

- :func:`check_endpoint` checks an endpoint against its EAS scheme with python-stdnum
  where the scheme is known, and returns the normalised value;
- :func:`suggest_endpoint` derives an (EAS, endpoint) pair from a VAT or registry number;
- :func:`naptr_domain` computes the SML DNS name (BDXL/NAPTR scheme, Nov 2025 onwards).
"""

import base64
import hashlib
import re

from stdnum import ean
from stdnum.be import vat as be_vat
from stdnum.de import vat as de_vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siren, siret
from stdnum.fr import tva as fr_tva
from stdnum.lu import tva as lu_tva
from stdnum.nl import btw as nl_btw

PARTICIPANT_SCHEME = "iso6523-actorid-upis"
# OpenPeppol operates the SML since 2026 (the European Commission's edelivery.tech.ec.europa.eu
# zones are retired): production and test (SMK) DNS zones
SML_ZONE_PRODUCTION = "participant.sml.prod.tech.peppol.org"
SML_ZONE_TEST = "participant.sml.test.tech.peppol.org"

BIS3_INVOICE_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BIS3_CREDIT_NOTE_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BIS3_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
DOCTYPE_SCHEME = "busdox-docid-qns"


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


def _vat_with_prefix(module, prefix):
    def check(value):
        return prefix + module.validate(value)

    return check


def _digits(count):
    def check(value):
        value = re.sub(r"[\s.\-]", "", value)
        if not (len(value) == count and value.isdigit()):
            raise ValidationError()
        return value

    return check


def _gln(value):
    value = ean.validate(value)
    if len(value) != 13:
        raise ValidationError()
    return value


# EAS code -> (label, validator returning the normalised endpoint or raising ValidationError)
SCHEMES = {
    "0208": ("Belgian enterprise number (KBO/BCE)", be_vat.validate),
    "9925": ("Belgian VAT number", _vat_with_prefix(be_vat, "BE")),
    "0106": ("Dutch KvK number", _digits(8)),
    "0190": ("Dutch OIN", _digits(20)),
    "9944": ("Dutch VAT number", _vat_with_prefix(nl_btw, "NL")),
    "9930": ("German VAT number", _vat_with_prefix(de_vat, "DE")),
    "0009": ("French SIRET", siret.validate),
    "0002": ("French SIREN", siren.validate),
    "9957": ("French VAT number", _vat_with_prefix(fr_tva, "FR")),
    "9938": ("Luxembourg VAT number", _vat_with_prefix(lu_tva, "LU")),
    "0088": ("GLN (GS1 global location number)", _gln),
}


def check_endpoint(eas, endpoint):
    """Check ``endpoint`` for the EAS scheme ``eas``.

    Returns ``(normalised, None)`` when valid or when the scheme is not one we can check,
    ``(None, label)`` when python-stdnum says the value is not a valid ``label``.
    """
    endpoint = (endpoint or "").strip()
    scheme = SCHEMES.get(eas)
    if not scheme or not endpoint:
        return endpoint, None
    label, validator = scheme
    try:
        return validator(endpoint), None
    except (ValidationError, ValueError):
        return None, label


def suggest_endpoint(country_code, vat=None, registry=None):
    """The (EAS, endpoint) a partner most likely uses on Peppol, derived from its VAT or
    registry number, or ``(None, None)`` when nothing valid can be derived."""
    country_code = (country_code or "").upper()
    vat = (vat or "").strip()
    registry = (registry or "").strip()
    candidates = {
        "BE": [("0208", registry), ("0208", vat)],
        "NL": [("0106", registry), ("0190", registry), ("9944", vat)],
        "DE": [("9930", vat)],
        "FR": [("0009", registry), ("0002", registry), ("9957", vat)],
        "LU": [("9938", vat)],
    }.get(country_code, [])
    for eas, value in candidates:
        if value:
            endpoint, error = check_endpoint(eas, value)
            if endpoint and not error:
                return eas, endpoint
    return None, None


def naptr_domain(eas, endpoint, zone=SML_ZONE_PRODUCTION, scheme=PARTICIPANT_SCHEME):
    """The DNS name holding the participant's NAPTR record (Peppol SML, BDXL scheme):
    ``base32(sha256(lower("<eas>:<endpoint>")))`` without padding, then the scheme and the zone."""
    value = f"{eas}:{endpoint.strip()}".lower()
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    label = base64.b32encode(digest).decode("ascii").rstrip("=")
    return f"{label}.{scheme}.{zone}"


def smp_url_from_naptr(regexp):
    """The SMP base URL of a NAPTR U-NAPTR regexp field such as ``!^.*$!https://smp.example/!``."""
    if not regexp:
        return None
    regexp = regexp.decode() if isinstance(regexp, bytes) else regexp
    delimiter = regexp[0]
    parts = regexp.split(delimiter)
    if len(parts) < 3 or not parts[2].startswith(("http://", "https://")):
        return None
    return parts[2].rstrip("/")
