from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class ArAutopayCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.provider = cls.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.provider.write({"state": "test"})
        cls.provider.journal_id = cls.company_data["default_journal_bank"]
        cls.payment_method = cls.provider.payment_method_ids[:1]
        cls.payment_method.active = True
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Autopay Buyer NV", "is_company": True, "email": "ap@autopay.example.com"}
        )
        cls.token = cls._ar_token("done")
        cls.today = fields.Date.context_today(cls.env["account.move"])

    @classmethod
    def _ar_token(cls, simulated_state):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.payment_method.id,
                "partner_id": cls.buyer.id,
                "payment_details": "4242",
                "provider_ref": f"demo-{simulated_state}",
                "demo_simulated_state": simulated_state,
            }
        )

    def _invoice(self, amount=150.0, due_in=0, partner=None):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.buyer).id,
                "invoice_date": self.today - timedelta(days=30),
                "invoice_date_due": self.today + timedelta(days=due_in),
                "invoice_line_ids": [
                    Command.create({"name": "Subscription", "quantity": 1, "price_unit": amount, "tax_ids": False})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _run(self, xmlid):
        with self.enter_registry_test_mode():
            self.env.ref(xmlid).method_direct_trigger()
        self.env.invalidate_all()

    def _notify(self):
        self._run("ar_customer_centric.ir_cron_ar_autopay_notify")

    def _charge(self):
        self._run("ar_customer_centric.ir_cron_ar_autopay_charge")


@tagged("post_install", "-at_install")
class TestAutopay(ArAutopayCommon):
    def _messages(self, invoice, text):
        return invoice.message_ids.filtered(lambda m: text in (m.subject or "") or text in (m.body or ""))

    def test_autopay_success_notice_then_receipt(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        later = self._invoice(due_in=10)
        invoice = self._invoice(due_in=2)
        self._notify()
        self.assertEqual(invoice.ar_autopay_state, "notified")
        self.assertFalse(later.ar_autopay_state, "due beyond the notice period: not yet notified")
        self.assertTrue(self._messages(invoice, "will be paid automatically"))
        self._charge()
        self.assertEqual(invoice.ar_autopay_state, "notified", "not charged before the due date")
        invoice.invoice_date_due = self.today
        self._charge()
        self.assertEqual(invoice.ar_autopay_state, "paid")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        tx = invoice.transaction_ids
        self.assertTrue(tx.ar_is_autopay)
        self.assertEqual(tx.amount, 150.0)
        self.assertEqual(tx.token_id, self.token)
        self.assertTrue(self._messages(invoice, "payment received"))
        # run again: nothing is charged twice
        self._charge()
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_autopay_failure_is_retried_per_policy_and_reported(self):
        self.env["ir.config_parameter"].set_param("ar_customer_centric.autopay_retry_days", "1,3")
        failing = self._ar_token("error")
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": failing.id})
        invoice = self._invoice(due_in=0)
        self._notify()
        self._charge()
        self.assertEqual(invoice.ar_autopay_state, "failed")
        self.assertEqual(invoice.ar_autopay_attempts, 1)
        self.assertAlmostEqual(
            invoice.ar_autopay_next_try, fields.Datetime.now() + timedelta(days=1), delta=timedelta(minutes=5)
        )
        self.assertTrue(self._messages(invoice, "failed"))
        self.assertTrue(invoice.activity_ids, "the accountant is told too")
        self.assertEqual(invoice.payment_state, "not_paid")
        # not retried before the next attempt time
        self._charge()
        self.assertEqual(invoice.ar_autopay_attempts, 1)
        # second attempt after the delay
        invoice.ar_autopay_next_try = fields.Datetime.now() - timedelta(minutes=1)
        self._charge()
        self.assertEqual(invoice.ar_autopay_attempts, 2)
        self.assertAlmostEqual(
            invoice.ar_autopay_next_try, fields.Datetime.now() + timedelta(days=3), delta=timedelta(minutes=5)
        )
        # third attempt fails and the policy is exhausted: no further attempt
        invoice.ar_autopay_next_try = fields.Datetime.now() - timedelta(minutes=1)
        self._charge()
        self.assertEqual(invoice.ar_autopay_attempts, 3)
        self.assertFalse(invoice.ar_autopay_next_try)
        self._charge()
        self.assertEqual(invoice.ar_autopay_attempts, 3)
        self.assertEqual(len(invoice.transaction_ids), 3)

    def test_retry_succeeds_after_buyer_updates_payment_method(self):
        failing = self._ar_token("error")
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": failing.id})
        invoice = self._invoice(due_in=0)
        self._notify()
        self._charge()
        self.assertEqual(invoice.ar_autopay_state, "failed")
        self.buyer.ar_autopay_token_id = self.token
        invoice.ar_autopay_next_try = fields.Datetime.now() - timedelta(minutes=1)
        self._charge()
        self.assertEqual(invoice.ar_autopay_state, "paid")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_disputed_and_opted_out_invoices_are_not_charged(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        disputed = self._invoice(due_in=0)
        self.env["ar.dispute"]._ar_log_dispute(disputed, "quality", "Broken", self.buyer)
        other = self.env["res.partner"].create({"name": "No Autopay BV", "is_company": True})
        manual = self._invoice(due_in=0, partner=other)
        self._notify()
        self._charge()
        self.assertFalse(disputed.ar_autopay_state)
        self.assertFalse(disputed.transaction_ids)
        self.assertFalse(manual.transaction_ids)

    def test_autopay_is_per_company(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        other_company = self.env["res.company"].create({"name": "Other company"})
        self.assertFalse(self.buyer.with_company(other_company).ar_autopay)
