from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.ar_peppol_edi.tools.invoice_response import build_invoice_response, parse_invoice_response

from .common import PeppolCommon

RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:invoice_response:3</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:invoice_response:3</cbc:ProfileID>
  <cbc:ID>IMR-1</cbc:ID>
  <cbc:IssueDate>2026-01-20</cbc:IssueDate>
  <cac:DocumentResponse>
    <cac:Response>
      <cbc:ResponseCode>{code}</cbc:ResponseCode>
      <cac:Status><cbc:StatusReasonCode listID="OPStatusReason">REF</cbc:StatusReasonCode>
        <cbc:StatusReason>{reason}</cbc:StatusReason></cac:Status>
    </cac:Response>
    <cac:DocumentReference><cbc:ID>{invoice}</cbc:ID><cbc:DocumentTypeCode>380</cbc:DocumentTypeCode></cac:DocumentReference>
  </cac:DocumentResponse>
</ApplicationResponse>"""


@tagged("post_install", "-at_install")
class TestInvoiceResponse(PeppolCommon):
    def test_parse(self):
        xml = RESPONSE.format(code="RE", reason="PO &amp; price   differ", invoice="INV/1").encode()
        self.assertEqual(
            parse_invoice_response(xml),
            {"kind": "invoice_response", "invoice": "INV/1", "code": "RE", "reason": "PO & price differ"},
        )
        self.assertIsNone(parse_invoice_response(b"<Invoice/>"))
        self.assertIsNone(parse_invoice_response(b"not xml"))
        # the CustomizationID tells an Invoice Response from a Message Level Response; others: None
        mlr = xml.replace(b"trns:invoice_response:3", b"trns:mlr:3")
        self.assertEqual(parse_invoice_response(mlr)["kind"], "mlr")
        self.assertIsNone(parse_invoice_response(xml.replace(b"trns:invoice_response:3", b"trns:other:1")))
        built = build_invoice_response("INV/2", "CA", "if delivered by Friday")
        self.assertEqual(
            parse_invoice_response(built),
            {"kind": "invoice_response", "invoice": "INV/2", "code": "CA", "reason": "if delivered by Friday"},
        )

    def test_import_updates_the_invoice(self):
        move = self._invoice(self.partner_be, [{}])
        move.write({"ar_peppol_state": "delivered", "ar_peppol_message_id": "m-9"})
        xml = RESPONSE.format(code="RE", reason="Unknown PO", invoice=move.name).encode()
        self.assertEqual(self.env["account.move"]._ar_peppol_import_invoice_response(xml), move)
        self.assertEqual(move.ar_peppol_state, "rejected")
        self.assertIn("Unknown PO", move.activity_ids.note)
        # the accountant reads the answer in words, the code beside it
        self.assertEqual(move.with_context(lang="en_US").ar_peppol_response_label, "Rejected (RE)")
        paid = RESPONSE.format(code="PD", reason="", invoice=move.name).encode()
        self.env["account.move"]._ar_peppol_import_invoice_response(paid)
        self.assertEqual(move.ar_peppol_state, "rejected", "paid never follows a rejection")
        accepted = self._invoice(self.partner_be, [{}])
        accepted.write({"ar_peppol_state": "delivered", "ar_peppol_message_id": "m-11"})
        for code in ("AP", "PD"):
            xml = RESPONSE.format(code=code, reason="", invoice=accepted.name).encode()
            self.env["account.move"]._ar_peppol_import_invoice_response(xml)
        self.assertEqual(accepted.ar_peppol_state, "paid")
        # a response to an invoice that is not ours changes nothing
        other = RESPONSE.format(code="AP", reason="", invoice="INV/9999/99999").encode()
        self.assertFalse(self.env["account.move"]._ar_peppol_import_invoice_response(other))
        with self.assertRaises(UserError):
            self.env["account.move"]._ar_peppol_import_invoice_response(b"<Invoice/>")

    def test_message_level_response_is_not_a_business_answer(self):
        move = self._invoice(self.partner_be, [{}])
        move.write({"ar_peppol_state": "delivered", "ar_peppol_message_id": "m-10"})
        mlr = RESPONSE.format(code="RE", reason="Schema error", invoice=move.name).encode()
        mlr = mlr.replace(b"trns:invoice_response:3", b"trns:mlr:3")
        self.assertFalse(self.env["account.move"]._ar_peppol_import_invoice_response(mlr))
        self.assertEqual(move.ar_peppol_state, "delivered")
        # through a connector's event too
        move._ar_peppol_apply_event({"invoice_response": mlr})
        self.assertEqual(move.ar_peppol_state, "delivered")
        move._ar_peppol_apply_event({"invoice_response": build_invoice_response(move.name, "AP")})
        self.assertEqual(move.ar_peppol_state, "accepted")
