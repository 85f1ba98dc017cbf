"""The statutory rates the module ships, read from its own data file (no Odoo registry).

``data/ar_dunning_data.xml`` is ``noupdate``: a module update creates the new half-years but leaves the
records it created earlier as they are. :func:`shipped_rates` reads the file so that
``ar.dunning.interest.rate._ar_update_official_rates`` can bring those records up to date (the ones no
user entered or corrected by hand).
"""

from lxml import etree

RATE_MODEL = "ar.dunning.interest.rate"
RATE_FIELDS = ("country_id", "customer_type", "date_from", "date_to", "rate", "legal_basis", "to_check")


def shipped_rates(xml_bytes):
    """``{xmlid: {field: value}}`` of the rate records of a data file.

    ``country_id`` stays an external id ("base.be"), ``rate`` a float, ``to_check`` a bool, dates
    ISO strings.
    """
    rates = {}
    for record in etree.fromstring(xml_bytes).iter("record"):
        if record.get("model") != RATE_MODEL:
            continue
        vals = {}
        for field in record.iter("field"):
            name = field.get("name")
            if name not in RATE_FIELDS:
                continue
            if name == "country_id":
                vals[name] = field.get("ref")
            elif name == "to_check":
                vals[name] = field.get("eval", "False").strip() == "True"
            elif name == "rate":
                vals[name] = float(field.text)
            else:
                vals[name] = (field.text or "").strip()
        rates[record.get("id")] = vals
    return rates
