import re
from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.ar_customer_centric.tests.test_portal_common import ArPortalCommon
from odoo.addons.ar_dunning.tests.common import on_day


@tagged("post_install", "-at_install")
class TestSuitePayJourney(ArPortalCommon):
    """Invoices delivered by the customer's preference; the guest pays all of them from the
    signed link without an account; everything reconciles; no reminder follows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer_a.with_company(cls.company).invoice_sending_method = "email"

    def _deliver(self, moves):
        self.env["account.move.send"]._generate_and_send_invoices(moves, allow_raising=False)

    def test_delivery_guest_pay_all_reconcile_no_reminder(self):
        invoices = self.inv_a1 | self.inv_a2
        self._deliver(invoices)
        for invoice in invoices:
            self.assertEqual((invoice.ar_delivery_channel, invoice.ar_delivery_state), ("email", "sent"))
            self.assertTrue(invoice.ar_delivered_on)
        mails = self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "in", invoices.ids)])
        self.assertTrue(mails, "the invoices went out by e-mail")
        self.assertIn(self.buyer_a, mails.recipient_ids | mails.partner_ids.commercial_partner_id)

        # a second delivery run does not send them again
        mail_count = len(mails)
        self._deliver(invoices)
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "account.move"), ("res_id", "in", invoices.ids)]),
            mail_count,
        )

        # the guest opens the signed pay-all link: both open invoices, nothing of buyer B
        url = self.buyer_a._ar_get_pay_all_url()
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.inv_a1.name, page.text)
        self.assertIn(self.inv_a2.name, page.text)
        self.assertNotIn(self.inv_b.name, page.text)
        route = re.search(r"/my/pay-all/[^\"'&]+/transaction/[0-9-]+", page.text).group(0)
        result, error = self._json(route, self._tx_params(amount=1.0))
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 300.0, "the server computes the amount, not the client")
        self.assertEqual(tx.invoice_ids, invoices)

        # the provider confirms; the payment reconciles both invoices
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertTrue(tx.payment_id)
        for invoice in invoices:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(invoice.amount_residual, 0.0)
        report = self.env["ar.suite.receivable.report"].search([("move_id", "in", invoices.ids)])
        self.assertEqual(set(report.mapped("ageing")), {"paid"})
        self._assert_no_reminder(invoices)

    def _assert_no_reminder(self, invoices):
        """A dunning run after every due date has nothing to say to this customer."""
        if not self.env["ar.dunning.policy"].search_count([("company_id", "=", self.company.id)]):
            self.company._ar_dunning_create_default_policy()
        run_date = max(invoices.mapped("invoice_date_due")) + timedelta(days=40)
        with on_day(run_date):  # a run is sent on its date
            run = self.env["ar.dunning.run"]._run_batch(
                date=run_date, partner_ids=self.buyer_a.ids, company=self.company, execute=True
            )
        lines = run.line_ids.filtered(lambda line: line.partner_id == self.buyer_a and line.state != "excluded")
        self.assertFalse(lines)
        self.assertFalse(run.line_ids.mail_id)
