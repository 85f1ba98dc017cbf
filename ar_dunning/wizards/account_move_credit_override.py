from odoo import fields, models
from odoo.exceptions import UserError


class AccountMoveCreditOverride(models.TransientModel):
    """Post invoices of a customer on credit hold or over its limit, with a reason logged in their chatter."""

    _name = "account.move.credit.override"
    _description = "Post Invoices with a Credit Override"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    reason = fields.Text(required=True, help="Logged in the chatter of each invoice.")

    def action_post(self):
        self.ensure_one()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for posting over the credit hold or limit."))
        self.move_ids.check_access("write")
        self.move_ids.with_context(ar_credit_override_reason=reason).action_post()
        return {"type": "ir.actions.act_window_close"}
