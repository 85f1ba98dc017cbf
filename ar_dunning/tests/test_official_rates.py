"""A module update brings the shipped statutory rates current, never over a rate entered by hand."""

import importlib.util
from datetime import date

from odoo.modules.module import get_manifest
from odoo.tests import TransactionCase, tagged
from odoo.tools.convert import convert_file
from odoo.tools.misc import file_path


@tagged("post_install", "-at_install")
class TestOfficialRates(TransactionCase):
    def _update_module_data(self):
        """What ``-u ar_dunning`` does with the module's data files (``data/``), in update mode."""
        for path in get_manifest("ar_dunning")["data"]:
            if path.startswith("data/"):
                convert_file(self.env, "ar_dunning", path, {}, mode="update")

    def test_update_brings_shipped_rates_current(self):
        stale = self.env.ref("ar_dunning.interest_de_b2b_2025_h1")
        official = (stale.rate, stale.legal_basis, stale.to_check)
        # what an older version of the module left in an existing database: another figure, still flagged
        stale.with_context(install_module="ar_dunning").write({"rate": 9.99, "to_check": True, "legal_basis": "old"})
        self.assertFalse(stale.manual)
        corrected = self.env.ref("ar_dunning.interest_be_b2b_2025_h1")
        corrected.write({"rate": 11.75})  # an accountant's correction
        self.assertTrue(corrected.manual)
        own = self.env["ar.dunning.interest.rate"].create(
            {
                "country_id": self.env.ref("base.fr").id,
                "customer_type": "b2b",
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 6, 30),
                "rate": 12.0,
            }
        )
        self.assertTrue(own.manual)
        self._update_module_data()
        self.assertEqual((stale.rate, stale.legal_basis, stale.to_check), official)
        self.assertFalse(stale.manual)
        self.assertEqual(corrected.rate, 11.75, "a rate corrected by hand is kept")
        self.assertEqual(own.rate, 12.0)

    def test_migration_marks_hand_edits(self):
        """19.0.1.1.0 pre-migration: before the column existed, a later write_date tells a user's correction."""
        edited = self.env.ref("ar_dunning.interest_nl_b2b_2025_h1")
        untouched = self.env.ref("ar_dunning.interest_nl_b2b_2025_h2")
        own = self.env["ar.dunning.interest.rate"].create(
            {
                "country_id": self.env.ref("base.fr").id,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 6, 30),
                "rate": 12.0,
            }
        )
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            "UPDATE ar_dunning_interest_rate SET manual = NULL, write_date = create_date WHERE id IN %s",
            [(edited.id, untouched.id, own.id)],
        )
        cr.execute(
            "UPDATE ar_dunning_interest_rate SET write_date = create_date + interval '3 days' WHERE id = %s",
            [edited.id],
        )
        path = file_path("ar_dunning/migrations/19.0.1.1.0/pre-migrate.py")
        spec = importlib.util.spec_from_file_location("ar_dunning_pre_migrate_19_0_1_1_0", path)
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        script.migrate(cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual((edited.manual, untouched.manual, own.manual), (True, False, True))
