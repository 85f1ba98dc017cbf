import json

from odoo.tests import HttpCase, tagged

from odoo.addons.ar_peppol_edi.tests.common import FakeAccessPoint, PeppolCommon, billit_webhook
from odoo.addons.ar_peppol_edi.tests.test_lookup import FakeSmp
from odoo.addons.ar_peppol_edi.tools.peppol_ids import BIS3_CREDIT_NOTE_DOCTYPE, BIS3_INVOICE_DOCTYPE


@tagged("post_install", "-at_install")
class TestSuitePeppolJourney(PeppolCommon, HttpCase):
    """A Peppol customer, end to end: the invoice is validated with the official rules,
    transmitted through a local access point answering as Billit's API documentation shows,
    rejected by the buyer with an Invoice Response (an activity for the accountant), and the
    corrected credit note accepted."""

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
                "name": "Billit (local)",
                "provider": "billit",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "42",
                "timeout": 2.0,
                "webhook_secret": "b-secret",
                "company_id": cls.company.id,
            }
        )
        cls.company.ar_peppol_connector_id = cls.connector
        cls.partner_be.with_company(cls.company).invoice_sending_method = "ar_peppol"
        cls.partner_be._ar_peppol_lookup(force=True)  # before sending, as the lookup cron does

    def _send(self, moves):
        # the customer's preference decides the channel: no sending method is forced here
        self.env["account.move.send"]._generate_and_send_invoices(moves, allow_raising=False)

    def _webhook(self, move, flow_state, info=None):
        body, headers = billit_webhook(int(move.ar_peppol_message_id), flow_state, info)
        path = f"/ar_peppol_edi/webhook/{self.connector.id}/{self.connector.webhook_token}"
        return self.url_open(path, data=body, headers=dict(headers, **{"Content-Type": "application/json"}))

    def _transmit_and_deliver(self, move):
        sent_before = len(self.ap.transmissions)
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "sent", move.ar_peppol_answer)
        self.assertEqual(len(self.ap.transmissions), sent_before + 1, "transmitted exactly once")
        self.ap.status[int(move.ar_peppol_message_id)] = "delivered"
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
        # the transmission shows in Invoice Deliveries like every other channel, and follows it
        trace = invoice.ar_delivery_log_ids
        self.assertEqual(trace.mapped("channel"), ["ar_peppol"])
        self.assertEqual((trace.state, trace.destination), ("queued", "0208:0477472701"))
        self.assertEqual((invoice.ar_delivery_state, invoice.ar_delivery_channel), ("queued", "ar_peppol"))
        self._transmit_and_deliver(invoice)
        self.assertEqual(invoice.ar_delivery_log_ids, trace, "one line per invoice, updated")
        self.assertEqual(trace.state, "sent")
        self.assertTrue(trace.date_done)
        self.assertEqual(invoice.ar_delivery_state, "sent")
        self.assertEqual(invoice.ar_delivered_on, trace.date_done)
        key, body = self.ap.transmissions[-1]
        self.assertEqual(key, invoice.ar_peppol_idempotency_key)
        self.assertIn("0477472701", json.loads(body)["XML"])

        # the buyer rejects the invoice (Invoice Response RE): Billit's Message webhook
        response = self._webhook(invoice, "Refused", "Wrong VAT rate on line 2")
        self.assertEqual(response.status_code, 200, response.text)
        invoice.invalidate_recordset()
        self.assertEqual(invoice.ar_peppol_state, "rejected")
        self.assertEqual(invoice.ar_peppol_response_reason, "Wrong VAT rate on line 2")
        # delivered it was: the buyer's answer stays on the Peppol status
        self.assertEqual((trace.state, trace.message), ("sent", "Rejected"))
        self.assertEqual(invoice.ar_delivery_state, "sent")
        activity = invoice.activity_ids.filtered(lambda a: "rejected" in (a.summary or ""))
        self.assertEqual(len(activity), 1)
        self.assertIn("Wrong VAT rate", str(activity.note))

        # a forged webhook changes nothing
        body, _headers = billit_webhook(int(invoice.ar_peppol_message_id), "Accepted")
        forged = self.url_open(
            f"/ar_peppol_edi/webhook/{self.connector.id}/{self.connector.webhook_token}",
            data=body,
            headers={"Billit-Signature": "t=1,s=" + "0" * 64},
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
        sent_xml = json.loads(self.ap.transmissions[-1][1])["XML"]
        self.assertIn("<CreditNote", sent_xml)
        self.assertIn(invoice.name, sent_xml, "the credit note refers to the rejected invoice")
        response = self._webhook(credit_note, "Accepted")
        self.assertEqual(response.status_code, 200, response.text)
        credit_note.invalidate_recordset()
        self.assertEqual(credit_note.ar_peppol_state, "accepted")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        # the dashboard shows both documents in their Peppol state
        report = self.env["ar.suite.receivable.report"].search([("move_id", "in", (invoice | credit_note).ids)])
        self.assertEqual(set(report.mapped("peppol_state")), {"rejected", "accepted"})

    def test_failed_transmission_shows_as_failed(self):
        invoice = self._invoice(self.partner_be, [{}])
        self._send(invoice)
        self.assertEqual(invoice.ar_delivery_log_ids.state, "queued")
        self.ap.mode = "refuse"  # Billit answers 400 to a document it refuses
        self.addCleanup(setattr, self.ap, "mode", "ok")
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(invoice.ar_peppol_state, "error", invoice.ar_peppol_answer)
        self.assertEqual(invoice.ar_delivery_log_ids.state, "failed")
        self.assertEqual(invoice.ar_delivery_state, "failed")
