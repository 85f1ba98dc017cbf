"""Interest and fees in the invoice's currency; statutory EUR figures converted at the reminder date."""

from datetime import date, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningCurrency(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # EUR 1 = USD 1.10 until February, USD 1.25 from 1 March 2026 (the reminder date is 2 March)
        cls.usd = cls.setup_other_currency("USD", rates=[("2025-01-01", 1.10), ("2026-03-01", 1.25)])
        cls.eur = cls.company.currency_id

    @classmethod
    def _usd_invoice(cls, partner, amount, due):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "currency_id": cls.usd.id,
                "invoice_date": due,
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create({"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    def test_company_in_euro(self):
        self.assertEqual(self.eur.name, "EUR")

    def test_interest_and_fee_in_invoice_currency(self):
        invoice = self._usd_invoice(self.be_b2b, 1000, self._days(20))
        invoice.ar_dunning_level_id = self.level1
        line = self._run(partners=self.be_b2b).line_ids
        self.assertEqual(line.level_id, self.level2)
        item = line.item_ids
        self.assertEqual(item.currency_id, self.usd)
        self.assertEqual(item.amount_residual, 1000.0, "the residual in the invoice's currency")
        # Belgian rate 10.5 % on USD 1,000 for 20 days, in USD
        self.assertEqual(item.interest, round(1000 * 0.105 * 20 / 365, 2))
        # EUR 40 (Directive 2011/7/EU) at the rate of the reminder date: USD 50.00, the EUR figure kept
        self.assertEqual(item.fee, 50.0)
        self.assertEqual(item.fee_eur, 40.0)
        self.assertIn("2011/7/EU", item.fee_legal_basis)
        self.assertEqual(line.currency_id, self.usd)
        self.assertFalse(line.multi_currency)
        self.assertEqual((line.amount_overdue, line.interest_total, line.fee_total), (1000.0, item.interest, 50.0))
        self.assertEqual(line.amount_overdue_company, 800.0, "USD 1,000 at 1.25 for the run's totals")

    def test_several_currencies_never_added(self):
        self.level2.invoice_charges = True
        usd_invoice = self._usd_invoice(self.be_b2b, 1000, self._days(20))
        eur_invoice = self._invoice(self.be_b2b, 500, self._days(20))
        (usd_invoice | eur_invoice).ar_dunning_level_id = self.level1
        run = self._run(partners=self.be_b2b, execute=True)
        line = run.line_ids
        self.assertTrue(line.multi_currency)
        interest_usd = round(1000 * 0.105 * 20 / 365, 2)
        interest_eur = round(500 * 0.105 * 20 / 365, 2)
        totals = line._ar_currency_totals()
        self.assertEqual(totals[self.usd], {"overdue": 1000.0, "interest": interest_usd, "fee": 50.0})
        self.assertEqual(totals[self.eur], {"overdue": 500.0, "interest": interest_eur, "fee": 40.0})
        # the reminder states one total per currency, never USD added to EUR
        overdue_text = line.with_context(lang="en_US").amount_overdue_text
        self.assertIn("1,000.00", overdue_text)
        self.assertIn("500.00", overdue_text)
        self.assertNotIn("1,500.00", overdue_text)
        self.assertNotIn("1,300.00", overdue_text)
        self.assertIn(overdue_text, line.body_html)
        # one charges invoice per currency
        charges = self.env["account.move"].search(
            [("partner_id", "=", self.be_b2b.id), ("id", "not in", (usd_invoice | eur_invoice).ids)]
        )
        self.assertEqual(
            sorted((m.currency_id.name, m.amount_total) for m in charges),
            [("EUR", round(interest_eur + 40.0, 2)), ("USD", round(interest_usd + 50.0, 2))],
        )
        # the reminder links both, each invoice its own currency's
        self.assertEqual(line.charge_move_ids, charges)
        self.assertEqual(usd_invoice.ar_dunning_charge_move_id.currency_id, self.usd)
        self.assertEqual(eur_invoice.ar_dunning_charge_move_id.currency_id, self.eur)
        # two weeks later, the final notice charges neither EUR 40 again (already invoiced), in no currency
        line3 = self._run(on_date=self.RUN_DATE + timedelta(days=14), partners=self.be_b2b).line_ids
        self.assertEqual(line3.level_id, self.level3)
        self.assertEqual(line3.item_ids.mapped("fee"), [0.0, 0.0])

    def test_wik_scale_on_total_in_euro(self):
        """The WIK scale is in EUR: a USD principal is converted at the reminder date, the costs back."""
        nl_b2b = self.env["res.partner"].create(
            {
                "name": "Bakkerij Jansen BV",
                "is_company": True,
                "country_id": self.env.ref("base.nl").id,
                "email": "fin@jansen.example",
            }
        )
        nl_b2b.with_company(self.company).ar_dunning_governing_law_id = self.env.ref(
            "base.nl"
        )  # chosen in the contract
        invoice = self._usd_invoice(nl_b2b, 5000, date(2026, 2, 10))
        invoice.ar_dunning_level_id = self.level1
        line = self._run(partners=nl_b2b).line_ids
        # USD 5,000 = EUR 4,000: 15 % of 2,500 + 10 % of 1,500 = EUR 525 = USD 656.25
        self.assertEqual(line.item_ids.fee_eur, 525.0)
        self.assertEqual(line.fee_total, 656.25)
