from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_structured_reference_type = fields.Selection(related="company_id.ar_structured_reference_type", readonly=False)

    ar_auto_send = fields.Boolean(related="company_id.ar_auto_send", readonly=False)

    ar_instalment_notice_days = fields.Integer(related="company_id.ar_instalment_notice_days", readonly=False)

    def action_ar_open_segment_defaults(self):
        self.ensure_one()
        return self.env["ir.actions.act_window"]._for_xml_id("ar_customer_centric.ar_segment_default_action")
