from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

# Days a pending online payment (typically an announced bank transfer) keeps an invoice out of
# dunning; after that the buyer is reminded as if nothing was announced.
PENDING_PAYMENT_DAYS = 14
# what a charges invoice keeps of its caller's context
CHARGES_CONTEXT_KEYS = ("lang", "tz", "allowed_company_ids", "tracking_disable", "mail_notrack", "mail_create_nolog")


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_dunning_level_id = fields.Many2one(
        "ar.dunning.level", string="Last Dunning Level", copy=False, readonly=True, index="btree_not_null"
    )
    ar_dunning_first_date = fields.Date(string="First Reminder", copy=False, readonly=True)
    ar_dunning_last_date = fields.Date(string="Last Reminder", copy=False, readonly=True)
    ar_dunning_handed_over = fields.Boolean(
        string="Handed Over to Agency", copy=False, help="The invoice is with a collection agency: no more reminders."
    )
    ar_dunning_charge_move_id = fields.Many2one(
        "account.move",
        string="Charges Invoice",
        copy=False,
        readonly=True,
        help="Debit note invoicing the interest and fees.",
    )
    ar_dunning_interest_plan_id = fields.Many2one(
        "ar.dunning.plan",
        string="Interest of Payment Plan",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="This invoice claims the late-payment interest that ran on the instalments of this payment plan.",
    )
    ar_dunning_de_notice = fields.Boolean(
        string="Default Notice Printed",
        copy=False,
        readonly=True,
        help="The invoice told a German consumer that they are in default 30 days after due date and receipt "
        "(§ 286(3) BGB); without it a consumer is only in default after a reminder.",
    )
    ar_dunning_item_ids = fields.One2many("ar.dunning.item", "move_id", string="Reminder History", readonly=True)
    ar_dunning_promise_line_ids = fields.One2many(
        "ar.dunning.promise.line", "move_id", string="Promises to Pay", readonly=True
    )
    ar_dunning_plan_invoice_ids = fields.One2many(
        "ar.dunning.plan.invoice", "move_id", string="Payment Plans", readonly=True
    )
    ar_credit_needs_override = fields.Boolean(
        string="Needs a Credit Override",
        compute="_compute_ar_credit_needs_override",
        help="The customer is on credit hold or over its credit limit: posting needs a credit controller or a reason.",
    )

    # a payment plan's interest is invoiced once: at most one invoice per plan, whatever runs at the same time
    _ar_dunning_interest_plan_uniq = models.UniqueIndex(
        "(ar_dunning_interest_plan_id) WHERE ar_dunning_interest_plan_id IS NOT NULL",
        "The interest of this payment plan is invoiced already.",
    )

    @api.depends_context("uid")
    @api.depends("state", "partner_id", "move_type", "amount_total")
    def _compute_ar_credit_needs_override(self):
        blocked = self._ar_credit_blocked()
        may_post = self.env.user.has_group("ar_dunning.group_credit_controller")
        for move in self:
            move.ar_credit_needs_override = move in blocked and not may_post

    # EXTENDS 'account'
    def _post(self, soft=True):
        blocked = self._ar_credit_blocked()
        if blocked:
            reason = (self.env.context.get("ar_credit_override_reason") or "").strip()
            if not self._ar_credit_may_post(blocked):
                partner = blocked[0].commercial_partner_id
                raise UserError(
                    self.env._(
                        "%(partner)s is on credit hold or over its credit limit: only a credit controller can post "
                        "this invoice, or post it with an override reason, logged in its chatter (Post with "
                        "Override).",
                        partner=partner.display_name,
                    )
                )
            for move in blocked:
                move._ar_credit_log_post(reason)
        posted = super()._post(soft=soft)
        de_consumers = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.commercial_partner_id.country_id.code == "DE"
                and m.commercial_partner_id._ar_dunning_customer_type() == "b2c"
            )
        )
        if de_consumers:
            de_consumers.ar_dunning_de_notice = True  # the invoice report prints the notice for them
        return posted

    def _invoice_paid_hook(self):
        # EXTENDS 'account'
        # a promise is kept as soon as its last promised invoice is paid
        res = super()._invoice_paid_hook()
        # sudo: the payment may be registered by a user (or a payment provider's callback) who does not
        # read promises; only the open promises of these invoices change state
        promises = (
            self.env["ar.dunning.promise.line"]
            .sudo()
            .search([("move_id", "in", self.ids), ("state", "=", "open")])
            .promise_id
        )
        promises._ar_update_kept()
        # sudo: same reason; a plan whose invoices are all paid is completed
        plans = (
            self.env["ar.dunning.plan.invoice"]
            .sudo()
            .search([("move_id", "in", self.ids), ("state", "in", ("active", "late"))])
            .plan_id
        )
        plans._ar_update_states()
        return res

    @api.model
    def _ar_dunning_post_charges(self, partner, line_vals, *, company, currency, invoice_date, ref, **extra):
        """Post a charges invoice of the dunning (interest, fees) to ``partner``: the company's first sales
        journal, lines without product or taxes on the journal's income account, posted whatever the customer's
        credit hold. ``line_vals``: [{"name", "price_unit"}]; ``extra``: more values of the invoice."""
        journal = self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        if not journal:
            raise UserError(self.env._("Create a sales journal to invoice dunning charges."))
        # the caller may be a reconciliation (a payment completing a payment plan) inside the synchronisation of
        # another invoice: its context keys and account's recursion guard (skip_invoice_sync, check_move_validity)
        # would leave this new, independent invoice without its receivable and totals, so neither applies to it
        context = {key: value for key, value in self.env.context.items() if key in CHARGES_CONTEXT_KEYS}
        Move = self.with_env(self.env(context=context)).with_context(ar_dunning_skip_credit_hold=True)
        with Move._ar_dunning_own_sync():
            move = Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "currency_id": currency.id,
                    "invoice_date": invoice_date,
                    "ref": ref,
                    "invoice_line_ids": [Command.create(dict(vals, quantity=1, tax_ids=[])) for vals in line_vals],
                    **extra,
                }
            )
            # sudo: the charges invoice is posted whatever the customer's credit hold (the hold check trusts its
            # context key only under sudo); scoped to this one invoice
            move.sudo().action_post()
        return move

    @contextmanager
    def _ar_dunning_own_sync(self):
        """The invoices created inside are synchronised and checked as usual: account's recursion guard
        (``_disable_recursion``, a stack on the cursor) is set back to its defaults for them, then restored."""
        stack = self.env.cr.cache.get("account_disable_recursion_stack")
        if stack is None:
            yield
            return
        stack.pushmap({"skip_invoice_sync": False, "check_move_validity": True})
        try:
            yield
        finally:
            stack.popmap()

    def _ar_credit_blocked(self):
        """Customer invoices of self whose customer is on credit hold or over its limit.

        Over the limit is Odoo's own test (its credit-limit warning on the draft invoice: receivables,
        what sales orders still have to invoice and this invoice, against the partner's credit limit).
        The dunning's own charges invoices are not blocked: the run posts them as superuser with the
        context key ``ar_dunning_skip_credit_hold``; the key alone (any RPC call can send it) is not enough.
        """
        if self.env.su and self.env.context.get("ar_dunning_skip_credit_hold"):
            return self.browse()
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "draft")
        if not invoices:
            return invoices
        # the receivable may have changed in this transaction (an invoice posted just before): recompute it
        invoices.invalidate_recordset(["partner_credit_warning"])
        invoices.commercial_partner_id.invalidate_recordset(["credit", "credit_to_invoice"])
        return invoices.filtered(
            lambda m: (
                m.commercial_partner_id.with_company(m.company_id).ar_dunning_credit_hold
                or m.with_company(m.company_id).partner_credit_warning
            )
        )

    def _ar_credit_may_post(self, blocked):
        """A credit controller may post blocked invoices; anyone else only with an override reason."""
        if self.env.user.has_group("ar_dunning.group_credit_controller"):
            return True
        return bool((self.env.context.get("ar_credit_override_reason") or "").strip())

    def _ar_credit_log_post(self, reason):
        """Say in the invoice's chatter why it was posted although the customer is held or over its limit."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        why = self.env._("on credit hold") if partner.ar_dunning_credit_hold else self.env._("over its credit limit")
        if reason:
            body = self.env._(
                "Posted although %(partner)s is %(why)s. Override by %(user)s: %(reason)s",
                partner=partner.display_name,
                why=why,
                user=self.env.user.name,
                reason=reason,
            )
        else:
            body = self.env._(
                "Posted by credit controller %(user)s although %(partner)s is %(why)s.",
                partner=partner.display_name,
                why=why,
                user=self.env.user.name,
            )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def action_ar_credit_override(self):
        """Open the override form for these invoices (Post with Override)."""
        return self._ar_credit_override_action()

    def _ar_credit_override_action(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Post with Override"),
            "res_model": "account.move.credit.override",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_move_ids": [Command.set(self.ids)]},
        }

    @api.model
    def _ar_dunning_pending_tx_move_ids(self, moves):
        """Invoices with a payment transaction in progress (only when the payment module is installed)."""
        if "transaction_ids" not in self._fields or not moves:
            return set()
        # A pending transaction (a bank transfer announced on the pay page) shields the invoice
        # for a while only: the buyer may never send the money.
        days = int(
            # sudo: reading a configuration parameter
            self.env["ir.config_parameter"].sudo().get_param("ar_dunning.pending_payment_days", PENDING_PAYMENT_DAYS)
        )
        since = fields.Datetime.now() - timedelta(days=days)
        # sudo: transactions are read only to know whether a payment is underway
        txs = (
            self.env["payment.transaction"]
            .sudo()
            .search_fetch(
                Domain("invoice_ids", "in", moves.ids)
                & (
                    Domain("state", "=", "authorized")
                    | (Domain("state", "=", "pending") & Domain("last_state_change", ">=", since))
                ),
                ["invoice_ids"],
            )
        )
        return set(txs.invoice_ids.ids) & set(moves.ids)
