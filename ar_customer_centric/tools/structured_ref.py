"""Structured payment references (pure functions: a number in, a reference out).

Validation is Odoo's own (`odoo.addons.account.tools.structured_reference`); this module only
builds references from a base number:

* Belgian OGM/VCS ``+++ddd/dddd/ddddd+++``: 10 digits + mod 97 check (97 when the rest is 0);
* ISO 11649 RF creditor reference ``RFcc nnnn ...`` (Odoo's ``format_structured_reference_iso``);
* Dutch betalingskenmerk: 16 digits, 1 check digit (weighted mod 11) + 15 digits.
"""

import re

from odoo.addons.account.tools.structured_reference import format_structured_reference_iso

NL_WEIGHTS = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]


def _digits(base, length):
    digits = re.sub(r"\D", "", str(base))
    if not digits:
        raise ValueError(f"No digits in {base!r}")
    return digits[-length:].rjust(length, "0")


def ogm_reference(base):
    """Belgian structured communication built from the last 10 digits of ``base``."""
    number = _digits(base, 10)
    check = int(number) % 97 or 97
    return f"+++{number[:3]}/{number[3:7]}/{number[7:]}{check:02d}+++"


def rf_reference(base):
    """ISO 11649 creditor reference (RF) built from the alphanumerics of ``base``."""
    payload = re.sub(r"[^0-9A-Za-z]", "", str(base)).upper()[-21:]
    if not payload:
        raise ValueError(f"No alphanumerics in {base!r}")
    return format_structured_reference_iso(payload)


def nl_check_digit(number15):
    """Weighted mod-11 check digit of a 15-digit Dutch payment reference."""
    reverse = number15.zfill(16)[::-1]
    total = sum(int(digit) * NL_WEIGHTS[index % len(NL_WEIGHTS)] for index, digit in enumerate(reverse))
    check = 11 - (total % 11)
    return {11: 0, 10: 1}.get(check, check)


def nl_reference(base):
    """Dutch betalingskenmerk (16 digits) built from the last 15 digits of ``base``."""
    number = _digits(base, 15)
    return f"{nl_check_digit(number)}{number}"


def structured_reference(kind, base):
    """Reference of ``kind`` ('be', 'rf' or 'nl') for ``base``; None for another kind."""
    builder = {"be": ogm_reference, "rf": rf_reference, "nl": nl_reference}.get(kind)
    return builder(base) if builder else None
