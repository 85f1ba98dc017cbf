from odoo import api, models
from odoo.fields import Domain


class ArDunningArrangement(models.AbstractModel):
    """What a promise to pay and a payment plan share: who reviews them and how the buyer is told.

    The inheriting model has ``partner_id``, ``company_id``, ``source``, ``requested_by_id`` and a computed
    ``notify_partner_id``.
    """

    _name = "ar.dunning.arrangement"
    _description = "Arrangement with a Customer (promise or plan)"

    @api.depends("requested_by_id.email", "partner_id")
    def _compute_notify_partner_id(self):
        for arrangement in self:
            requester = arrangement.requested_by_id
            if requester and requester.email:
                arrangement.notify_partner_id = requester
            else:
                partner = arrangement.partner_id
                arrangement.notify_partner_id = partner and partner._ar_dunning_get_contact()

    def _ar_follow_up_user(self, policy):
        """Who reviews: the policy's collector, else the customer's salesperson, else the first
        invoicing user of the company."""
        self.ensure_one()
        if policy and policy.collector_id:
            return policy.collector_id
        salesperson = self.partner_id.user_id
        if salesperson and not salesperson.share:
            return salesperson
        group = self.env.ref("account.group_account_invoice")
        return self.env["res.users"].search(
            Domain("all_group_ids", "in", group.ids)
            & Domain("share", "=", False)
            & Domain("company_ids", "in", self.company_id.ids),
            order="id",
            limit=1,
        )

    def _ar_notify_buyer(self, template_xmlid):
        """E-mail the buyer (their language, the formal register of the other customer e-mails); not for
        arrangements keyed in by the accountant."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for arrangement in self.filtered(lambda a: a.source != "backoffice"):
            if arrangement.notify_partner_id.email:
                template.send_mail(arrangement.id)
