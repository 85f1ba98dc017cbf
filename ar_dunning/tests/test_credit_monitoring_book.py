import logging
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import split_every

from .common import ArDunningCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestCreditMonitoringBook(ArDunningCommon):
    """Issue 12: the nightly credit assessment of a generated book of 2,000 customers.

    The queries of a batch must not depend on the size of the book (nor on the batch's customers'
    number beyond the batch size): every batch costs the same, and what the run costs outside its
    batches grows by at most a query per thousand customers (the ORM's prefetch).
    """

    BOOK = 2000
    BATCH = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.account_use_credit_limit = True
        # the nights are measured from the 10th of the month: no month boundary between them (the DSO's series)
        cls.today = fields.Date.context_today(cls.env["res.partner"]).replace(day=10)

    def _generate_book(self):
        """2,000 customers with an open receivable each (a third overdue) and a limit on half of them; one in
        ten has also been invoiced this year, and a quarter of those paid late (payment behaviour, sales, DSO).

        Fast enough for the Odoo test step: the receivables are the lines of one journal entry (one
        posting, instead of 2,000 invoices numbered one after the other), all made with ``create()`` of lists.
        """
        t0 = time.time()
        Partner = self.env["res.partner"].with_company(self.company)
        partners = Partner.browse()
        for chunk in split_every(500, range(self.BOOK)):
            partners |= Partner.create(
                [
                    {"name": f"Book Customer {i:04d}", "is_company": True, "credit_limit": 5000.0 if i % 2 else 0.0}
                    for i in chunk
                ]
            )
        receivable = self.company_data["default_account_receivable"]
        income = self.company_data["default_account_revenue"]
        lines = [
            Command.create(
                {
                    "name": "Opening balance",
                    "account_id": receivable.id,
                    "partner_id": partner.id,
                    "debit": 1000.0 + i,
                    # overdue for long, or due after the measured nights: no grade changes between them
                    "date_maturity": self.today - timedelta(days=45) if i % 3 == 0 else self.today + timedelta(days=30),
                }
            )
            for i, partner in enumerate(partners)
        ]
        lines.append(
            Command.create(
                {
                    "name": "Opening balance",
                    "account_id": income.id,
                    "credit": sum(1000.0 + i for i in range(self.BOOK)),
                }
            )
        )
        opening = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.company_data["default_journal_misc"].id,
                "date": self.today - timedelta(days=90),
                "line_ids": lines,
            }
        )
        opening.action_post()
        _logger.info("credit book: customers and their receivables in %.1fs", time.time() - t0)
        invoiced = partners[::10]
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": self.today - timedelta(days=60 + i % 30),
                    "invoice_date_due": self.today - timedelta(days=30 + i % 30),
                    "invoice_line_ids": [
                        Command.create({"name": "Service", "quantity": 1, "price_unit": 500 + i, "tax_ids": []})
                    ],
                }
                for i, partner in enumerate(invoiced)
            ]
        )
        invoices.action_post()
        _logger.info("credit book: %s invoices in %.1fs", len(invoices), time.time() - t0)
        self._register_payment(invoices[::4], payment_date=self.today - timedelta(days=5), group_payment=False)
        _logger.info("credit book: %s payments in %.1fs", len(invoices[::4]), time.time() - t0)
        return partners

    def _night(self, on_date):
        """(total queries, [queries of each batch], seconds) of one nightly run."""
        Risk = self.env["ar.credit.risk"].with_company(self.company)
        original = type(Risk)._compute_batch
        per_batch = []

        def counted(risk_self, *args, **kwargs):
            before = self.cr.sql_log_count
            result = original(risk_self, *args, **kwargs)
            risk_self.env.flush_all()
            per_batch.append(self.cr.sql_log_count - before)
            return result

        self.env.flush_all()
        self.env.invalidate_all()
        start, t0 = self.cr.sql_log_count, time.time()
        with patch.object(type(Risk), "_compute_batch", counted):
            Risk._compute_company(on_date=on_date, batch_size=self.BATCH)
            self.env.flush_all()
        return self.cr.sql_log_count - start, per_batch, time.time() - t0

    def test_nightly_batch_on_2000_customers(self):
        t0 = time.time()
        partners = self._generate_book()
        generated = time.time() - t0
        first = self._night(self.today)
        # one customer in ten crosses its limit the next night: an alert each, in every batch
        crossing = partners.filtered(lambda p: p.credit_limit)[::5]
        crossing.write({"credit_limit": 100.0})
        alerts = self._night(self.today + timedelta(days=1))
        steady = self._night(self.today + timedelta(days=2))
        for label, (total, per_batch, seconds) in (("first", first), ("alerts", alerts), ("steady", steady)):
            _logger.info(
                "nightly credit assessment of %s customers (%s run): %s queries, %s batches of %s "
                "(%s queries each), %s outside the batches, %.1fs",
                self.BOOK,
                label,
                total,
                len(per_batch),
                self.BATCH,
                sorted(set(per_batch)),
                total - sum(per_batch),
                seconds,
            )
        _logger.info("credit book of %s customers generated in %.1fs", self.BOOK, generated)
        risks = self.env["ar.credit.risk"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(risks), self.BOOK)
        self.assertEqual(len(risks.filtered("over_limit")), len(crossing))
        history = self.env["ar.credit.risk.history"].search([("company_id", "=", self.company.id)])
        crossed = history.filtered("limit_crossed")
        self.assertEqual(crossed.partner_id, crossing, "one change per crossing, once")
        self.assertEqual(len(crossed.activity_id), len(crossing), "one alert per crossing, once")
        self.assertEqual(len(history), self.BOOK + len(crossing), "the steady night changed nothing")
        for label, (total, per_batch, _seconds) in (("first", first), ("alerts", alerts), ("steady", steady)):
            self.assertEqual(len(per_batch), self.BOOK // self.BATCH)
            # the first batch also reads what the next ones find in the cache (company, currency, activity type)
            self.assertEqual(len(set(per_batch[1:])), 1, f"{label}: every batch costs the same queries: {per_batch}")
            self.assertLessEqual(per_batch[0] - per_batch[1], 20, f"{label}: {per_batch}")
            self.assertLessEqual(max(per_batch), 50, f"{label}: far fewer than one query per customer")
            self.assertLessEqual(
                total - sum(per_batch), 20, f"{label}: the run's own queries do not grow with the book"
            )
