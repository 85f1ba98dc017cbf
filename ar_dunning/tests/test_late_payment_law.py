"""The late-payment rules of tools/late_payment_law.py against the laws' own figures, to the cent."""

from datetime import date

from odoo.tests import BaseCase, tagged

from odoo.addons.ar_dunning.tools.late_payment_law import (
    be_b2c_damages,
    be_b2c_interest_rate,
    be_b2c_period,
    de_default_start,
    de_interest_rate,
    eu_b2b_compensation,
    half_year_label,
    interest_by_periods,
    nl_b2c_costs,
    nl_b2c_period,
    nl_wik_costs,
    uncovered_half_years,
)

DE_B2B_2026 = [(date(2026, 1, 1), date(2026, 6, 30), 10.27)]


@tagged("post_install", "-at_install")
class TestLatePaymentLaw(BaseCase):
    def test_wik_scale(self):
        # art. 2 Besluit vergoeding voor buitengerechtelijke incassokosten, on the total principal
        self.assertEqual(nl_wik_costs(100), 40.0)  # 15 % = 15.00 -> the EUR 40 minimum
        self.assertEqual(nl_wik_costs(266.67), 40.0)
        self.assertEqual(nl_wik_costs(1000), 150.0)  # 15 % of 1,000
        self.assertEqual(nl_wik_costs(2500), 375.0)  # 15 % of the first 2,500
        self.assertEqual(nl_wik_costs(3000), 425.0)  # 375 + 10 % of 500
        self.assertEqual(nl_wik_costs(5000), 625.0)  # 375 + 250
        self.assertEqual(nl_wik_costs(10000), 875.0)  # 625 + 5 % of 5,000
        self.assertEqual(nl_wik_costs(12345.67), 898.46)  # 875 + 1 % of 2,345.67
        self.assertEqual(nl_wik_costs(200000), 2775.0)  # 875 + 1 % of 190,000
        self.assertEqual(nl_wik_costs(250000), 3025.0)  # 2,775 + 0.5 % of 50,000
        self.assertEqual(nl_wik_costs(1000000), 6775.0)  # maximum
        # two invoices of 100 and 150 in one letter: once on 250, not twice the minimum
        self.assertEqual(nl_wik_costs(100 + 150), 40.0)
        # art. 6:96(6) BW: never more than the 14-day letter announced
        self.assertEqual(nl_b2c_costs(2000, announced=150.0), 150.0)
        self.assertEqual(nl_b2c_costs(500, announced=150.0), 75.0)

    def test_belgian_consumer_caps(self):
        # art. XIX.4 § 2 CEL, on the amount due of the reminder
        self.assertEqual(be_b2c_damages(100), 20.0)
        self.assertEqual(be_b2c_damages(150), 20.0)
        self.assertEqual(be_b2c_damages(150.01), 30.0)
        self.assertEqual(be_b2c_damages(400), 55.0)  # 30 + 10 % of 250
        self.assertEqual(be_b2c_damages(500), 65.0)  # 30 + 10 % of 350
        self.assertEqual(be_b2c_damages(1000), 90.0)  # 65 + 5 % of 500
        self.assertEqual(be_b2c_damages(39500), 2000.0)  # 65 + 1,950 = 2,015 -> at most 2,000
        self.assertEqual(be_b2c_damages(1000, clause=False), 0.0, "no clause, no damages")
        # interest: the clause's rate capped by the Law of 2 Aug 2002; without clause the legal rate
        self.assertEqual(be_b2c_interest_rate(12.0, 10.5, 4.5), 10.5)
        self.assertEqual(be_b2c_interest_rate(8.0, 10.5, 4.5), 8.0)
        self.assertEqual(be_b2c_interest_rate(8.0, 10.5, 4.5, clause=False), 4.5)
        self.assertIsNone(be_b2c_interest_rate(8.0, None, 4.5), "a missing rate stays missing, never 0")

    def test_notice_periods_by_channel(self):
        # Belgium: e-mail -> from the next day; letter -> from the third working day after posting
        self.assertEqual(be_b2c_period(date(2026, 3, 2), "email"), (date(2026, 3, 3), date(2026, 3, 16)))
        # posted Friday 6 March: Mon 9, Tue 10, Wed 11 -> 11 to 24 March
        self.assertEqual(be_b2c_period(date(2026, 3, 6), "letter"), (date(2026, 3, 11), date(2026, 3, 24)))
        # the Netherlands: 14 days from the day after receipt
        self.assertEqual(nl_b2c_period(date(2026, 3, 2), "email"), (date(2026, 3, 3), date(2026, 3, 17)))
        self.assertEqual(nl_b2c_period(date(2026, 3, 2), "letter"), (date(2026, 3, 4), date(2026, 3, 18)))

    def test_german_default(self):
        due = date(2026, 1, 31)
        common = {"invoice_received": date(2026, 1, 5), "invoice_notice": False, "reminder_received": None}
        # § 286(2) no. 1 BGB: agreed payment date -> from the day after it
        self.assertEqual(de_default_start(due, agreed_date=True, consumer=False, **common), date(2026, 2, 1))
        # § 286(3): business debtor, 30 days after due date and receipt of the invoice
        self.assertEqual(de_default_start(due, agreed_date=False, consumer=False, **common), date(2026, 3, 3))
        # consumer without the notice on the invoice: only a reminder puts him in default
        self.assertIsNone(de_default_start(due, agreed_date=False, consumer=True, **common))
        notice = dict(common, invoice_notice=True)
        self.assertEqual(de_default_start(due, agreed_date=False, consumer=True, **notice), date(2026, 3, 3))
        # § 286(1): the reminder received on 10 February -> interest from 11 February
        reminded = dict(common, reminder_received=date(2026, 2, 10))
        self.assertEqual(de_default_start(due, agreed_date=False, consumer=True, **reminded), date(2026, 2, 11))
        # § 288(1)/(2) BGB on the Basiszinssatz of 1 January 2026 (1.27 %)
        self.assertEqual(de_interest_rate(1.27, consumer=False), 10.27)
        self.assertEqual(de_interest_rate(1.27, consumer=True), 6.27)

    def test_interest_288_bgb(self):
        # 10,000 EUR, in default from 1 February to 2 March 2026 (30 days) at 10.27 %: 84.41
        interest, missing = interest_by_periods(10000, date(2026, 2, 1), date(2026, 3, 2), DE_B2B_2026)
        self.assertEqual((interest, missing), (84.41, []))
        interest, _missing = interest_by_periods(
            10000, date(2026, 2, 1), date(2026, 3, 2), [(date(2026, 1, 1), date(2026, 6, 30), 6.27)]
        )
        self.assertEqual(interest, 51.53)

    def test_missing_half_year_is_named_not_zero(self):
        interest, missing = interest_by_periods(10000, date(2026, 6, 1), date(2026, 7, 31), DE_B2B_2026)
        self.assertEqual(missing, [date(2026, 7, 1)])
        self.assertEqual(half_year_label(missing[0]), "H2-2026")
        self.assertEqual(
            uncovered_half_years(date(2025, 12, 20), date(2026, 7, 2), DE_B2B_2026),
            [date(2025, 7, 1), date(2026, 7, 1)],
        )
        self.assertEqual(uncovered_half_years(date(2026, 2, 1), date(2026, 3, 2), DE_B2B_2026), [])
        self.assertGreater(interest, 0.0)  # the covered days are computed, the caller blocks the claim

    def test_eu_compensation_per_late_payment(self):
        # CJEU C-585/20 and C-78/22: EUR 40 per late invoice or instalment; C-279/23: whatever the amount
        self.assertEqual(eu_b2b_compensation(3), 120.0)
        self.assertEqual(eu_b2b_compensation(0), 0.0)
