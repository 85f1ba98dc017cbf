"""Syntax check of a VAT number with python-stdnum (no registry, no network)."""

from stdnum.eu.vat import MEMBER_STATES
from stdnum.util import get_cc_module

# VAT prefixes that are not the ISO country code
PREFIX_COUNTRY = {"el": "gr", "xi": "gb"}


def _parts(vat, country_code=None):
    compact = "".join(ch for ch in (vat or "") if ch.isalnum()).upper()
    prefix = compact[:2].lower()
    if prefix.isalpha():
        return compact, prefix
    return compact, (country_code or "").lower()


def vat_syntax(vat, country_code=None):
    """``""`` without VAT number, else ``valid``, ``invalid`` or ``unknown`` (python-stdnum has no rule).

    The country is the number's prefix (BE0477472701), else ``country_code`` (the partner's country).
    """
    compact, prefix = _parts(vat, country_code)
    if not compact:
        return ""
    country = PREFIX_COUNTRY.get(prefix, prefix)
    module = get_cc_module(country, "vat") if country.isalpha() and len(country) == 2 else None
    if module is None:
        return "unknown"
    return "valid" if module.is_valid(compact) else "invalid"


def is_eu_vat(vat, country_code=None):
    """True for a number of an EU member state (what VIES can confirm)."""
    _compact, prefix = _parts(vat, country_code)
    return prefix in MEMBER_STATES or prefix == "el"
