from datetime import date

from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_dunning.tools.dunning_level import days_overdue, select_level


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
