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
