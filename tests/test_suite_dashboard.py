from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ar_suite.wizards.ar_suite_dashboard import countback_dso


@tagged("post_install", "-at_install")
class TestSuiteDashboard(AccountTestInvoicingCommon):
    """The AR dashboard and its report: ageing, overdue, expected cash, DSO, drill-down."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.customer = cls.env["res.partner"].create({"name": "Dashboard Customer NV", "is_company": True})

        def invoice(days_ago, due_in, amount):
            return cls._create_invoice_one_line(
                price_unit=amount,
                partner_id=cls.customer,
                invoice_date=cls.today - timedelta(days=days_ago),
                invoice_date_due=cls.today + timedelta(days=due_in),
                invoice_payment_term_id=False,
                tax_ids=[],
                post=True,
            )

        cls.not_due = invoice(5, 10, 1000.0)  # falls due in 10 days: expected cash
        cls.overdue_45 = invoice(75, -45, 400.0)  # 31-60 bucket
        cls.overdue_100 = invoice(130, -100, 250.0)  # over 90
        cls.paid = invoice(40, -10, 300.0)
        cls._register_payment(cls.paid)

    def _rows(self, move):
        return self.env["ar.suite.receivable.report"].search([("move_id", "=", move.id)])

    def test_report_ageing_and_flags(self):
        self.assertEqual(self._rows(self.not_due).ageing, "not_due")
        self.assertTrue(self._rows(self.not_due).due_next_30)
        self.assertEqual(self._rows(self.not_due).amount_expected_30, 1000.0)
        row = self._rows(self.overdue_45)
        self.assertEqual((row.ageing, row.days_overdue, row.amount_overdue), ("31_60", 45, 400.0))
        self.assertTrue(row.is_overdue)
        self.assertEqual(self._rows(self.overdue_100).ageing, "90_plus")
        paid = self._rows(self.paid)
        self.assertEqual((paid.ageing, paid.is_open, paid.amount_residual), ("paid", False, 0.0))

    def test_dashboard_kpis(self):
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": self.env.company.id})
        self.assertAlmostEqual(dashboard.amount_open, 1650.0)
        self.assertAlmostEqual(dashboard.amount_overdue, 650.0)
        self.assertAlmostEqual(dashboard.amount_expected_30, 1000.0)
        self.assertAlmostEqual(dashboard.amount_not_due, 1000.0)
        self.assertAlmostEqual(dashboard.amount_31_60, 400.0)
        self.assertAlmostEqual(dashboard.amount_90_plus, 250.0)
        self.assertAlmostEqual(dashboard.amount_1_30, 0.0)
        self.assertEqual(dashboard.open_customer_count, 1)
        # credit sales of the last 30 days (1000) do not cover the open 1650: more than 30 days
        self.assertGreater(dashboard.dso_days, 30.0)
        self.assertIn("table", dashboard.dunning_html)

    def test_dashboard_drill_down(self):
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": self.env.company.id})
        action = dashboard.with_context(ar_drill="overdue").action_drill()
        self.assertEqual(action["res_model"], "ar.suite.receivable.report")
        rows = self.env["ar.suite.receivable.report"].search(action["domain"])
        self.assertEqual(rows.move_id, self.overdue_45 | self.overdue_100)
        action = dashboard.with_context(ar_drill="expected").action_drill()
        self.assertEqual(self.env["ar.suite.receivable.report"].search(action["domain"]).move_id, self.not_due)
        self.assertEqual(rows[0].action_open_move()["res_id"], rows[0].move_id.id)
        opened = self.env["ar.suite.dashboard"].action_open_dashboard()
        self.assertEqual(opened["res_model"], "ar.suite.dashboard")

    def test_dashboard_credit_monitoring(self):
        """The last credit assessment: customers over their Odoo credit limit and customers per grade."""
        self.env.company.account_use_credit_limit = True
        self.customer.with_company(self.env.company).credit_limit = 1000.0  # exposure 1650
        self.env["ar.credit.risk"]._compute_company()
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": self.env.company.id})
        self.assertEqual(dashboard.credit_over_limit_count, 1)
        self.assertAlmostEqual(dashboard.credit_exposure, 1650.0)
        self.assertAlmostEqual(dashboard.credit_over_limit_exposure, 650.0)
        grade = self.env["ar.credit.risk"].search([("partner_id", "=", self.customer.id)]).grade
        self.assertIn(f"<td>{grade}</td>", dashboard.credit_grade_html)
        action = dashboard.with_context(ar_drill="over_limit").action_drill_credit()
        self.assertEqual(self.env["ar.credit.risk"].search(action["domain"]).partner_id, self.customer)

    def test_other_company_is_not_counted(self):
        other = self.setup_other_company()["company"]
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": other.id})
        self.assertEqual(dashboard.amount_open, 0.0)

    def test_access_rights(self):
        """Portal users never see the analysis; accountants only see their companies' rows."""
        portal = new_test_user(self.env, login="ar_portal_dash", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.env["ar.suite.receivable.report"].with_user(portal).search([])
        with self.assertRaises(AccessError):
            self.env["ar.suite.dashboard"].with_user(portal).create({})
        other = self.setup_other_company()["company"]
        accountant = new_test_user(
            self.env,
            login="ar_other_accountant",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        rows = self.env["ar.suite.receivable.report"].with_user(accountant).search([])
        self.assertFalse(rows & self._rows(self.overdue_45))
        self.assertTrue(self.env["ar.suite.receivable.report"].search([("move_id", "=", self.overdue_45.id)]))

    def test_countback_dso(self):
        # open 1500; last 30 days sold 1000, the 30 before 1000: 30 + 15 days
        self.assertAlmostEqual(countback_dso(1500.0, [1000.0, 1000.0]), 45.0)
        self.assertAlmostEqual(countback_dso(500.0, [1000.0]), 15.0)
        self.assertEqual(countback_dso(0.0, [1000.0]), 0.0)
        # a period without sales counts fully
        self.assertAlmostEqual(countback_dso(500.0, [0.0, 1000.0]), 45.0)

    def _dashboard_queries(self, expected=20):
        """Open a fresh dashboard and read every figure with cold record caches, as the form does.

        Returns the figures and the number of SQL queries it took (asserted <= ``expected``).
        """
        fields_to_read = [name for name, field in self.env["ar.suite.dashboard"]._fields.items() if field.compute]
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": self.env.company.id})
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        with self.assertQueryCount(expected):
            values = dashboard.read(fields_to_read)[0]
        return values, self.cr.sql_log_count - before

    def test_dashboard_fixed_query_count(self):
        """The dashboard costs the same 20 queries on a 4-invoice and on a 64-invoice book (3 of them for the
        promises to pay, 4 for the payment plans and the cash expected from arrangements)."""
        self._dashboard_queries(expected=55)  # first opening: fills the registry caches (rules, ...)
        small, small_count = self._dashboard_queries()
        customers = self.env["res.partner"].create(
            [{"name": f"Dashboard Customer {i}", "is_company": True} for i in range(20)]
        )
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customers[i % 20].id,
                    "invoice_date": self.today - timedelta(days=3 * i),
                    "invoice_date_due": self.today - timedelta(days=3 * i - 30),
                    "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": 100.0})],
                }
                for i in range(60)
            ]
        )
        moves.action_post()
        self._register_payment(moves[:10])
        large, large_count = self._dashboard_queries()
        self.assertEqual(large_count, small_count, "the dashboard's query count must not grow with the book")
        self.assertEqual(large["open_customer_count"], small["open_customer_count"] + 20)
        self.assertGreater(large["amount_open"], small["amount_open"])
