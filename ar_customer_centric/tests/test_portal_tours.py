from odoo.tests import tagged

from .test_portal_common import ArPortalCommon


@tagged("post_install", "-at_install")
class TestPortalTours(ArPortalCommon):
    def test_tour_guest_pay_one_invoice_from_email_link(self):
        url = self.inv_a1._ar_get_pay_url().removeprefix(self.inv_a1.get_base_url())
        self.start_tour(url, "ar_guest_pay_one_tour")
        tx = self.inv_a1.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.amount, 100.0)

    def test_tour_guest_pay_all(self):
        self.start_tour(f"/my/pay-all/{self.buyer_a._ar_get_pay_all_token()}", "ar_guest_pay_all_tour")
        tx = self.inv_a1.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.invoice_ids, self.inv_a1, "the invoice left out is not paid")
        self.assertEqual(tx.amount, 100.0)
        self.assertFalse(self.inv_a2.transaction_ids)

    def test_tour_portal_dispute(self):
        self.start_tour(f"/my/invoices/{self.inv_a1.id}", "ar_portal_dispute_tour", login="portal_a")
        self.assertEqual(self.inv_a1.ar_dispute_state, "open")
        self.assertEqual(self.inv_a1.ar_dispute_ids.reason, "wrong_amount")
        self.assertTrue(self.inv_a1.no_followup)

    def test_tour_autopay_with_mandate(self):
        self.start_tour("/my/autopay", "ar_portal_autopay_mandate_tour", login="portal_a")
        mandate = self.env["ar.sepa.mandate"].search([("partner_id", "=", self.buyer_a.id)])
        self.assertEqual(mandate.state, "active")
        self.assertEqual(mandate.scheme, "B2B")
        self.assertTrue(self.buyer_a.ar_autopay)
        self.assertEqual(self.buyer_a.ar_autopay_mandate_id, mandate)
