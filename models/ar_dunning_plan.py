from odoo import api, fields, models


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


class ArDunningPlanRule(models.Model):
    """The suite matches payment plan rules on the customer segment of ar_customer_centric too."""

    _inherit = "ar.dunning.plan.rule"

    segment = fields.Selection(
        selection=lambda self: self._selection_segment(),
        string="Customer Segment",
        help="The customer segment (Customer > Accounting) this rule applies to. Empty: every segment.",
    )

    def _selection_segment(self):
        return self.env["res.partner"]._fields["ar_segment"]._description_selection(self.env)

    def _ar_matches(self, partner, tone):
        # EXTENDS ar_dunning
        if not super()._ar_matches(partner, tone):
            return False
        return not self.segment or partner.with_company(self.company_id).ar_segment == self.segment
