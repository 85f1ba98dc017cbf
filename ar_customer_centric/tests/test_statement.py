from datetime import date, datetime

from odoo import Command
from odoo.tests import tagged

from ..tools import periods
from .sending_common import SendingCommon


@tagged("post_install", "-at_install")
class TestStatement(SendingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Monthly Buyer",
                "is_company": True,
                "email": "ap@monthly.example",
                "tz": "Pacific/Auckland",
                "ar_invoice_grouping": "statement",
                "ar_statement_period": "monthly",
                "ar_statement_day": 1,
            }
        )
        cls.before = cls._invoice(cls.customer, 1000.0, invoice_date="2025-10-31")
        cls.first = cls._invoice(cls.customer, 100.0, invoice_date="2025-11-01")
        cls.refund = cls._invoice(cls.customer, 30.0, move_type="out_refund", invoice_date="2025-11-15")
        cls.last = cls._invoice(cls.customer, 200.0, invoice_date="2025-11-30")
        cls.after = cls._invoice(cls.customer, 5000.0, invoice_date="2025-12-01")
        # 'before' is half paid in the period
        cls.env["account.payment.register"].with_context(active_model="account.move", active_ids=cls.before.ids).create(
            {"amount": 500.0, "payment_date": "2025-11-10"}
        )._create_payments()

    def test_periods(self):
        self.assertEqual(
            periods.last_closed_period(date(2025, 12, 1), "monthly", 1),
            (date(2025, 12, 1), date(2025, 11, 1), date(2025, 11, 30)),
        )
        self.assertEqual(
            periods.last_closed_period(date(2025, 11, 30), "monthly", 1),
            (date(2025, 11, 1), date(2025, 10, 1), date(2025, 10, 31)),
        )
        self.assertEqual(
            periods.last_closed_period(date(2025, 3, 14), "monthly", 15),
            (date(2025, 2, 15), date(2025, 1, 15), date(2025, 2, 14)),
        )
        # weekly on Mondays: Wednesday 2025-11-26 -> issued Monday 24th for the week before
        self.assertEqual(
            periods.last_closed_period(date(2025, 11, 26), "weekly", 1),
            (date(2025, 11, 24), date(2025, 11, 17), date(2025, 11, 23)),
        )
        self.assertEqual(periods.local_today(datetime(2025, 11, 30, 12, 0), "Pacific/Auckland"), date(2025, 12, 1))
        self.assertEqual(periods.local_today(datetime(2025, 11, 30, 12, 0), "Bad/Zone"), date(2025, 11, 30))

    def test_month_end_timezone_and_credit_notes(self):
        Statement = self.env["ar.customer.statement"]
        noon_utc = datetime(2025, 11, 30, 12, 0)
        utc_customer = self.env["res.partner"].create(
            {
                "name": "UTC Buyer",
                "is_company": True,
                "email": "ap@utc.example",
                "tz": "UTC",
                "ar_invoice_grouping": "statement",
                "ar_statement_period": "monthly",
                "ar_statement_day": 1,
            }
        )
        statements = Statement._ar_generate_statements(now=noon_utc)
        mine = statements.filtered(lambda s: s.partner_id == self.customer)
        # in Auckland it is already 1 December: November is closed
        self.assertRecordValues(mine, [{"date_from": date(2025, 11, 1), "date_to": date(2025, 11, 30)}])
        self.assertEqual(mine.move_ids, self.first | self.refund | self.last)
        self.assertAlmostEqual(
            mine.amount_total,
            self.first.amount_total_signed + self.refund.amount_total_signed + self.last.amount_total_signed,
        )
        self.assertLess(self.refund.amount_total_signed, 0)
        # in UTC it is still 30 November: the last closed period is October
        theirs = statements.filtered(lambda s: s.partner_id == utc_customer)
        self.assertEqual(theirs.date_to, date(2025, 10, 31))

    def test_totals_equal_ledger_and_single_reference(self):
        statement = self.env["ar.customer.statement"]._ar_create_for_period(
            self.customer, self.company, date(2025, 11, 1), date(2025, 11, 30)
        )
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("account_id", "=", self.customer.property_account_receivable_id.id),
                ("parent_state", "=", "posted"),
                ("date", "<=", "2025-11-30"),
            ]
        )
        self.assertAlmostEqual(statement.amount_residual, sum(lines.mapped("balance")))
        expected = (
            self.before.amount_total_signed
            - 500.0
            + self.first.amount_total_signed
            + self.refund.amount_total_signed
            + self.last.amount_total_signed
        )
        self.assertAlmostEqual(statement.amount_residual, expected)
        self.assertIn(self.before, statement.open_move_ids)
        self.assertNotIn(self.after, statement.open_move_ids)
        self.assertRegex(statement.payment_reference, r"^\+\+\+\d{3}/\d{4}/\d{5}\+\+\+$")
        again = self.env["ar.customer.statement"]._ar_create_for_period(
            self.customer, self.company, date(2025, 11, 1), date(2025, 11, 30)
        )
        self.assertEqual(again, statement, "one statement per customer and period")

    def test_delivery_releases_held_invoices(self):
        self._send(self.first | self.last)
        self.assertEqual(set((self.first | self.last).mapped("ar_delivery_state")), {"held"})
        statement = self.env["ar.customer.statement"]._ar_generate_statements(now=datetime(2025, 11, 30, 12))
        statement = statement.filtered(lambda s: s.partner_id == self.customer)
        self.assertEqual(statement.state, "sent")
        mail = statement.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(mail), 1)
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertIn(statement.payment_reference, mail.body)
        self.assertEqual(set((self.first | self.last).mapped("ar_delivery_state")), {"sent"})
        self.assertEqual(self.first.ar_delivery_log_ids.sorted("id")[-1].statement_id, statement)
        # a second run (crash-then-rerun) sends nothing more
        self.env["ar.customer.statement"]._ar_generate_statements(now=datetime(2025, 11, 30, 13))
        self.assertEqual(len(statement.message_ids.filtered(lambda m: m.message_type == "comment")), 1)

    def test_statement_pdf_and_letter(self):
        self.customer.write(
            {
                "invoice_sending_method": "ar_letter",
                "street": "Kerkstraat 1",
                "city": "Gent",
                "country_id": self.env.ref("base.be").id,
            }
        )
        self.company.partner_id.bank_ids = [Command.create({"acc_number": "BE71096123456769"})]
        statement = self.env["ar.customer.statement"]._ar_create_for_period(
            self.customer, self.company, date(2025, 11, 1), date(2025, 11, 30)
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("ar_customer_centric.ar_customer_statement_report", statement.ids)[0]
            .decode()
        )
        for text in (self.first.name, self.refund.name, statement.payment_reference):
            self.assertIn(text, html)
        self.assertIn("data:image/png;base64", html)
        log = statement._ar_deliver()
        self.assertRecordValues(log, [{"channel": "ar_letter", "state": "queued"}])
