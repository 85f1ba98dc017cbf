"""cXML 1.2 InvoiceDetailRequest (pure: a dict in, bytes out; bytes in, a status out).

The dict is prepared by ``account.move._ar_cxml_prepare_vals``; this module knows nothing of
the ORM, so it is tested without a registry. References, cited next to the code they rule:

- [UG] cXML User's Guide / Reference Guide 1.2, chapter "Invoices" (InvoiceDetailRequest) and
  "Attachments"; the InvoiceDetail DTDs 1.2.020 and 1.2.037 (comments in the DTD are the spec).
- [ANSTATUS] SAP Ariba support note KB0402515 (188136) "List of cXML Status Codes".
- [ANORDER] SAP Ariba support note KB0392737: the two documented ways of referencing a PO
  (OrderReference with the PO's DocumentReference, or OrderIDInfo with orderID and orderDate).
- [ANERR] SAP Ariba FAQ KB0394765 (159355) "Invoice error messages" (INVOICE_DUPLICATE ...).
- [COUPA-ERR] Coupa Compass "Invoice cXML Transmission Error Codes" and "cXML Error Handling /
  Unexpected server error" (a validation error is answered 500; 417 for a reused invoice number).
- [COUPA-CM] Coupa Compass "8. Create PO-backed Credit Memo": a creditMemo has positive
  quantities and prices and passes the original invoice number.
- [COUPA-CONTRACT] Coupa Compass "Sample cXML Invoice Backed by Contract":
  MasterAgreementReference/DocumentReference payloadID = contract number.
- [COUPA-ATT] Coupa Compass "Add an Encoded Attachment to a cXML Invoice": multipart/related,
  type=text/xml, start=<cXML part>, CRLF line ends, attachment parts Base64, Comments/Attachment/URL cid:.
"""

import base64
import contextlib
import ipaddress
import math
import re
import socket
from urllib.parse import urlsplit

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ARIBA, COUPA, GENERIC = "ariba", "coupa", "generic"
# [COUPA-ERR] code 450: Coupa supports 1.2.xxx, its examples use 1.2.020/InvoiceDetail.dtd.
# Ariba and generic networks get the newer 1.2.037 (TaxExemption, exemptDetail).
VERSIONS = {ARIBA: "1.2.037", COUPA: "1.2.020", GENERIC: "1.2.037"}

# Outcome of a delivery attempt
DELIVERED = "sent"  # a cXML Status 200 was read
PENDING = "pending"  # 201 Accepted: a StatusUpdateRequest will follow [ANSTATUS]
REJECTED = "failed"  # final: correct the invoice, it gets a new payloadID
TRANSIENT = "retry"  # retry the same payloadID later
CHECK = "check"  # unknown outcome (duplicate after a time-out): a person must look


LOOPBACK_NAMES = ("localhost",)


def is_loopback(host):
    """True for a loopback host: ``localhost`` or an address literal of 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_url(url):
    """(problem or None, host, port, scheme) of an endpoint URL.

    https, or plain http to a loopback host only (as RFC 8252 section 7.3 allows for loopback
    redirects): a request to 127.0.0.1/::1 never leaves the machine, so nothing travels in clear
    on a network; any other host must be https.
    """
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:
        return "host", None, None, None
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        return "scheme", host, port, parts.scheme
    if not host:
        return "host", host, port, parts.scheme
    if parts.username or parts.password:
        return "userinfo", host, port, parts.scheme
    return None, host, port, parts.scheme


def _addresses(host, port, resolve):
    """IP addresses of ``host`` (resolved only when ``resolve``); None when it cannot be resolved."""
    with contextlib.suppress(ValueError):  # a name, not an address literal
        return [ipaddress.ip_address(host)]
    if not resolve:
        return []
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _plain_http_problem(host, port):
    """None when every address of ``host`` is loopback (plain http stays on the machine), else 'scheme'
    (or 'resolve' when the name is unknown): ``localhost`` must not resolve anywhere else."""
    addresses = _addresses(host, port, resolve=True)
    if addresses is None:
        return "resolve"
    return None if addresses and all(address.is_loopback for address in addresses) else "scheme"


def endpoint_problem(url, allow_internal=False, resolve=False):
    """None, or why ``url`` may not receive an invoice: 'scheme' (not https, or http to a host that is
    not loopback), 'host', 'userinfo', 'internal' (loopback, private, link-local ... address) or
    'resolve' (unknown host).

    A loopback endpoint is internal: even over http it needs ``allow_internal`` (the administrator's
    consent). Over http, a host name (``localhost``) must also resolve to loopback addresses only.
    """
    problem, host, port, scheme = _split_url(url)
    if problem:
        return problem
    if allow_internal:
        return _plain_http_problem(host, port) if scheme == "http" and resolve else None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "internal"
    addresses = _addresses(host, port, resolve)
    if addresses is None:
        return "resolve"
    return "internal" if any(not address.is_global for address in addresses) else None


def doctype(version):
    return f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{version}/InvoiceDetail.dtd">'


def _fmt(amount, decimals):
    """Money text with the currency's decimals ([UG] Money is a number in the currency's unit)."""
    return f"{amount:.{decimals}f}"


def _money(parent, tag, amount, vals):
    node = etree.SubElement(parent, tag) if tag else parent
    money = etree.SubElement(node, "Money", currency=vals["currency"])
    money.text = _fmt(amount, vals["decimals"])
    return node


def _description(parent, text, lang):
    node = etree.SubElement(parent, "Description", {XML_LANG: lang})
    node.text = text or ""
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
    etree.SubElement(contact, "Name", {XML_LANG: lang}).text = party["name"]
    streets = [line for line in (party.get("street"), party.get("street2")) if line]
    # DTD: PostalAddress (DeliverTo*, Street+, City, State?, PostalCode?, Country)
    if streets and party.get("city") and party.get("country_code"):
        postal = etree.SubElement(contact, "PostalAddress")
        for line in streets:
            etree.SubElement(postal, "Street").text = line
        etree.SubElement(postal, "City").text = party["city"]
        if party.get("zip"):
            etree.SubElement(postal, "PostalCode").text = party["zip"]
        etree.SubElement(postal, "Country", isoCountryCode=party["country_code"]).text = party.get("country_name") or ""
    if party.get("email"):
        etree.SubElement(contact, "Email").text = party["email"]
    if party.get("vat"):
        etree.SubElement(partner, "IdReference", domain="vatID", identifier=party["vat"])
    return partner


def _tax_detail(parent, detail, vals):
    """One TaxDetail per tax ([UG] "the breakdown of taxes ... in separate TaxDetail elements")."""
    attrs = {"purpose": "tax", "category": detail["category"], "percentageRate": f"{detail['rate']:g}"}
    if detail.get("tax_point_date"):
        attrs["taxPointDate"] = detail["tax_point_date"]
    new_dtd = vals["version"] >= "1.2.037"
    if detail.get("exempt") and new_dtd:
        # DTD 1.2.037 TaxDetail/@exemptDetail: "If the TaxAmount is zero, VAT or other regulations may
        # require a reason why. zeroRated means the tax rate is zero. exempt means ... exempt".
        attrs["exemptDetail"] = detail["exempt"]
    node = etree.SubElement(parent, "TaxDetail", attrs)
    _money(node, "TaxableAmount", detail["base"], vals)
    _money(node, "TaxAmount", detail["amount"], vals)
    # EU VAT Directive 2006/112/EC art. 226 (11) and (11a): the exemption provision or
    # "Reverse charge" must be stated; the Description carries it in every DTD version.
    _description(node, detail.get("reason") or detail["description"], vals["lang"])
    if detail.get("exempt_code") and new_dtd:
        exemption = etree.SubElement(node, "TaxExemption", exemptCode=detail["exempt_code"])
        etree.SubElement(exemption, "ExemptReason", {XML_LANG: vals["lang"]}).text = detail.get("reason") or ""
    return node


def _tax(parent, amount, details, vals, description):
    tax = _money(parent, "Tax", amount, vals)
    _description(tax, description, vals["lang"])
    for detail in details:
        _tax_detail(tax, detail, vals)
    return tax


def _order_info(order, vals):
    """InvoiceDetailOrderInfo in the variant the network documents."""
    info = etree.SubElement(order, "InvoiceDetailOrderInfo")
    ref = vals["order"]
    network = vals["network"]
    po, contract = ref.get("po"), ref.get("contract")
    if network == COUPA:
        if po:
            # [COUPA-CM] "DocumentReference payloadID is a Coupa PO"
            node = etree.SubElement(info, "OrderReference", orderID=po)
            etree.SubElement(node, "DocumentReference", payloadID=po)
        else:
            # [COUPA-CONTRACT] payloadID is the contract number
            node = etree.SubElement(info, "MasterAgreementReference")
            etree.SubElement(node, "DocumentReference", payloadID=contract)
        return info
    if po and ref.get("po_payload_id"):
        # [ANORDER] option 1: OrderReference with the PO document's payloadID
        node = etree.SubElement(info, "OrderReference", orderID=po)
        etree.SubElement(node, "DocumentReference", payloadID=ref["po_payload_id"])
        if contract:
            etree.SubElement(info, "MasterAgreementIDInfo", agreementID=contract)
    elif contract:
        etree.SubElement(info, "MasterAgreementIDInfo", agreementID=contract)
        if po:
            etree.SubElement(info, "OrderIDInfo", _order_id_attrs(ref))
    elif po:
        # [ANORDER] option 2: OrderIDInfo orderID + orderDate
        etree.SubElement(info, "OrderIDInfo", _order_id_attrs(ref))
    else:
        # generic network without a buyer order: our own order number, never an empty orderID
        etree.SubElement(info, "SupplierOrderInfo", orderID=ref["supplier_order"])
    return info


def _order_id_attrs(ref):
    attrs = {"orderID": ref["po"]}
    if ref.get("po_date"):
        attrs["orderDate"] = ref["po_date"]
    return attrs


def build_invoice_detail_request(vals):
    """The cXML document (bytes, UTF-8, with DOCTYPE) of one invoice or credit note.

    ``vals`` keys: network, version, payload_id, timestamp (ISO 8601), lang, deployment_mode,
    from/to/sender ({domain, identity}), shared_secret, user_agent, invoice_id, purpose,
    invoice_date, currency, decimals, pay_in_days, remit_to/bill_to (party dicts), order
    {po, po_date, po_payload_id, contract, supplier_order}, original_invoice {id, date, payload_id}
    or None, attachment_cid or None, lines [{number, po_line, quantity, uom, unit_price,
    supplier_part, description, subtotal, tax_amount, taxes [detail]}], tax_summary [detail],
    subtotal, tax_amount, total, due, extrinsics {}. Amounts are already signed as the network's
    credit-memo shape wants them.
    """
    lang = vals["lang"]
    version = vals["version"]
    root = etree.Element(
        "cXML",
        {"payloadID": vals["payload_id"], "timestamp": vals["timestamp"], "version": version, XML_LANG: lang},
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
        purpose=vals["purpose"],
        operation="new",
        invoiceDate=vals["invoice_date"],
    )
    etree.SubElement(idr_header, "InvoiceDetailHeaderIndicator")
    etree.SubElement(idr_header, "InvoiceDetailLineIndicator", isTaxInLine="yes")
    _contact(idr_header, "remitTo", vals["remit_to"], lang)
    _contact(idr_header, "billTo", vals["bill_to"], lang)
    original = vals.get("original_invoice")
    if original:
        # DTD order: InvoicePartner*, DocumentReference?, InvoiceIDInfo?, ... PaymentTerm*, Comments?, Extrinsic*
        # [COUPA-CM] the credit memo passes the original invoice number; [UG] DocumentReference is
        # the payloadID of the referenced document when we sent it by cXML.
        if original.get("payload_id"):
            etree.SubElement(idr_header, "DocumentReference", payloadID=original["payload_id"])
        etree.SubElement(idr_header, "InvoiceIDInfo", invoiceID=original["id"], invoiceDate=original["date"])
    if vals.get("pay_in_days") is not None:
        etree.SubElement(idr_header, "PaymentTerm", payInNumberOfDays=str(vals["pay_in_days"]))
    if vals.get("attachment_cid"):
        # [UG] Attachments / [COUPA-ATT]: Comments/Attachment/URL "cid:<Content-ID of the MIME part>"
        comments = etree.SubElement(idr_header, "Comments", {XML_LANG: lang})
        comments.text = vals.get("attachment_name") or ""
        attachment = etree.SubElement(comments, "Attachment")
        etree.SubElement(attachment, "URL").text = f"cid:{vals['attachment_cid']}"
    for name, value in (vals.get("extrinsics") or {}).items():
        if value:
            etree.SubElement(idr_header, "Extrinsic", name=name).text = str(value)

    order = etree.SubElement(idr, "InvoiceDetailOrder")
    _order_info(order, vals)
    for line in vals["lines"]:
        item = etree.SubElement(
            order, "InvoiceDetailItem", invoiceLineNumber=str(line["number"]), quantity=f"{line['quantity']:g}"
        )
        etree.SubElement(item, "UnitOfMeasure").text = line["uom"]
        money = etree.SubElement(etree.SubElement(item, "UnitPrice"), "Money", currency=vals["currency"])
        money.text = f"{line['unit_price']:.{line.get('price_decimals', vals['decimals'])}f}"
        ref = etree.SubElement(item, "InvoiceDetailItemReference", lineNumber=str(line["po_line"] or line["number"]))
        if line.get("supplier_part"):
            etree.SubElement(etree.SubElement(ref, "ItemID"), "SupplierPartID").text = line["supplier_part"]
        _description(ref, line["description"], lang)
        _money(item, "SubtotalAmount", line["subtotal"], vals)
        _tax(item, line["tax_amount"], line["taxes"], vals, line.get("tax_description") or "VAT")
        _money(item, "GrossAmount", line["subtotal"] + line["tax_amount"], vals)
        _money(item, "NetAmount", line["subtotal"] + line["tax_amount"], vals)

    summary = etree.SubElement(idr, "InvoiceDetailSummary")
    _money(summary, "SubtotalAmount", vals["subtotal"], vals)
    _tax(summary, vals["tax_amount"], vals["tax_summary"], vals, "VAT")
    _money(summary, "GrossAmount", vals["total"], vals)
    _money(summary, "NetAmount", vals["total"], vals)
    _money(summary, "DueAmount", vals["due"], vals)

    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype(version).encode() + b"\n" + body


def check_totals(vals):
    """Reasons why the lines do not add up to the summary (empty: they do). Amounts in vals."""
    unit = 10 ** -vals["decimals"]
    problems = []
    lines = vals["lines"]

    def differs(a, b, tolerance=unit / 2):
        return not math.isclose(a, b, abs_tol=tolerance + 1e-9)

    for line in lines:
        if differs(
            line["quantity"] * line["unit_price"], line["subtotal"], tolerance=unit * max(1, abs(line["quantity"]))
        ):
            problems.append(("line_price", line["number"]))
        if differs(sum(d["amount"] for d in line["taxes"]), line["tax_amount"]):
            problems.append(("line_tax", line["number"]))
    if differs(sum(line["subtotal"] for line in lines), vals["subtotal"]):
        problems.append(("subtotal", None))
    if differs(sum(d["amount"] for d in vals["tax_summary"]), vals["tax_amount"]):
        problems.append(("tax_summary", None))
    if differs(sum(line["tax_amount"] for line in lines), vals["tax_amount"]):
        problems.append(("tax", None))
    if differs(vals["subtotal"] + vals["tax_amount"], vals["total"]):
        problems.append(("total", None))
    return problems


def multipart_related(document, attachment, attachment_cid, boundary):
    """(body, content type) of the cXML document with one attachment, as [UG] Attachments and
    [COUPA-ATT] document: multipart/related; type="text/xml"; start=<cXML part Content-ID>; CRLF;
    the attachment Base64-encoded."""
    cxml_cid = f"cxml-{attachment_cid}"
    crlf = b"\r\n"
    encoded = base64.encodebytes(attachment["raw"]).replace(b"\n", crlf)
    parts = [
        b"--" + boundary.encode(),
        b"Content-Type: text/xml; charset=UTF-8",
        f"Content-ID: <{cxml_cid}>".encode(),
        b"",
        document,
        b"--" + boundary.encode(),
        f"Content-Type: {attachment['mimetype']}".encode(),
        b"Content-Transfer-Encoding: base64",
        f"Content-ID: <{attachment_cid}>".encode(),
        f'Content-Disposition: attachment; filename="{attachment["name"]}"'.encode(),
        b"",
        encoded.rstrip(crlf),
        b"--" + boundary.encode() + b"--",
        b"",
    ]
    content_type = f'multipart/related; boundary="{boundary}"; type="text/xml"; start="<{cxml_cid}>"'
    return crlf.join(parts), content_type


def parse_status(body):
    """(code, text, detail) of a cXML ``Response/Status``; (None, '', '') if unreadable.

    An empty body, an HTML page or XML without ``Response/Status`` is unreadable: it is never an
    acceptance ([ANSTATUS]: the answer to a Request is a cXML Response with a Status).
    """
    if not body or not body.lstrip().startswith(b"<"):
        return None, "", ""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return None, "", ""
    status = root.find("./Response/Status") if root.tag == "cXML" else None
    if status is None:
        return None, "", ""
    try:
        code = int(status.get("code"))
    except (TypeError, ValueError):
        code = None
    return code, status.get("text") or "", (status.text or "").strip()


def parse_status_update(body):
    """(payloadID of the referenced document, code, text, detail) of a StatusUpdateRequest
    ([UG] StatusUpdateRequest: DocumentReference payloadID + Status); None when it is not one."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except (etree.XMLSyntaxError, ValueError):
        return None
    update = root.find("./Request/StatusUpdateRequest") if root.tag == "cXML" else None
    if update is None:
        return None
    reference = update.find("./DocumentReference")
    status = update.find("./Status")
    if reference is None or status is None:
        return None
    try:
        code = int(status.get("code"))
    except (TypeError, ValueError):
        return None
    return reference.get("payloadID") or "", code, status.get("text") or "", (status.text or "").strip()


def status_response(code, text, payload_id, timestamp):
    """Our cXML Response to a network's request ([UG] Response/Status)."""
    root = etree.Element("cXML", payloadID=payload_id, timestamp=timestamp)
    response = etree.SubElement(root, "Response")
    etree.SubElement(response, "Status", code=str(code), text=text)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


DUPLICATE_RE = re.compile(r"duplicate|already (been )?(received|used|exists)", re.IGNORECASE)


def classify(network, http_status, cxml_code, text="", *, after_timeout=False):
    """DELIVERED, PENDING, REJECTED, TRANSIENT or CHECK for an answer.

    ``http_status`` None means no answer (time-out, connection refused). Only a cXML Status that
    was read decides an acceptance: an HTTP 2xx with an empty body or an HTML page is not one.
    """
    if http_status is None:
        return TRANSIENT
    if 300 <= http_status < 400:
        return REJECTED  # redirects are never followed: the shared secret stays with the endpoint
    duplicate = bool(text and DUPLICATE_RE.search(text))
    if cxml_code is None:
        return _classify_http(http_status, duplicate, after_timeout)
    return _classify_cxml(network, cxml_code, duplicate, after_timeout)


def _classify_http(http_status, duplicate, after_timeout):
    """An answer without a readable cXML Status."""
    if duplicate and 400 <= http_status < 500:
        # [COUPA-ERR] 417 "the invoice number has already been used"
        return CHECK if after_timeout else REJECTED
    if http_status in (408, 429) or http_status >= 500:
        return TRANSIENT
    # a 4xx is final; a 2xx without cXML Status (empty, HTML page) is no acceptance: retried
    return REJECTED if 400 <= http_status < 500 else TRANSIENT


def _classify_cxml(network, code, duplicate, after_timeout):
    if code == 200:
        return DELIVERED
    if code in (201, 280, 281):
        return PENDING  # [ANSTATUS]: 201 "expect later StatusUpdate transactions", 280/281 forwarded
    if duplicate:
        # [ANERR] INVOICE_DUPLICATE / [COUPA-ERR] 417: after our own time-out the first attempt may
        # well have arrived - a person checks; without a time-out it is a real duplicate.
        return CHECK if after_timeout else REJECTED
    # [ANSTATUS] 5xx: temporary, retry later - except Coupa's 500, its answer to a failed
    # validation ([COUPA-ERR] "Unexpected server error"), which is final. 204 etc. accept nothing.
    transient = code in (408, 429) or (code >= 500 and not (network == COUPA and code == 500))
    return TRANSIENT if transient else REJECTED


def backoff_minutes(attempt):
    """Minutes to wait before retry ``attempt`` (1-based): 5, 15, 45, 135, 405."""
    return 5 * 3 ** max(attempt - 1, 0)
