from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_segment = fields.Selection(
        selection=[
            ("enterprise", "Enterprise"),
            ("mid_market", "Mid-market"),
            ("small", "Small business"),
        ],
        string="Customer Segment",
        company_dependent=True,
        help="Decides the default delivery preferences of this customer: enterprise buyers "
        "through their AP portal or Peppol, mid-market through the portal, small businesses "
        "by e-mail with a pay link.",
    )
