from odoo import api, models


class ArDunningPlan(models.Model):
    _inherit = "ar.dunning.plan"

    @api.model
    def _ar_plan_has_mandate(self, partner, company):
        # EXTENDS 'ar_dunning': the buyer's autopay (ar_customer_centric) collects the instalments when it is on
        # with a usable SEPA mandate or an active saved payment method in that company
        partner = partner.commercial_partner_id.with_company(company)
        if not partner.ar_autopay:
            return False
        mandate = partner.ar_autopay_mandate_id
        return bool((mandate and mandate._ar_is_usable()) or partner.ar_autopay_token_id.active)
