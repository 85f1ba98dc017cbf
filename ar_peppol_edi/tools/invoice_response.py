"""Peppol Invoice Response (BIS 3 ApplicationResponse) parsing: pure, no registry."""

from lxml import etree

NS = {
    "ar": "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# Peppol BIS "Invoice Response 3" and "Message Level Response 3" (docs.peppol.eu/poacc/upgrade-3):
# both are UBL ApplicationResponse documents, told apart by their CustomizationID.
INVOICE_RESPONSE_3 = "urn:fdc:peppol.eu:poacc:trns:invoice_response:3"
MLR_3 = "urn:fdc:peppol.eu:poacc:trns:mlr:3"
# an access point may hand over the document as it travelled: inside the Standard Business
# Document envelope (UN/CEFACT SBDH, Peppol Envelope Specification); the business document is its
# one child outside the header's namespace
SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"


def parse_invoice_response(xml):
    """``{"kind": "invoice_response"|"mlr", "invoice": <referenced document number>,
    "code": <UNCL4343 code>, "reason": <text>}``, or None when ``xml`` is not a Peppol
    Invoice Response 3 or Message Level Response 3 with a document response."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if etree.QName(root).namespace == SBDH_NS:
        payload = [el for el in root if isinstance(el.tag, str) and etree.QName(el).namespace != SBDH_NS]
        root = payload[0] if payload else root
    if etree.QName(root).namespace != NS["ar"]:
        return None
    customization = (root.findtext("cbc:CustomizationID", namespaces=NS) or "").strip()
    kind = {INVOICE_RESPONSE_3: "invoice_response", MLR_3: "mlr"}.get(customization)
    if not kind:
        return None
    response = root.find("cac:DocumentResponse", NS)
    if response is None:
        return None
    code = (response.findtext("cac:Response/cbc:ResponseCode", namespaces=NS) or "").strip()
    invoice = (response.findtext("cac:DocumentReference/cbc:ID", namespaces=NS) or "").strip()
    texts = [
        " ".join((el.text or "").split())
        for el in response.findall("cac:Response/cac:Status/cbc:StatusReason", NS)
        + response.findall("cac:Response/cbc:Description", NS)
    ]
    reason = "; ".join(t for t in texts if t) or None
    if not code or not invoice:
        return None
    return {"kind": kind, "invoice": invoice, "code": code.upper(), "reason": reason}


def build_invoice_response(invoice, code, reason=None, issue_date="2026-01-01", response_id="IR-1"):
    """A minimal Peppol Invoice Response 3 (ApplicationResponse) answering ``invoice`` with
    ``code`` (what a buyer's access point forwards; the sandbox connector uses it)."""
    E = "{%s}"
    root = etree.Element(
        E % NS["ar"] + "ApplicationResponse", nsmap={None: NS["ar"], "cac": NS["cac"], "cbc": NS["cbc"]}
    )

    def sub(parent, tag, text=None):
        prefix, name = tag.split(":")
        el = etree.SubElement(parent, E % NS[prefix] + name)
        if text is not None:
            el.text = text
        return el

    sub(root, "cbc:CustomizationID", INVOICE_RESPONSE_3)
    sub(root, "cbc:ProfileID", "urn:fdc:peppol.eu:poacc:bis:invoice_response:3")
    sub(root, "cbc:ID", response_id)
    sub(root, "cbc:IssueDate", issue_date)
    document = sub(root, "cac:DocumentResponse")
    response = sub(document, "cac:Response")
    sub(response, "cbc:ResponseCode", code)
    if reason:
        sub(sub(response, "cac:Status"), "cbc:StatusReason", reason)
    sub(sub(document, "cac:DocumentReference"), "cbc:ID", invoice)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
