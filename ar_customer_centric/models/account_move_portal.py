from odoo import api, fields, models
from odoo.fields import Domain


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_dispute_ids = fields.One2many("ar.dispute", "move_id", string="Disputes", readonly=True)
    ar_dispute_state = fields.Selection(
        selection=[("open", "Open"), ("accepted", "Accepted"), ("rejected", "Rejected")],
        string="Dispute Status",
        compute="_compute_ar_dispute_state",
        store=True,
        index="btree_not_null",
        help="State of the buyer's latest dispute on this invoice. While a dispute is open the "
        "invoice is excluded from follow-up (reminders).",
    )
    ar_no_followup_before_dispute = fields.Boolean(
        string="No Follow-Up Before Dispute",
        copy=False,
        readonly=True,
        help="Technical: value of 'No Follow-Up' before the first open dispute, restored once "
        "every dispute of the invoice is resolved.",
    )

    @api.depends("ar_dispute_ids.state")
    def _compute_ar_dispute_state(self):
        for move in self:
            disputes = move.ar_dispute_ids
            if not disputes:
                move.ar_dispute_state = False
            elif any(d.state == "open" for d in disputes):
                move.ar_dispute_state = "open"
            else:
                move.ar_dispute_state = disputes.sorted("id")[-1].state

    def _ar_get_pay_url(self):
        """Absolute URL that opens the payment form of this invoice directly.

        The link carries the invoice's portal access token (no login needed) and the
        ``payment=True`` flag that makes ``account_payment`` open its payment dialog on load.
        """
        self.ensure_one()
        if self.env.context.get("ar_pay_all_url"):
            # printed for a guest pay-all link: point back to that link, mint no invoice token
            return self.env.context["ar_pay_all_url"]
        return self.get_base_url() + self.get_portal_url(query_string="&payment=True", anchor="portal_pay")

    def _notify_get_recipients_groups(self, message, model_description, msg_vals=False):
        # EXTENDS 'account'
        # The invoice e-mail's button pays: it opens the payment form of this invoice directly.
        groups = super()._notify_get_recipients_groups(message, model_description, msg_vals=msg_vals)
        if not self._ar_payable_online():
            return groups
        pay_button = {"url": self._ar_get_pay_url(), "title": self.env._("Pay now")}
        for name, _matcher, data in groups:
            if name in ("portal_customer", "additional_intended_recipient", "portal", "customer") and data.get(
                "has_button_access"
            ):
                data["button_access"] = dict(pay_button)
        return groups

    def _ar_pay_now_values(self):
        """What paying this invoice now settles, after Odoo's notion of instalments
        (_get_invoice_next_payment_values): with several due lines, the overdue ones (else the next one),
        never the instalments still to come; otherwise the whole residual. {amount, date}."""
        self.ensure_one()
        values = self._get_invoice_next_payment_values()
        if values.get("installment_state") in ("overdue", "next"):
            return {"amount": values["next_amount_to_pay"], "date": values["next_due_date"]}
        return {"amount": self.amount_residual, "date": self.invoice_date_due}

    def _ar_payable_online(self):
        self.ensure_one()
        return (
            self.move_type == "out_invoice"
            and self.state == "posted"
            and self.payment_state in ("not_paid", "partial")
            and not self.currency_id.is_zero(self.amount_residual)
        )

    @api.model
    def _ar_open_invoices_domain(self, commercial_partner):
        """Open customer invoices of a commercial partner that can be paid online."""
        return Domain(
            [
                ("commercial_partner_id", "=", commercial_partner.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )

    def _ar_set_disputed(self):
        """Take the invoices out of collection while a dispute is open (call before opening)."""
        for move in self:
            if move.ar_dispute_state != "open":
                move.ar_no_followup_before_dispute = move.no_followup
            move.no_followup = True

    def _ar_restore_followup(self):
        """Put the invoices back into collection once no dispute is open any more."""
        for move in self:
            if move.ar_dispute_state != "open":
                move.no_followup = move.ar_no_followup_before_dispute
