"""Dunning facts that other modules feed (issue 10 point 5): each test failed before the fix."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.ar_dunning.tests.common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestSuiteMoneyShield(ArDunningCommon):
    def _pending_tx(self, invoice, days_ago):
        # sudo: test set-up of a payment provider and transaction (not accounting data)
        provider = (
            self.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", self.company.id)], limit=1)
        )
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.with_context(active_test=False).payment_method_ids[:1].id,
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "reference": f"AR-SHIELD-{invoice.id}-{days_ago}",
                    "state": "pending",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
        )
        tx.last_state_change = fields.Datetime.now() - timedelta(days=days_ago)
        return tx

    def test_a_pending_transfer_shields_from_dunning_for_14_days_only(self):
        Move = self.env["account.move"]
        fresh = self._invoice(self.be_b2b, 500, self._days(10))
        stale = self._invoice(self.be_b2b, 300, self._days(40))
        self._pending_tx(fresh, days_ago=13)
        self._pending_tx(stale, days_ago=15)
        self.assertEqual(Move._ar_dunning_pending_tx_move_ids(fresh | stale), set(fresh.ids))
        self.env["ir.config_parameter"].sudo().set_param("ar_dunning.pending_payment_days", "30")
        self.assertEqual(Move._ar_dunning_pending_tx_move_ids(fresh | stale), set((fresh | stale).ids))

    def test_payment_score_counts_only_the_current_company(self):
        other = self.setup_other_company()["company"]
        since = fields.Date.context_today(self.env["res.partner"])
        Promise = self.env["ar.dunning.promise"]
        Promise.with_company(other).create(
            {"partner_id": self.be_b2b.id, "company_id": other.id, "promise_date": since, "state": "broken"}
        )
        invoice = (
            self.env["account.move"]
            .with_company(other)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.be_b2b.id,
                    "company_id": other.id,
                    "invoice_date": since,
                    "invoice_line_ids": [
                        Command.create({"name": "Other", "quantity": 1, "price_unit": 10, "tax_ids": []})
                    ],
                }
            )
        )
        invoice.action_post()
        dispute = self.env["ar.dispute"]._ar_log_dispute(invoice, "quality", "Broken", self.be_b2b)
        dispute.resolution_note = "Delivered as ordered."
        dispute.action_reject()
        history = self.be_b2b.with_company(self.company)._ar_dunning_history(since)[self.be_b2b.id]
        self.assertEqual((history["broken"], history["disputes_lost"]), (0, 0))
        history = self.be_b2b.with_company(other)._ar_dunning_history(since)[self.be_b2b.id]
        self.assertEqual((history["broken"], history["disputes_lost"]), (1, 1))
