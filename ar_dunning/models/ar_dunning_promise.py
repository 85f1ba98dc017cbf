from odoo import fields, models


class ArDunningPromise(models.Model):
    _name = "ar.dunning.promise"
    _description = "Promise to Pay"
    _order = "promise_date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, domain=[("parent_id", "=", False)], string="Customer"
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    promise_date = fields.Date(required=True, help="No reminder is sent to the customer until this date.")
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken")],
        default="open",
        required=True,
        help="An open promise whose date has passed while the customer is still overdue becomes broken "
        "at the next dunning run (it lowers the payment score).",
    )
    note = fields.Char()

    def action_mark_kept(self):
        self.state = "kept"
