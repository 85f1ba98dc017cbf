from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_suite_company_vat = fields.Char(related="company_id.vat", readonly=False, string="Company VAT")
    ar_suite_peppol_eas = fields.Selection(
        related="company_id.partner_id.peppol_eas", readonly=False, string="Peppol scheme (EAS)"
    )
    ar_suite_peppol_endpoint = fields.Char(
        related="company_id.partner_id.peppol_endpoint", readonly=False, string="Peppol endpoint"
    )
    ar_suite_findings_html = fields.Html(string="Set-up checks", compute="_compute_ar_suite_findings", sanitize=False)
    ar_suite_findings_count = fields.Integer(string="Open set-up points", compute="_compute_ar_suite_findings")

    @api.depends("company_id", "ar_suite_company_vat", "ar_suite_peppol_eas", "ar_suite_peppol_endpoint")
    def _compute_ar_suite_findings(self):
        onboarding = self.env["ar.suite.onboarding"]
        for settings in self:
            findings = onboarding._ar_get_findings(settings.company_id)
            settings.ar_suite_findings_count = len(findings)
            settings.ar_suite_findings_html = onboarding._ar_findings_html(findings)
