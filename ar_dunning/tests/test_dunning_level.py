from datetime import date

from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_dunning.tools.dunning_level import (
    ageing_bucket,
    band_fee,
    collection_effectiveness,
    days_overdue,
    dso_countback,
    interest_amount,
    next_level,
    select_level,
    tone_score,
)

WIK = [(0, 0, 15), (2500, 375, 10), (5000, 625, 5), (10000, 875, 1), (200000, 2775, 0.5)]
BE_B2C = [(0, 20, 0), (150, 30, 10), (500, 65, 5)]


@tagged("post_install", "-at_install")
class TestDunningLevel(TransactionCase):
    def test_days_overdue_boundaries(self):
        self.assertEqual(days_overdue(date(2026, 1, 31), date(2026, 1, 31)), 0)
        # weekends do not matter: Friday due, Monday is three days late
        self.assertEqual(days_overdue(date(2026, 1, 30), date(2026, 2, 2)), 3)
        self.assertEqual(days_overdue(date(2026, 2, 10), date(2026, 2, 3)), -7)

    def test_select_level(self):
        offsets = [-3, 7, 21, 35]
        self.assertIsNone(select_level(offsets, -4))
        self.assertEqual(select_level(offsets, -3), 0)
        self.assertEqual(select_level(offsets, 6), 0)
        self.assertEqual(select_level(offsets, 7), 1)
        self.assertEqual(select_level(offsets, 100), 3)

    def test_next_level_one_step_at_a_time(self):
        offsets = [3, 17, 31]
        self.assertIsNone(next_level(offsets, 0))  # due today
        self.assertIsNone(next_level(offsets, 2))
        self.assertEqual(next_level(offsets, 3), 0)  # exactly N days
        self.assertEqual(next_level(offsets, 90), 0)  # never reminded: first reminder first
        self.assertEqual(next_level(offsets, 90, 0), 1)
        self.assertIsNone(next_level(offsets, 16, 0))  # level 2 not reached yet
        self.assertEqual(next_level(offsets, 17, 0), 1)
        self.assertIsNone(next_level(offsets, 200, 2))  # top of the ladder

    def test_wik_staffel(self):
        """Dutch WIK (Besluit BIK): 15% of the first 2,500, min EUR 40, ... max EUR 6,775."""
        self.assertEqual(band_fee(100, WIK, 40, 6775), 40.0)  # 15 -> minimum 40
        self.assertEqual(band_fee(1000, WIK, 40, 6775), 150.0)
        self.assertEqual(band_fee(2500, WIK, 40, 6775), 375.0)
        self.assertEqual(band_fee(6000, WIK, 40, 6775), 675.0)  # 375 + 250 + 50
        self.assertEqual(band_fee(15000, WIK, 40, 6775), 925.0)  # 875 + 1% of 5,000
        self.assertEqual(band_fee(300000, WIK, 40, 6775), 3275.0)
        self.assertEqual(band_fee(2000000, WIK, 40, 6775), 6775.0)  # cap

    def test_belgian_b2c_caps(self):
        """Art. XIX.2 CEL: <=150 -> 20; 150.01-500 -> 30 + 10% above 150; >500 -> 65 + 5% above 500, max 2,000."""
        self.assertEqual(band_fee(100, BE_B2C, 0, 2000), 20.0)
        self.assertEqual(band_fee(150, BE_B2C, 0, 2000), 20.0)
        self.assertEqual(band_fee(150.01, BE_B2C, 0, 2000), 30.0)
        self.assertEqual(band_fee(300, BE_B2C, 0, 2000), 45.0)
        self.assertEqual(band_fee(1000, BE_B2C, 0, 2000), 90.0)
        self.assertEqual(band_fee(100000, BE_B2C, 0, 2000), 2000.0)
        self.assertEqual(band_fee(0, BE_B2C, 0, 2000), 0.0)

    def test_b2b_flat_compensation(self):
        self.assertEqual(band_fee(12.5, [(0, 40, 0)]), 40.0)
        self.assertEqual(band_fee(99999, [(0, 40, 0)]), 40.0)

    def test_interest_288_bgb(self):
        """§288(2) BGB: 10,000 EUR, Basiszinssatz 1.27% + 9 = 10.27%, 30 days late -> 84.41 EUR."""
        periods = [(date(2026, 1, 1), date(2026, 6, 30), 10.27)]
        self.assertEqual(interest_amount(10000, date(2026, 1, 31), date(2026, 3, 2), periods), 84.41)
        # consumers: + 5 points = 6.27%
        periods_b2c = [(date(2026, 1, 1), date(2026, 6, 30), 6.27)]
        self.assertEqual(interest_amount(10000, date(2026, 1, 31), date(2026, 3, 2), periods_b2c), 51.53)
        # interest starts the day after the due date
        self.assertEqual(interest_amount(10000, date(2026, 3, 2), date(2026, 3, 2), periods), 0.0)

    def test_interest_across_half_years(self):
        """Belgium 11.5% in H1 2025, 10.5% in H2 2025: 1,000 EUR due 20 June, paid 10 July."""
        periods = [(date(2025, 1, 1), date(2025, 6, 30), 11.5), (date(2025, 7, 1), date(2025, 12, 31), 10.5)]
        expected = round(1000 * 0.115 * 10 / 365 + 1000 * 0.105 * 10 / 365, 2)
        self.assertEqual(interest_amount(1000, date(2025, 6, 20), date(2025, 7, 10), periods), expected)

    def test_tone_score(self):
        score, tone, _reasons = tone_score(0, 0, 0, 0, "good")
        self.assertEqual((score, tone), (0.0, "friendly"))
        score, tone, _reasons = tone_score(15, 0.5, 0, 0, "normal")  # 10 + 15
        self.assertEqual((score, tone), (25.0, "neutral"))
        score, tone, reasons = tone_score(60, 1.0, 1, 0, "bad")
        self.assertEqual(tone, "firm")
        self.assertEqual(dict(reasons)["broken_promises"], 10.0)
        self.assertEqual(score, 100.0)

    def test_kpi_helpers(self):
        # receivable 15,000; this month 10,000 sales over 31 days, last month 10,000 over 28 days
        self.assertEqual(dso_countback(15000, [(10000, 31), (10000, 28)]), 45.0)
        self.assertEqual(dso_countback(0, [(10000, 31)]), 0.0)
        self.assertEqual(collection_effectiveness(1000, 5000, 2000, 1000), 80.0)
        self.assertEqual(ageing_bucket(0), "not_due")
        self.assertEqual(ageing_bucket(30), "d1_30")
        self.assertEqual(ageing_bucket(31), "d31_60")
        self.assertEqual(ageing_bucket(91), "d90")
