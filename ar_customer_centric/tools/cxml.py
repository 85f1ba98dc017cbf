"""cXML 1.2 InvoiceDetailRequest (pure: a dict in, bytes out; bytes in, a status out).

The dict is prepared by ``account.move._ar_cxml_prepare_vals``; this module knows nothing of
the ORM, so it is tested without a registry. Reference: cXML User's Guide 1.2, chapter
"Invoices" (InvoiceDetailRequest, InvoiceDetailRequestHeader, InvoiceDetailOrder,
InvoiceDetailSummary) and "Response/Status".
"""

from lxml import etree

CXML_VERSION = "1.2.014"
DOCTYPE = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/InvoiceDetail.dtd">'

# Outcome of a delivery attempt
OK = "ok"
REJECTED = "rejected"
TRANSIENT = "transient"


def _money(parent, tag, amount, currency):
    node = etree.SubElement(parent, tag) if tag else parent
    money = etree.SubElement(node, "Money", currency=currency)
    money.text = f"{amount:.2f}"
    return node


def _credential(parent, tag, domain, identity, *, secret=None, user_agent=None):
    node = etree.SubElement(parent, tag)
    cred = etree.SubElement(node, "Credential", domain=domain or "NetworkID")
    etree.SubElement(cred, "Identity").text = identity or ""
    if secret is not None:
        etree.SubElement(cred, "SharedSecret").text = secret
    if user_agent:
        etree.SubElement(node, "UserAgent").text = user_agent
    return node


def _contact(parent, role, party, lang):
    partner = etree.SubElement(parent, "InvoicePartner")
    contact = etree.SubElement(partner, "Contact", role=role, addressID=party.get("id") or "")
    etree.SubElement(contact, "Name", {"{http://www.w3.org/XML/1998/namespace}lang": lang}).text = party["name"]
    postal = etree.SubElement(contact, "PostalAddress")
    for line in filter(None, (party.get("street"), party.get("street2"))):
        etree.SubElement(postal, "Street").text = line
    etree.SubElement(postal, "City").text = party.get("city") or ""
    etree.SubElement(postal, "PostalCode").text = party.get("zip") or ""
    etree.SubElement(postal, "Country", isoCountryCode=party.get("country_code") or "").text = (
        party.get("country_name") or ""
    )
    if party.get("email"):
        etree.SubElement(contact, "Email").text = party["email"]
    if party.get("vat"):
        etree.SubElement(partner, "IdReference", domain="vatID", identifier=party["vat"])
    return partner


def _tax(parent, line, currency, lang):
    amount, base, rate = line["tax_amount"], line["subtotal"], line["tax_rate"]
    description = line["tax_description"]
    tax = _money(parent, "Tax", amount, currency)
    etree.SubElement(tax, "Description", {"{http://www.w3.org/XML/1998/namespace}lang": lang}).text = description
    detail = etree.SubElement(tax, "TaxDetail", category="vat", percentageRate=f"{rate:g}")
    _money(detail, "TaxableAmount", base, currency)
    _money(detail, "TaxAmount", amount, currency)
    return tax


def build_invoice_detail_request(vals):
    """The cXML document (bytes, UTF-8, with DOCTYPE) of one invoice or credit note.

    ``vals`` keys: payload_id, timestamp (ISO 8601), lang, deployment_mode, from/to/sender
    ({domain, identity}), shared_secret, user_agent, invoice_id, purpose ('standard' or
    'creditMemo'), invoice_date (ISO 8601), currency, pay_in_days, order_id, remit_to,
    bill_to (party dicts), lines [{number, quantity, uom, unit_price, description, subtotal,
    tax_amount, tax_rate, tax_description}], subtotal, tax_amount, total, due, extrinsics {}.
    """
    lang = vals.get("lang") or "en"
    currency = vals["currency"]
    root = etree.Element(
        "cXML",
        {
            "payloadID": vals["payload_id"],
            "timestamp": vals["timestamp"],
            "version": CXML_VERSION,
            "{http://www.w3.org/XML/1998/namespace}lang": lang,
        },
    )
    header = etree.SubElement(root, "Header")
    _credential(header, "From", vals["from"]["domain"], vals["from"]["identity"])
    _credential(header, "To", vals["to"]["domain"], vals["to"]["identity"])
    _credential(
        header,
        "Sender",
        vals["sender"]["domain"],
        vals["sender"]["identity"],
        secret=vals.get("shared_secret") or "",
        user_agent=vals.get("user_agent") or "Odoo ar_suite",
    )
    request = etree.SubElement(root, "Request", deploymentMode=vals.get("deployment_mode") or "production")
    idr = etree.SubElement(request, "InvoiceDetailRequest")
    idr_header = etree.SubElement(
        idr,
        "InvoiceDetailRequestHeader",
        invoiceID=vals["invoice_id"],
        purpose=vals.get("purpose") or "standard",
        operation="new",
        invoiceDate=vals["invoice_date"],
    )
    etree.SubElement(idr_header, "InvoiceDetailHeaderIndicator")
    etree.SubElement(idr_header, "InvoiceDetailLineIndicator", isTaxInLine="yes")
    _contact(idr_header, "remitTo", vals["remit_to"], lang)
    _contact(idr_header, "billTo", vals["bill_to"], lang)
    if vals.get("pay_in_days") is not None:
        etree.SubElement(idr_header, "PaymentTerm", payInNumberOfDays=str(vals["pay_in_days"]))
    for name, value in (vals.get("extrinsics") or {}).items():
        if value:
            etree.SubElement(idr_header, "Extrinsic", name=name).text = str(value)

    order = etree.SubElement(idr, "InvoiceDetailOrder")
    info = etree.SubElement(order, "InvoiceDetailOrderInfo")
    order_ref = etree.SubElement(info, "OrderReference", orderID=vals.get("order_id") or "")
    etree.SubElement(order_ref, "DocumentReference", payloadID="")
    for line in vals["lines"]:
        item = etree.SubElement(
            order, "InvoiceDetailItem", invoiceLineNumber=str(line["number"]), quantity=f"{line['quantity']:g}"
        )
        etree.SubElement(item, "UnitOfMeasure").text = line.get("uom") or "EA"
        _money(item, "UnitPrice", line["unit_price"], currency)
        ref = etree.SubElement(item, "InvoiceDetailItemReference", lineNumber=str(line["number"]))
        etree.SubElement(ref, "Description", {"{http://www.w3.org/XML/1998/namespace}lang": lang}).text = line[
            "description"
        ]
        _money(item, "SubtotalAmount", line["subtotal"], currency)
        _tax(item, line, currency, lang)
        _money(item, "GrossAmount", line["subtotal"] + line["tax_amount"], currency)
        _money(item, "NetAmount", line["subtotal"] + line["tax_amount"], currency)

    summary = etree.SubElement(idr, "InvoiceDetailSummary")
    _money(summary, "SubtotalAmount", vals["subtotal"], currency)
    tax = _money(summary, "Tax", vals["tax_amount"], currency)
    etree.SubElement(tax, "Description", {"{http://www.w3.org/XML/1998/namespace}lang": lang}).text = "VAT"
    _money(summary, "GrossAmount", vals["total"], currency)
    _money(summary, "NetAmount", vals["total"], currency)
    _money(summary, "DueAmount", vals["due"], currency)

    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + DOCTYPE.encode() + b"\n" + body


def parse_status(body):
    """(code, text, detail) of a cXML ``Response/Status``; (None, '', '') if unreadable."""
    if not body:
        return None, "", ""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None, "", ""
    status = root.find("./Response/Status")
    if status is None:
        return None, "", ""
    try:
        code = int(status.get("code"))
    except (TypeError, ValueError):
        code = None
    return code, status.get("text") or "", (status.text or "").strip()


def classify(http_status, cxml_code):
    """OK, REJECTED (do not retry) or TRANSIENT (retry later) for an answer.

    ``http_status`` None means no answer (time-out, connection refused). A cXML status code
    wins over the HTTP status: networks often answer HTTP 200 with a cXML 4xx/5xx status.
    """
    code = cxml_code or http_status
    if code is None:
        return TRANSIENT
    if 200 <= code < 300:
        return OK
    if code >= 500 or code in (408, 429):
        return TRANSIENT
    return REJECTED


def backoff_minutes(attempt):
    """Minutes to wait before retry ``attempt`` (1-based): 5, 15, 45, 135, 405."""
    return 5 * 3 ** max(attempt - 1, 0)
