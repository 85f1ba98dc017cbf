"""Input of the golden cXML samples (tests/cxml_samples/*.xml).

Modelled on the networks' documented examples (our own data, their structure):
- Ariba: PO-based invoice with OrderIDInfo (SAP Ariba KB0392737, option 2), SupplierPartID and
  PO line numbers; credit note as lineLevelCreditMemo with negative quantities and amounts.
- Coupa: PO-backed invoice (OrderReference orderID + DocumentReference payloadID = PO number,
  Coupa Compass "8. Create PO-backed Credit Memo"), contract-backed credit memo with positive
  amounts and the original invoice number (same page; "Sample cXML Invoice Backed by Contract").
- Generic: an invoice without a buyer order (SupplierOrderInfo) with an intra-Community exempt line.
"""

import copy

PARTY_SUPPLIER = {
    "id": "SUP-1",
    "name": "Supplier BV",
    "street": "Kerkstraat 1",
    "city": "Gent",
    "zip": "9000",
    "country_code": "BE",
    "country_name": "Belgium",
    "email": "billing@supplier.example",
    "vat": "BE0477472701",
}
PARTY_BUYER = {
    "id": "BUY-1",
    "name": "Buyer AG",
    "street": "Hauptstrasse 5",
    "city": "Berlin",
    "zip": "10115",
    "country_code": "DE",
    "country_name": "Germany",
    "email": "ap@buyer.example",
    "vat": "DE123456789",
}


def _vat(rate, base, amount, **extra):
    return {
        "category": "vat",
        "rate": rate,
        "base": base,
        "amount": amount,
        "description": f"VAT {rate}%",
        "tax_point_date": "2026-11-30T00:00:00+00:00",
        **extra,
    }


BASE = {
    "payload_id": "1733050000.42@supplier.example",
    "timestamp": "2026-12-01T09:00:00+00:00",
    "lang": "en-US",
    "deployment_mode": "production",
    "from": {"domain": "NetworkID", "identity": "AN01000000001"},
    "to": {"domain": "NetworkID", "identity": "AN01000000002"},
    "sender": {"domain": "NetworkID", "identity": "AN01000000001"},
    "shared_secret": "abracadabra",
    "user_agent": "Odoo ar_suite",
    "invoice_id": "INV/2026/00042",
    "purpose": "standard",
    "invoice_date": "2026-12-01T00:00:00+00:00",
    "currency": "EUR",
    "decimals": 2,
    "pay_in_days": 30,
    "remit_to": PARTY_SUPPLIER,
    "bill_to": PARTY_BUYER,
    "original_invoice": None,
    "extrinsics": {"PaymentReference": "+++090/9337/55493+++"},
    "lines": [
        {
            "number": 1,
            "po_line": 10,
            "quantity": 3,
            "uom": "HUR",
            "unit_price": 90.0,
            "supplier_part": "CONS-H",
            "description": "Consulting",
            "subtotal": 270.0,
            "tax_amount": 56.7,
            "taxes": [_vat(21, 270.0, 56.7)],
        },
        {
            "number": 2,
            "po_line": 20,
            "quantity": 2,
            "uom": "C62",
            "unit_price": 25.0,
            "supplier_part": "CABLE-2M",
            "description": "Cable 2 m",
            "subtotal": 50.0,
            "tax_amount": 10.5,
            "taxes": [_vat(21, 50.0, 10.5)],
        },
    ],
    "tax_summary": [_vat(21, 320.0, 67.2)],
    "subtotal": 320.0,
    "tax_amount": 67.2,
    "total": 387.2,
    "due": 387.2,
}


def _negated(vals, purpose):
    vals["purpose"] = purpose
    for line in vals["lines"]:
        for key in ("quantity", "subtotal", "tax_amount"):
            line[key] = -line[key]
        for tax in line["taxes"]:
            tax["base"], tax["amount"] = -tax["base"], -tax["amount"]
    for tax in vals["tax_summary"]:
        tax["base"], tax["amount"] = -tax["base"], -tax["amount"]
    for key in ("subtotal", "tax_amount", "total", "due"):
        vals[key] = -vals[key]
    return vals


def samples():
    """{file name: vals} of every golden sample."""
    ariba = dict(copy.deepcopy(BASE), network="ariba", version="1.2.037")
    ariba["order"] = {
        "po": "4500012345",
        "po_date": "2026-11-02T00:00:00+00:00",
        "contract": "",
        "supplier_order": "S00042",
    }
    ariba_cm = _negated(copy.deepcopy(ariba), "lineLevelCreditMemo")
    ariba_cm.update(invoice_id="RINV/2026/00007", payload_id="1733050001.43@supplier.example")
    ariba_cm["original_invoice"] = {
        "id": "INV/2026/00042",
        "date": "2026-12-01T00:00:00+00:00",
        "payload_id": "1733050000.42@supplier.example",
    }
    coupa = dict(copy.deepcopy(BASE), network="coupa", version="1.2.020")
    coupa["order"] = {"po": "2334", "po_date": None, "contract": "", "supplier_order": "S00042"}
    coupa_cm = dict(copy.deepcopy(coupa), purpose="creditMemo", invoice_id="RINV/2026/00008")
    coupa_cm["order"] = {"po": "", "po_date": None, "contract": "2257", "supplier_order": "S00042"}
    coupa_cm["original_invoice"] = {
        "id": "INV/2026/00042",
        "date": "2026-12-01T00:00:00+00:00",
        "payload_id": "INV/2026/00042",
    }
    generic = dict(copy.deepcopy(BASE), network="generic", version="1.2.037")
    generic["order"] = {"po": "", "po_date": None, "contract": "", "supplier_order": "S00042"}
    exempt = {
        "category": "vat",
        "rate": 0,
        "base": 50.0,
        "amount": 0.0,
        "description": "VAT 0% IC",
        "tax_point_date": "2026-11-30T00:00:00+00:00",
        "exempt": "exempt",
        "exempt_code": "VATEX-EU-IC",
        "reason": "VATEX-EU-IC - Intra-Community supply",
    }
    generic["lines"][1].update(tax_amount=0.0, taxes=[exempt], po_line=None)
    generic["tax_summary"] = [_vat(21, 270.0, 56.7), dict(exempt)]
    generic.update(tax_amount=56.7, total=376.7, due=376.7)
    generic["attachment_cid"] = "0f1e2d3c@invoice.pdf"
    generic["attachment_name"] = "INV_2026_00042.pdf"
    return {
        "ariba_invoice.xml": ariba,
        "ariba_credit_memo.xml": ariba_cm,
        "coupa_invoice.xml": coupa,
        "coupa_credit_memo.xml": coupa_cm,
        "generic_invoice.xml": generic,
    }
