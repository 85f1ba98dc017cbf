from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ArSegmentApply(models.TransientModel):
    _name = "ar.segment.apply"
    _description = "Apply Segment Defaults to Customers"

    partner_ids = fields.Many2many("res.partner", string="Customers")
    segment = fields.Selection(
        selection=lambda self: self.env["res.partner"]._fields["ar_segment"].selection,
        help="Leave empty to use the selected customers; set it to update every customer of the segment.",
    )
    overwrite = fields.Boolean(
        string="Overwrite Existing Preferences",
        default=True,
        help="Untick to leave customers who already have a preferred channel alone.",
    )

    @api.model
    def default_get(self, fields_list):
        # EXTENDS 'base'
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner" and "partner_ids" in fields_list:
            values["partner_ids"] = [fields.Command.set(self.env.context.get("active_ids") or [])]
        return values

    def action_apply(self):
        self.ensure_one()
        Partner = self.env["res.partner"]
        partners = self.partner_ids.commercial_partner_id
        if self.segment:
            partners |= Partner.search([("ar_segment", "=", self.segment), ("parent_id", "=", False)])
        partners = partners.filtered("ar_segment")
        updated = self.env["ar.segment.default"]._ar_apply_to(partners, overwrite=self.overwrite)
        problems = []
        for partner in updated:
            try:
                partner._ar_check_delivery_preferences()
            except ValidationError as error:
                problems.append(error.args[0])
        message = self.env._("%(count)s customer(s) updated.", count=len(updated))
        if problems:
            message += "\n" + self.env._("To fix before their next invoice:") + "\n" + "\n".join(problems)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if problems else "success",
                "title": self.env._("Segment defaults applied"),
                "message": message,
                "sticky": bool(problems),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
