from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestSuitePlanSegment(AccountTestInvoicingCommon):
    """Issue 16, slice 2, in the suite: payment plan rules per customer segment; the dashboard's arrangements."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        if not policy:
            cls.company._ar_dunning_create_default_policy()
            policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        policy.is_default = True
        # small businesses: up to 6 instalments accepted at once; enterprises: every plan reviewed
        policy.plan_rule_ids = [
            Command.clear(),
            Command.create({"segment": "enterprise", "max_instalments": 12, "auto_accept": False, "sequence": 1}),
            Command.create({"segment": "small", "max_instalments": 6, "auto_accept": True, "sequence": 2}),
        ]
        Partner = cls.env["res.partner"]
        cls.small = Partner.create({"name": "Bakkerij Janssens BV", "is_company": True})
        cls.enterprise = Partner.create({"name": "Groothandel Peeters NV", "is_company": True})
        cls.small.with_company(cls.company).ar_segment = "small"
        cls.enterprise.with_company(cls.company).ar_segment = "enterprise"

    def _invoice(self, partner, amount):
        return self._create_invoice_one_line(
            price_unit=amount,
            partner_id=partner,
            invoice_date=self.today - timedelta(days=40),
            invoice_date_due=self.today - timedelta(days=10),
            invoice_payment_term_id=False,
            tax_ids=[],
            post=True,
        )

    def test_rule_per_segment(self):
        Plan = self.env["ar.dunning.plan"]
        first = self.today + timedelta(days=7)
        small = Plan._ar_plan_preview(self._invoice(self.small, 600.0), 3, "monthly", first)
        self.assertEqual(small["decision"], "accept", small["reasons"])
        self.assertEqual(small["limits"]["max_instalments"], 6)
        enterprise = Plan._ar_plan_preview(self._invoice(self.enterprise, 600.0), 3, "monthly", first)
        self.assertEqual(enterprise["decision"], "review")
        self.assertEqual(enterprise["limits"]["max_instalments"], 12)
        # a customer of no segment matches no rule: reviewed
        other = self.env["res.partner"].create({"name": "Zonder Segment BV", "is_company": True})
        self.assertEqual(Plan._ar_plan_preview(self._invoice(other, 600.0), 3, "monthly", first)["decision"], "review")

    def test_dashboard_amount_under_arrangement(self):
        inv = self._invoice(self.small, 900.0)
        self.env["ar.dunning.plan"]._ar_propose(inv, 3, "weekly", self.today + timedelta(days=1), source="backoffice")
        promised = self._invoice(self.enterprise, 200.0)
        self.env["ar.dunning.promise"]._ar_request(promised, self.today + timedelta(days=5), source="backoffice")
        dash = self.env["ar.suite.dashboard"].create({"company_id": self.company.id})
        self.assertEqual(dash.plan_running_count, 1)
        self.assertEqual(dash.amount_under_plan, 900.0)
        self.assertEqual(dash.amount_under_arrangement, 1100.0)
        self.assertIn("o_ar_suite_table", dash.arrangement_week_html)
        self.assertEqual(dash.action_open_plans()["res_model"], "ar.dunning.plan")
