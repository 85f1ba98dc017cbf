from odoo import fields, models

# Peppol transmission state (ar_peppol_edi) -> state of the delivery trace (ar_customer_centric).
# The transport is what the trace follows: an invoice the buyer's access point received is
# delivered, whatever the buyer answers afterwards (that answer stays on the Peppol status).
PEPPOL_TRACE_STATES = {
    "queued": "queued",
    "sent": "pending",  # handed to our access point, delivery evidence to come
    "delivered": "sent",
    "accepted": "sent",
    "rejected": "sent",
    "paid": "sent",
    "error": "failed",
}


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_promise_date = fields.Date(
        string="Payment Promised For",
        compute="_compute_ar_promise_date",
        help="The date by which the buyer promised to pay this invoice (an open promise to pay).",
    )

    def _compute_ar_promise_date(self):
        # sudo: promises are accounting records; the buyer's invoice list shows only the date of the open
        # promise on invoices it may already read (self), in one query for the page
        lines = (
            self.env["ar.dunning.promise.line"]
            .sudo()
            .search_fetch([("move_id", "in", self.ids), ("state", "=", "open")], ["move_id", "promise_id"])
        )
        dates = {line.move_id.id: line.promise_id.promise_date for line in lines}
        for move in self:
            move.ar_promise_date = dates.get(move.id, False)

    ar_plan_id = fields.Many2one(
        "ar.dunning.plan",
        string="Payment Plan",
        compute="_compute_ar_plan_id",
        help="The running payment plan (on schedule or late) this invoice is paid under.",
    )

    def _compute_ar_plan_id(self):
        # sudo: plans are accounting records; the buyer's invoice list only links the running plan of
        # invoices it may already read (self), in one query for the page
        lines = (
            self.env["ar.dunning.plan.invoice"]
            .sudo()
            .search_fetch([("move_id", "in", self.ids), ("state", "in", ("active", "late"))], ["move_id", "plan_id"])
        )
        plans = {line.move_id.id: line.plan_id.id for line in lines}
        for move in self:
            move.ar_plan_id = plans.get(move.id, False)

    def write(self, vals):
        # EXTENDS 'ar_peppol_edi': every Peppol transmission also shows in Invoice Deliveries
        res = super().write(vals)
        if "ar_peppol_state" in vals:
            self._ar_suite_trace_peppol()
        return res

    def _ar_suite_trace_peppol(self):
        """One "Peppol" line per invoice in the delivery trace, following its transmission."""
        moves = self.filtered(lambda m: m.ar_peppol_state in PEPPOL_TRACE_STATES)
        if not moves:
            return
        # sudo: the trace is written for whoever sends (users have no create right on the log)
        Log = self.env["ar.delivery.log"].sudo()
        latest = {}
        for log in Log.search([("move_id", "in", moves.ids), ("channel", "=", "ar_peppol")], order="id"):
            latest[log.move_id] = log
        labels = dict(self._fields["ar_peppol_state"]._description_selection(self.env))
        now = fields.Datetime.now()
        for move in moves:
            state = PEPPOL_TRACE_STATES[move.ar_peppol_state]
            vals = {"state": state, "message": labels[move.ar_peppol_state]}
            log = latest.get(move)
            if state == "sent" and not (log and log.date_done):
                vals["date_done"] = now
            partner = move.commercial_partner_id
            if log:
                if log.state == state and log.message == vals["message"]:
                    continue
                log.write(vals)
            else:
                destination = f"{partner.peppol_eas}:{partner.peppol_endpoint}" if partner.peppol_endpoint else False
                log = Log.create(
                    {
                        "move_id": move.id,
                        "partner_id": partner.id,
                        "company_id": move.company_id.id,
                        "channel": "ar_peppol",
                        "destination": destination,
                        **vals,
                    }
                )
            move_vals = {
                "ar_delivery_state": state,
                "ar_delivery_channel": "ar_peppol",
                "ar_delivery_destination": log.destination,
            }
            if "date_done" in vals:
                move_vals["ar_delivered_on"] = vals["date_done"]
            # sudo: same reason (the delivery fields are read-only for users)
            super(AccountMove, move.sudo()).write(move_vals)
