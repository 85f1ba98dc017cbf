import time

from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestPortalContracts(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.init_invoice("out_invoice", amounts=[100.0], post=True)
        cls.partner = cls.invoice.commercial_partner_id

    def test_pay_url_opens_payment_form(self):
        url = self.invoice._ar_get_pay_url()
        self.assertTrue(url.startswith(self.invoice.get_base_url() + f"/my/invoices/{self.invoice.id}?"))
        self.assertIn(f"access_token={self.invoice.access_token}", url)
        self.assertIn("payment=True", url)
        self.assertTrue(url.endswith("#portal_pay"))

    def test_pay_all_token_roundtrip_expiry_forgery_revocation(self):
        Partner = self.env["res.partner"]
        contact = self.env["res.partner"].create({"name": "Buyer contact", "parent_id": self.partner.id})
        token = contact._ar_get_pay_all_token()
        # the link is the commercial partner's, whichever contact asked for it
        self.assertTrue(token.startswith(f"{self.partner.id}-"))
        self.assertEqual(Partner._ar_check_pay_all_token(token), self.partner)
        self.assertIn("/my/pay-all/", self.partner._ar_get_pay_all_url())
        pid, cid, expiry, sig = token.split("-", 3)
        forged = f"{pid}-{cid}-{int(expiry) + 86400}-{sig}"
        self.assertFalse(Partner._ar_check_pay_all_token(forged))
        self.assertFalse(Partner._ar_check_pay_all_token(f"{self.partner_b.id}-{cid}-{expiry}-{sig}"))
        self.assertFalse(Partner._ar_check_pay_all_token("garbage"))
        self.assertFalse(Partner._ar_check_pay_all_token(""))
        expired = self.partner._ar_get_pay_all_token(expiry=int(time.time()) - 1)
        self.assertFalse(Partner._ar_check_pay_all_token(expired))
        # a change of the partner's e-mail revokes every link sent so far
        self.partner.email = "new-ap@example.com"
        self.assertFalse(Partner._ar_check_pay_all_token(token))
        self.assertTrue(Partner._ar_check_pay_all_token(self.partner._ar_get_pay_all_token()))

    def test_dispute_takes_invoice_out_of_collection(self):
        self.assertFalse(self.invoice.no_followup)
        dispute = self.env["ar.dispute"]._ar_log_dispute(
            self.invoice, "wrong_amount", "The unit price is 90, not 100.", self.partner
        )
        self.assertEqual(self.invoice.ar_dispute_state, "open")
        self.assertTrue(self.invoice.no_followup)
        self.assertTrue(dispute.activity_ids)
        dispute.resolution_note = "The price list of 2026 applies."
        dispute.action_reject()
        self.assertEqual(self.invoice.ar_dispute_state, "rejected")
        self.assertFalse(self.invoice.no_followup)
        self.assertFalse(dispute.activity_ids)

    def test_dispute_keeps_manual_no_followup(self):
        invoice = self.init_invoice("out_invoice", amounts=[50.0], post=True)
        invoice.no_followup = True
        dispute = self.env["ar.dispute"]._ar_log_dispute(invoice, "quality", "Broken.", self.partner)
        dispute.action_accept_credit_note()
        self.assertEqual(invoice.ar_dispute_state, "accepted")
        self.assertTrue(dispute.credit_note_id)
        self.assertEqual(dispute.credit_note_id.reversed_entry_id, invoice)
        self.assertTrue(invoice.no_followup)
