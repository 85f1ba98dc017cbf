from odoo import fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestSuiteOnboarding(AccountTestInvoicingCommon):
    """The set-up checks say what is missing, with a link to fix it, and go quiet when done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write({"vat": False})
        cls.company.partner_id.write({"peppol_eas": False, "peppol_endpoint": False})
        cls.onboarding = cls.env["ar.suite.onboarding"]

    def _keys(self):
        return {finding["key"] for finding in self.onboarding._ar_get_findings(self.company)}

    def test_missing_identity_is_reported_with_a_link(self):
        findings = {f["key"]: f for f in self.onboarding._ar_get_findings(self.company)}
        self.assertIn("company_vat", findings)
        self.assertIn("company_peppol", findings)
        self.assertTrue(findings["company_vat"]["url"].startswith("/odoo/action-base.action_res_company_form/"))
        html = self.onboarding._ar_findings_html(list(findings.values()))
        self.assertIn("Fix it", html)

    def test_fixed_identity_goes_quiet(self):
        self.company.write({"vat": "BE0477472701", "country_id": self.env.ref("base.be").id})
        self.company.partner_id.write({"peppol_eas": "0208", "peppol_endpoint": "0477472701"})
        keys = self._keys()
        self.assertNotIn("company_vat", keys)
        self.assertNotIn("company_peppol", keys)

    def test_bank_and_provider_checks(self):
        self.env["res.partner.bank"].search([("partner_id", "=", self.company.partner_id.id)]).unlink()
        self.assertIn("company_bank", self._keys())
        self.env["res.partner.bank"].create(
            {"acc_number": "BE71096123456769", "partner_id": self.company.partner_id.id}
        )
        self.assertNotIn("company_bank", self._keys())
        providers = self.env["payment.provider"].search([("company_id", "=", self.company.id)])
        providers.write({"state": "disabled"})
        self.assertIn("payment_provider", self._keys())
        self.env["payment.provider"].sudo().create(
            {"name": "Test provider", "code": "demo", "company_id": self.company.id, "state": "test"}
        )
        self.assertNotIn("payment_provider", self._keys())

    def test_settings_show_the_findings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertGreater(settings.ar_suite_findings_count, 0)
        self.assertIn("<li", settings.ar_suite_findings_html)

    def test_missing_statutory_rate_is_named(self):
        Rate = self.env["ar.dunning.interest.rate"]
        be, today = self.env.ref("base.be"), fields.Date.context_today(self.company)
        current = Rate.search(
            [
                ("country_id", "=", be.id),
                ("customer_type", "=", "b2b"),
                ("date_from", "<=", today),
                ("date_to", ">=", today),
            ]
        )
        before = {f["key"]: f["message"] for f in self.onboarding._ar_get_findings(self.company)}
        self.assertNotIn(f"{be.name} / ", before.get("interest_rates", ""))
        current.unlink()
        finding = {f["key"]: f for f in self.onboarding._ar_get_findings(self.company)}["interest_rates"]
        self.assertIn(be.name, finding["message"])
        self.assertIn("H1-" if today.month <= 6 else "H2-", finding["message"])
        self.assertEqual(finding["severity"], "danger")
