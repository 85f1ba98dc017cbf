from odoo import fields, models

from .ar_dunning_line import EXCLUSION_REASONS


class ArDunningItem(models.Model):
    _name = "ar.dunning.item"
    _description = "Dunning Line Invoice"
    _order = "line_id, date_maturity, id"

    line_id = fields.Many2one("ar.dunning.line", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    date = fields.Date(related="line_id.date", store=True)
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True)
    move_line_id = fields.Many2one("account.move.line")
    invoice_date = fields.Date(related="move_id.invoice_date")
    date_maturity = fields.Date(string="Due Date")
    days_overdue = fields.Integer()
    currency_id = fields.Many2one("res.currency", help="The invoice's currency: the amounts of this row are in it.")
    amount_residual = fields.Monetary(string="Amount Due")
    interest = fields.Monetary()
    fee = fields.Monetary()
    fee_eur = fields.Float(
        string="Statutory Fee (EUR)",
        digits=(16, 2),
        help="The fee as the law fixes it in euro (EUR 40, WIK scale, Book XIX caps), before its conversion to the "
        "invoice's currency at the rate of the reminder date.",
    )
    fee_legal_basis = fields.Char(string="Fee Source", help="The rule and the law behind the fee in euro.")
    level_id = fields.Many2one("ar.dunning.level", string="New Level", help="Empty: listed in the statement only.")
    exclusion_reason = fields.Selection(EXCLUSION_REASONS)
