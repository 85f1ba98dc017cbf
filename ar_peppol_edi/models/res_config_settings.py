from odoo import fields, models

from ..tools.ubl_validator import RulesUnavailable, get_validator


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_peppol_rules_path = fields.Char(related="company_id.ar_peppol_rules_path", readonly=False)
    ar_peppol_rules_url = fields.Char(related="company_id.ar_peppol_rules_url", readonly=False)
    ar_peppol_connector_id = fields.Many2one(related="company_id.ar_peppol_connector_id", readonly=False)

    def action_ar_peppol_fetch_rules(self):
        self.ensure_one()
        self.company_id._ar_peppol_fetch_rules()
        return self.action_ar_peppol_check_rules()

    def action_ar_peppol_install_official_rules(self):
        self.ensure_one()
        self.env["res.company"]._ar_peppol_install_official_rules()
        return self.action_ar_peppol_check_rules()

    def action_ar_peppol_check_rules(self):
        self.ensure_one()
        try:
            validator = get_validator(self.company_id._ar_peppol_rules_location())
        except RulesUnavailable as exc:
            params = {
                "type": "danger",
                "message": self.env._("Peppol rules not available: %(reason)s", reason=str(exc)),
            }
        else:
            params = {
                "type": "success",
                "message": self.env._("The Peppol rules are loaded and ready: %(version)s.", version=validator.version),
            }
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
