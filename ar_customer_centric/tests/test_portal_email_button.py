from odoo.tests import tagged

from .test_portal_common import ArPortalCommon


@tagged("post_install", "-at_install")
class TestPortalEmailButton(ArPortalCommon):
    """The invoice e-mail's button opens the payment form of that invoice directly."""

    def _mail_to(self, invoice, partner):
        invoice.message_post(
            body="Your invoice", partner_ids=partner.ids, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        return self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "=", invoice.id)], limit=1)

    def test_customer_gets_pay_now_button(self):
        mail = self._mail_to(self.inv_a1, self.buyer_a)
        self.assertTrue(mail, "the customer is notified by e-mail")
        self.assertIn("payment=True", mail.body_html)
        self.assertIn(self.inv_a1.access_token, mail.body_html)
        self.assertIn("Pay now", mail.body_html)

    def test_paid_invoice_keeps_the_view_button(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.inv_b.ids
        ).create({})._create_payments()
        self.assertIn(self.inv_b.payment_state, ("paid", "in_payment"))
        mail = self._mail_to(self.inv_b, self.buyer_b)
        self.assertTrue(mail)
        self.assertNotIn("payment=True", mail.body_html)
