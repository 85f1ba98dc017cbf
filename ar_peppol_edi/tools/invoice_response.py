"""Peppol Invoice Response (BIS 3 ApplicationResponse) parsing: pure, no registry."""

from lxml import etree

NS = {
    "ar": "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_invoice_response(xml):
    """``{"invoice": <referenced invoice number>, "code": <UNCL4343 code>, "reason": <text>}``,
    or None when ``xml`` is not an ApplicationResponse with a document response."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if etree.QName(root).namespace != NS["ar"]:
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
    return {"invoice": invoice, "code": code.upper(), "reason": reason}
