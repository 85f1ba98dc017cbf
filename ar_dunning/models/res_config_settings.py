from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ar_dunning_be_b2c_clause = fields.Boolean(related="company_id.ar_dunning_be_b2c_clause", readonly=False)
    ar_dunning_be_b2c_clause_rate = fields.Float(related="company_id.ar_dunning_be_b2c_clause_rate", readonly=False)
    ar_dunning_de_agreed_date = fields.Boolean(related="company_id.ar_dunning_de_agreed_date", readonly=False)
    ar_plan_consumer_confirmed = fields.Boolean(related="company_id.ar_plan_consumer_confirmed", readonly=False)
    ar_dunning_nl_b2b_fee_rule_id = fields.Many2one(related="company_id.ar_dunning_nl_b2b_fee_rule_id", readonly=False)
