import base64
import hashlib
import hmac
import json

from odoo.tests import HttpCase, tagged

from odoo.addons.ar_peppol_edi.tests.common import FakeAccessPoint, PeppolCommon
from odoo.addons.ar_peppol_edi.tests.test_lookup import FakeSmp
from odoo.addons.ar_peppol_edi.tools.peppol_ids import BIS3_CREDIT_NOTE_DOCTYPE, BIS3_INVOICE_DOCTYPE


@tagged("post_install", "-at_install")
class TestSuitePeppolJourney(PeppolCommon, HttpCase):
    """A Peppol customer, end to end: the invoice is validated with the official rules,
    transmitted through a local (Storecove-type) access point, rejected by the buyer with an
    Invoice Response (an activity for the accountant), and the corrected credit note accepted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap = FakeAccessPoint()
        cls.addClassCleanup(cls.ap.close)
        cls.smp = FakeSmp({"0208:0477472701": [BIS3_INVOICE_DOCTYPE, BIS3_CREDIT_NOTE_DOCTYPE]})
        cls.addClassCleanup(cls.smp.close)
        cls.env["ir.config_parameter"].set_param("ar_peppol_edi.smp_url", cls.smp.url)
        cls.connector = cls.env["ar.peppol.connector"].create(
            {
                "name": "Storecove (local)",
                "provider": "storecove",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "123",
                "timeout": 2.0,
                "webhook_secret": "hook-secret",
                "company_id": cls.company.id,
            }
        )
        cls.company.ar_peppol_connector_id = cls.connector
        cls.partner_be.with_company(cls.company).invoice_sending_method = "ar_peppol"

    def _send(self, moves):
        # the customer's preference decides the channel: no sending method is forced here
        self.env["account.move.send"]._generate_and_send_invoices(moves, allow_raising=False)

    def _webhook(self, payload):
        body = json.dumps(payload).encode()
        signature = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        path = f"/ar_peppol_edi/webhook/{self.connector.id}/{self.connector.webhook_token}"
        return self.url_open(
            path, data=body, headers={"Content-Type": "application/json", "X-Storecove-Signature": signature}
        )

    def _transmit_and_deliver(self, move):
        sent_before = len(self.ap.transmissions)
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "sent", move.ar_peppol_answer)
        self.assertEqual(len(self.ap.transmissions), sent_before + 1, "transmitted exactly once")
        self.ap.status[move.ar_peppol_message_id] = "delivered"
        self.env["account.move"]._cron_ar_peppol_fetch_status()
        self.assertEqual(move.ar_peppol_state, "delivered")
        # the cron runs again: the access point must not see the invoice a second time
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(len(self.ap.transmissions), sent_before + 1)

    def test_peppol_invoice_rejected_then_credit_note_accepted(self):
        invoice = self._invoice(self.partner_be, [{}, {"taxes": self.tax_6, "price_unit": 49.99}])
        self.assertIn("ar_peppol", self.env["account.move.send"]._get_default_sending_methods(invoice))
        self._send(invoice)
        # validated against the official EN 16931 + Peppol BIS 3 rules before queueing
        self.assertEqual(invoice.ar_peppol_state, "queued", invoice.ar_peppol_finding_ids.mapped("official_text"))
        self.assertEqual(invoice.ar_peppol_fatal_count, 0)
        self.assertTrue(invoice.ar_peppol_validated_at)
        self._transmit_and_deliver(invoice)
        key, body = self.ap.transmissions[-1]
        self.assertEqual(key, invoice.ar_peppol_idempotency_key)
        self.assertIn("0477472701", body.decode())

        # the buyer rejects the invoice (Invoice Response RE) through the access point's webhook
        response = self._webhook(
            {
                "guid": invoice.ar_peppol_message_id,
                "event_type": "invoice_response",
                "body": json.dumps(
                    {
                        "guid": invoice.ar_peppol_message_id,
                        "response_code": "RE",
                        "response_reason": "Wrong VAT rate on line 2",
                    }
                ),
            }
        )
        self.assertEqual(response.status_code, 200, response.text)
        invoice.invalidate_recordset()
        self.assertEqual(invoice.ar_peppol_state, "rejected")
        self.assertEqual(invoice.ar_peppol_response_reason, "Wrong VAT rate on line 2")
        activity = invoice.activity_ids.filtered(lambda a: "rejected" in (a.summary or ""))
        self.assertEqual(len(activity), 1)
        self.assertIn("Wrong VAT rate", str(activity.note))

        # a forged webhook changes nothing
        body = json.dumps({"guid": invoice.ar_peppol_message_id, "body": {"response_code": "AP"}}).encode()
        forged = self.url_open(
            f"/ar_peppol_edi/webhook/{self.connector.id}/{self.connector.webhook_token}",
            data=body,
            headers={"X-Storecove-Signature": "0" * 64},
        )
        self.assertEqual(forged.status_code, 401)

        # the accountant corrects with a credit note, sent the same way and accepted by the buyer
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Wrong VAT rate on line 2", "journal_id": invoice.journal_id.id})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.invoice_date = invoice.invoice_date
        credit_note.action_post()
        self._send(credit_note)
        self.assertEqual(
            credit_note.ar_peppol_state, "queued", credit_note.ar_peppol_finding_ids.mapped("official_text")
        )
        self._transmit_and_deliver(credit_note)
        sent_xml = base64.b64decode(json.loads(self.ap.transmissions[-1][1])["document"]["rawDocumentData"]["document"])
        self.assertIn(b"<CreditNote", sent_xml)
        self.assertIn(invoice.name.encode(), sent_xml, "the credit note refers to the rejected invoice")
        response = self._webhook(
            {
                "guid": credit_note.ar_peppol_message_id,
                "event_type": "invoice_response",
                "body": {"guid": credit_note.ar_peppol_message_id, "response_code": "AP"},
            }
        )
        self.assertEqual(response.status_code, 200, response.text)
        credit_note.invalidate_recordset()
        self.assertEqual(credit_note.ar_peppol_state, "accepted")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        # the dashboard shows both documents in their Peppol state
        report = self.env["ar.suite.receivable.report"].search([("move_id", "in", (invoice | credit_note).ids)])
        self.assertEqual(set(report.mapped("peppol_state")), {"rejected", "accepted"})
