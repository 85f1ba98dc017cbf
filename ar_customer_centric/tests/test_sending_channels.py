import io

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.pdf import PdfFileWriter

from .sending_common import SendingCommon


@tagged("post_install", "-at_install")
class TestSendingChannels(SendingCommon):
    @staticmethod
    def _blank_pdf():
        writer = PdfFileWriter()
        writer.add_blank_page(width=200, height=200)
        stream = io.BytesIO()
        writer.write(stream)
        return stream.getvalue()

    def test_email_channel_logs_recipients(self):
        contact = self.env["res.partner"].create(
            {"name": "AP desk", "email": "invoices@mailbuyer.example", "parent_id": self.email_customer.id}
        )
        self.email_customer.ar_invoice_contact_ids = contact
        move = self._invoice(self.email_customer)
        self._send(move)
        log = self._logs(move)
        self.assertRecordValues(log, [{"channel": "email", "state": "sent", "is_fallback": False}])
        self.assertEqual(log.destination, "invoices@mailbuyer.example")
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertTrue(move.ar_delivered_on)
        mail = self._mails(move)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.partner_ids, contact, "invoice recipients replace the main address")
        self.assertTrue(mail.attachment_ids)

    def test_email_pdf_only_drops_xml(self):
        self.email_customer.ar_email_pdf_only = True
        # a BIS 3 file needs the buyer's electronic address (PEPPOL-EN16931-R010): ar_peppol_edi's
        # builder derives it from the VAT number and refuses a buyer without any
        self.email_customer.vat = "BE0477472701"
        move = self._invoice(self.email_customer)
        self._send(move, invoice_edi_format="ubl_bis3")
        names = self._mails(move).attachment_ids.mapped("name")
        self.assertTrue(names)
        self.assertFalse([name for name in names if name.endswith(".xml")], names)

    def test_portal_channel_sends_notification_without_attachment(self):
        move = self._invoice(self.portal_customer)
        self._send(move)
        self.assertRecordValues(self._logs(move), [{"channel": "ar_portal", "state": "sent"}])
        notification = self._mails(move)
        self.assertEqual(len(notification), 1)
        self.assertFalse(notification.attachment_ids)
        self.assertEqual(notification.partner_ids, self.portal_customer)
        self.assertIn("/my/invoices/", notification.body, "the notification links to the pay page")

    def test_letter_channel_queues_then_prints_batch(self):
        moves = self._invoice(self.letter_customer) | self._invoice(self.letter_customer, amount=50)
        self._send(moves)
        # tests render invoice documents as HTML: give them a real (blank) PDF to merge
        for move in moves:
            move.invoice_pdf_report_id.raw = self._blank_pdf()
        logs = moves.ar_delivery_log_ids
        self.assertEqual(set(logs.mapped("state")), {"queued"})
        self.assertIn("Bruxelles", logs[0].destination)
        self.assertFalse(self._mails(moves[0]))
        action = logs.action_ar_print_letter_batch()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(set(logs.mapped("state")), {"sent"})
        self.assertEqual(set(moves.mapped("ar_delivery_state")), {"sent"})
        with self.assertRaisesRegex(UserError, "no queued postal letters"):
            logs.action_ar_print_letter_batch()

    def test_fallback_when_preferred_cannot_deliver(self):
        customer = self.env["res.partner"].create(
            {
                "name": "No Portal Yet",
                "is_company": True,
                "email": "ap@noportal.example",
                "invoice_sending_method": "ar_cxml",
                "ar_fallback_sending_method": "email",
            }
        )
        move = self._invoice(customer)
        self.assertEqual(self.env["account.move.send"]._get_default_sending_methods(move), {"email"})
        self._send(move)
        self.assertRecordValues(self._logs(move), [{"channel": "email", "state": "sent", "is_fallback": True}])
        self.assertIn("fallback", move.message_ids[0].body + "".join(move.message_ids.mapped("body")))
        # the chatter line reads as a sentence with Odoo's channel label ("by Email")
        trace = move.message_ids.filtered(lambda m: "ap@noportal.example" in (m.body or ""))[:1]
        self.assertIn("Delivery (by Email): Delivered", str(trace.body))
        self.assertFalse(self.server.requests, "nothing posted to a network that is not set up")

    def test_resend_is_explicit(self):
        move = self._invoice(self.email_customer)
        self._send(move)
        self._send(move)  # a second batch run by accident
        self.assertEqual(len(self._mails(move)), 1, "never delivered twice by accident")
        self.assertEqual(self._logs(move).mapped("state"), ["sent", "skipped"])
        move.action_ar_resend()
        self.assertEqual(len(self._mails(move)), 2)
        self.assertEqual(self._logs(move).mapped("state"), ["sent", "skipped", "sent"])

    def test_single_wizard_refuses_silent_resend(self):
        move = self._invoice(self.email_customer)
        self._send(move)
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertTrue(wizard.ar_already_delivered)
        self.assertIn("ar_customer_centric_already_delivered", wizard.alerts)
        with self.assertRaisesRegex(UserError, "already delivered"):
            wizard.action_send_and_print()
        wizard.ar_resend = True
        wizard.action_send_and_print()
        self.assertEqual(len(self._mails(move)), 2)

    def test_statement_grouping_holds_invoices(self):
        self.email_customer.write(
            {"ar_invoice_grouping": "statement", "ar_statement_period": "monthly", "ar_statement_day": 1}
        )
        move = self._invoice(self.email_customer)
        self._send(move)
        self.assertEqual(move.ar_delivery_state, "held")
        self.assertFalse(self._mails(move))

    def test_bad_input_on_save(self):
        Partner = self.env["res.partner"]
        with self.assertRaisesRegex(ValidationError, "has no e-mail address"):
            Partner.create({"name": "No Mail BV", "is_company": True, "invoice_sending_method": "email"})
        with self.assertRaisesRegex(ValidationError, "cXML Endpoint URL"):
            Partner.create(
                {
                    "name": "No Endpoint NV",
                    "is_company": True,
                    "email": "a@b.example",
                    "invoice_sending_method": "ar_cxml",
                }
            )
        with self.assertRaisesRegex(ValidationError, "postal address"):
            Partner.create({"name": "Nowhere", "is_company": True, "invoice_sending_method": "ar_letter"})
        with self.assertRaisesRegex(ValidationError, "cannot carry the e-invoice format"):
            self.letter_customer.invoice_edi_format = "ubl_bis3"
        with self.assertRaisesRegex(ValidationError, "Statement Day between 1 and 28"):
            self.email_customer.write(
                {"ar_invoice_grouping": "statement", "ar_statement_period": "monthly", "ar_statement_day": 31}
            )
        with self.assertRaisesRegex(ValidationError, "has no e-mail address"):
            self.portal_customer.email = False

    def test_bad_input_on_send(self):
        move = self._invoice(self.cxml_customer)
        # the endpoint disappears after the preference was saved (e.g. an import)
        self.cxml_customer.with_context(ar_skip_preference_check=True).ar_cxml_endpoint = False
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        wizard.sending_methods = ["ar_cxml"]
        with self.assertRaisesRegex(UserError, "cXML Endpoint URL"):
            wizard.action_send_and_print()
        self.assertFalse(move.ar_delivery_log_ids, "nothing half-sent")
        self.assertFalse(self.server.requests)

    def test_batch_wizard_follows_preferences(self):
        moves = (
            self._invoice(self.email_customer)
            | self._invoice(self.portal_customer)
            | self._invoice(self.letter_customer)
            | self._invoice(self.cxml_customer)
        )
        wizard = (
            self.env["account.move.send.batch.wizard"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
        )
        self.assertEqual({key for key in wizard.summary_data}, {"email", "ar_portal", "ar_letter", "ar_cxml"})
        wizard.action_send_and_print(force_synchronous=True)
        self.assertEqual(moves.mapped("ar_delivery_channel"), ["email", "ar_portal", "ar_letter", "ar_cxml"])
        self.assertEqual(moves.mapped("ar_delivery_state"), ["sent", "sent", "queued", "sent"])

    def test_auto_send_queues_posted_invoices_for_the_cron(self):
        self.company.ar_auto_send = True
        move = self._invoice(self.portal_customer)
        self.assertTrue(move.sending_data, "posting queues the invoice for Odoo's sending cron")
        self._send(move, from_cron=True)  # what account.ir_cron_account_move_send does
        self.assertFalse(move.sending_data)
        self.assertRecordValues(move, [{"ar_delivery_state": "sent", "ar_delivery_channel": "ar_portal"}])

    def test_portal_preference_fields(self):
        fields = self.env["res.partner"]._ar_portal_preference_fields()
        self.assertIn("invoice_sending_method", fields)
        self.assertNotIn("ar_cxml_endpoint", fields)
        self.assertTrue(set(fields) <= set(self.env["res.partner"]._fields))
        self.assertNotIn("ar_cxml", self.env["res.partner"]._ar_portal_sending_methods())

    def test_invoice_structured_reference_and_qr(self):
        move = self._invoice(self.email_customer)
        self.assertRegex(move.payment_reference, r"^\+\+\+\d{3}/\d{4}/\d{5}\+\+\+$")
        self.assertTrue(move.display_qr_code)
        self.assertTrue(move.display_link_qr_code)
        self.assertIn("access_token", move._get_portal_payment_link() or move._ar_pay_url())

    def test_cxml_credentials_restricted(self):
        user = self.env["res.users"].create(
            {
                "name": "Billing clerk",
                "login": "clerk_ar",
                "group_ids": [(6, 0, [self.env.ref("account.group_account_invoice").id])],
            }
        )
        partner = self.cxml_customer.with_user(user)
        self.assertEqual(partner.invoice_sending_method, "ar_cxml")
        with self.assertRaises(AccessError):
            partner.read(["ar_cxml_shared_secret"])
        # the clerk still sends through the customer's channel
        move = self._invoice(self.cxml_customer)
        self.env["account.move.send"].with_user(user)._generate_and_send_invoices(move.with_user(user))
        self.assertEqual(move.ar_delivery_state, "sent")


@tagged("post_install", "-at_install")
class TestSegmentDefaults(SendingCommon):
    def test_new_customer_gets_segment_defaults_and_bulk_apply(self):
        self.env["ar.segment.default"].create(
            {
                "segment": "mid_market",
                "sending_method": "ar_portal",
                "fallback_sending_method": "email",
                "invoice_grouping": "statement",
                "statement_period": "weekly",
                "statement_day": 5,
            }
        )
        customer = self.env["res.partner"].create(
            {"name": "Mid BV", "is_company": True, "email": "mid@bv.example", "ar_segment": "mid_market"}
        )
        self.assertRecordValues(
            customer,
            [
                {
                    "invoice_sending_method": "ar_portal",
                    "ar_fallback_sending_method": "email",
                    "ar_invoice_grouping": "statement",
                    "ar_statement_period": "weekly",
                    "ar_statement_day": 5,
                }
            ],
        )
        existing = self.email_customer
        existing.ar_segment = "mid_market"
        self.assertEqual(existing.invoice_sending_method, False)
        wizard = Form(self.env["ar.segment.apply"].with_context(active_model="res.partner", active_ids=existing.ids))
        result = wizard.save().action_apply()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(existing.invoice_sending_method, "ar_portal")
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.assertFalse(existing.with_company(other_company).invoice_sending_method)
