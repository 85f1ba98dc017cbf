from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _ar_dunning_pay_url(self):
        # EXTENDS 'ar_dunning'
        # Reminders link to ar_customer_centric's signed guest pay-all page of the customer:
        # every open invoice, paid in one transaction, without a portal account.
        self.ensure_one()
        return self.commercial_partner_id._ar_get_pay_all_url()
