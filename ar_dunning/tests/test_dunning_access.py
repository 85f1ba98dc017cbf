from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningAccess(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.be_b2b, 100, cls._days(5))
        cls.run_rec = cls.env["ar.dunning.run"]._run_batch(
            date=cls.RUN_DATE, policy_ids=cls.policy.ids, partner_ids=cls.be_b2b.ids, company=cls.company
        )
        common = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.accountant = new_test_user(cls.env, "ar_acc", groups="account.group_account_invoice", **common)
        cls.employee = new_test_user(cls.env, "ar_emp", groups="base.group_user", **common)
        cls.portal = new_test_user(cls.env, "ar_portal", groups="base.group_portal", **common)
        cls.other_company = cls.setup_other_company()["company"]
        cls.other_accountant = new_test_user(
            cls.env,
            "ar_acc2",
            groups="account.group_account_invoice",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )

    def test_accountant_sees_dunning(self):
        lines = self.env["ar.dunning.line"].with_user(self.accountant).search([("run_id", "=", self.run_rec.id)])
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines.partner_id, self.be_b2b)
        self.assertTrue(self.policy.with_user(self.accountant).level_ids)

    def test_others_do_not(self):
        for user in (self.employee, self.portal):
            for model in (
                "ar.dunning.run",
                "ar.dunning.line",
                "ar.dunning.item",
                "ar.dunning.policy",
                "ar.dunning.kpi",
            ):
                with self.assertRaises(AccessError, msg=f"{user.login} on {model}"):
                    self.env[model].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.run_rec.line_ids.with_user(user).read(["amount_overdue"])

    def test_multi_company(self):
        lines = self.env["ar.dunning.line"].with_user(self.other_accountant).search([])
        self.assertFalse(lines)
        with self.assertRaises(AccessError):
            self.run_rec.with_user(self.other_accountant).check_access("read")

    def test_accountant_cannot_edit_policy(self):
        with self.assertRaises(AccessError):
            self.policy.with_user(self.accountant).write({"name": "Hacked"})

    def test_accountant_executes_final_notice(self):
        """An accountant (full accounting, neither manager nor contact editor) executes a final notice: the
        collector's phone-call activity and the credit hold are created, and the customer stays read-only."""
        common = {"company_id": self.company.id, "company_ids": [self.company.id]}
        accountant = new_test_user(self.env, "ar_bookkeeper", groups="account.group_account_user", **common)
        collector = new_test_user(self.env, "ar_collector", groups="account.group_account_invoice", **common)
        self.assertFalse(accountant.has_group("account.group_account_manager"))
        self.assertFalse(accountant.has_group("base.group_partner_manager"))
        self.policy.collector_id = collector
        invoice = self._invoice(self.be_b2b, 500, self._days(40))
        invoice.ar_dunning_level_id = self.level2
        run = (
            self.env["ar.dunning.run"]
            .with_user(accountant)
            ._run_batch(
                date=self.RUN_DATE,
                policy_ids=self.policy.ids,
                partner_ids=self.be_b2b.ids,
                execute=True,
                company=self.company,
            )
        )
        line = run.line_ids.filtered(lambda x: x.state == "done")
        self.assertEqual(line.level_id, self.level3)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.be_b2b.id)]
        )
        self.assertEqual(activity.user_id, collector)
        self.assertEqual(activity.create_uid, accountant)
        self.assertTrue(self.be_b2b.with_company(self.company).ar_dunning_credit_hold)
        with self.assertRaises(AccessError):
            self.be_b2b.with_user(accountant).write({"name": "Renamed"})
