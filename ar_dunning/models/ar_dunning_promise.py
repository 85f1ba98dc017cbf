from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, plaintext2html

# states in which a promise holds its invoices: one such promise per invoice at a time
# (ar.dunning.promise.line's unique index)
HOLDING_STATES = ("requested", "open")
MAX_NOTE = 1000


class ArDunningPromise(models.Model):
    """A promise to pay: the customer will pay (some of) its invoices by a date.

    Keyed in by the accountant, or asked for by the buyer (portal or signed link). A promise that
    names invoices holds only those out of dunning (``line_ids``, one holding promise per invoice);
    one without invoices (keyed in by hand) holds the whole customer, as before. States:

    - ``requested``: the buyer asked for a date beyond the policy's maximum; the accountant accepts
      (→ open) or declines it. It holds its invoices against a second promise, not against reminders.
    - ``open``: accepted; no reminder for its invoices until the date plus the policy's grace days.
    - ``kept``: every promised invoice was paid by then; ``broken``: the date and the grace days passed
      with a promised invoice still open (set by the next dunning run, which reminds again).
    - ``declined``: the accountant refused the request.
    """

    _name = "ar.dunning.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread", "mail.activity.mixin", "ar.dunning.arrangement"]
    _order = "promise_date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        domain=[("parent_id", "=", False)],
        string="Customer",
        tracking=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    promise_date = fields.Date(
        required=True,
        tracking=True,
        help="No reminder is sent for the promised invoices until this date (and the policy's grace days).",
    )
    line_ids = fields.One2many("ar.dunning.promise.line", "promise_id", string="Invoices", copy=False)
    move_ids = fields.Many2many(
        "account.move",
        string="Promised Invoices",
        compute="_compute_move_ids",
        search="_search_move_ids",
        help="Empty: the promise covers the customer's whole overdue balance (keyed in by hand).",
    )
    amount = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="Amount promised: the open amounts of the promised invoices when the promise was made.",
    )
    amount_residual = fields.Monetary(
        string="Still Open",
        currency_field="currency_id",
        compute="_compute_amount_residual",
        help="What the promised invoices still owe today.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    state = fields.Selection(
        [
            ("requested", "Requested"),
            ("open", "Open"),
            ("kept", "Kept"),
            ("broken", "Broken"),
            ("declined", "Declined"),
        ],
        default="open",
        required=True,
        index=True,
        tracking=True,
        help="An open promise whose date and grace days have passed while a promised invoice is still open "
        "becomes broken at the next dunning run (it lowers the payment score).",
    )
    source = fields.Selection(
        [("backoffice", "Back office"), ("portal", "Customer portal"), ("guest", "Signed link")],
        default="backoffice",
        required=True,
        readonly=True,
        help="Where the promise was made: keyed in by an accountant, asked for in the portal by a logged-in "
        "buyer, or from a signed pay link without an account.",
    )
    requested_by_id = fields.Many2one(
        "res.partner",
        readonly=True,
        help="The buyer's contact who made the promise; told by e-mail when it is accepted or declined.",
    )
    notify_partner_id = fields.Many2one(
        "res.partner",
        compute="_compute_notify_partner_id",
        string="Buyer Contact",
        help="Who is told by e-mail: the contact who made the promise, else the customer's dunning contact.",
    )
    requested_user_id = fields.Many2one(
        "res.users", string="Requesting User", readonly=True, help="The portal user, when the buyer was logged in."
    )
    note = fields.Text(help="The buyer's note, shown as typed (escaped).")
    date_resolved = fields.Date(string="Resolved On", readonly=True, copy=False)
    grace_end = fields.Date(
        string="Grace Period Ends",
        compute="_compute_grace_end",
        help="Last day the promised invoices are held out of reminders: the promise date plus the policy's grace days.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("line_ids.move_id")
    def _compute_move_ids(self):
        for promise in self:
            promise.move_ids = promise.line_ids.move_id

    def _search_move_ids(self, operator, value):
        return [("line_ids.move_id", operator, value)]

    @api.depends("line_ids.amount_promised")
    def _compute_amount(self):
        for promise in self:
            if promise.line_ids:
                promise.amount = sum(promise.line_ids.mapped("amount_promised"))
            elif not promise.amount:
                promise.amount = 0.0

    @api.depends("line_ids.move_id.currency_id", "company_id")
    def _compute_currency_id(self):
        for promise in self:
            promise.currency_id = promise.line_ids.move_id.currency_id[:1] or promise.company_id.currency_id

    @api.depends("line_ids.move_id.amount_residual")
    def _compute_amount_residual(self):
        for promise in self:
            if promise.line_ids:
                promise.amount_residual = sum(promise.line_ids.move_id.mapped("amount_residual"))
            else:
                promise.amount_residual = promise.amount if promise.state in HOLDING_STATES else 0.0

    @api.depends("promise_date", "partner_id", "company_id")
    def _compute_grace_end(self):
        for promise in self:
            policy = promise.partner_id._ar_dunning_policy(promise.company_id)
            grace = policy.promise_grace_days if policy else 0
            promise.grace_end = promise.promise_date and promise.promise_date + timedelta(days=grace)

    @api.depends("partner_id", "promise_date")
    def _compute_display_name(self):
        for promise in self:
            promise.display_name = self.env._(
                "Promise of %(customer)s for %(date)s",
                customer=promise.partner_id.display_name or "",
                date=fields.Date.to_string(promise.promise_date) if promise.promise_date else "",
            )

    @api.constrains("line_ids", "partner_id", "company_id")
    def _check_invoices(self):
        for promise in self:
            moves = promise.line_ids.move_id
            wrong = moves.filtered(
                lambda m, p=promise: (
                    m.commercial_partner_id != p.partner_id
                    or m.company_id != p.company_id
                    or m.move_type not in ("out_invoice", "out_receipt")
                    or m.state != "posted"
                )
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "A promise covers posted invoices of its own customer and company only (%(names)s).",
                        names=", ".join(wrong.mapped("display_name")),
                    )
                )
            if len(moves.currency_id) > 1:
                raise ValidationError(self.env._("A promise covers invoices of one currency."))

    # ------------------------------------------------------------------
    # Actions (the accountant's one click)
    # ------------------------------------------------------------------

    def action_accept(self):
        """Accept requested promises: their invoices are held until the date; the buyer is told."""
        requested = self.filtered(lambda p: p.state == "requested")
        if requested != self:
            raise UserError(self.env._("Only requested promises can be accepted."))
        self.write({"state": "open"})
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._ar_notify_buyer("ar_dunning.mail_template_promise_accepted")
        return True

    def action_decline(self):
        """Decline requested promises: the invoices are reminded as before; the buyer is told."""
        requested = self.filtered(lambda p: p.state == "requested")
        if requested != self:
            raise UserError(self.env._("Only requested promises can be declined."))
        self.write({"state": "declined", "date_resolved": fields.Date.context_today(self)})
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._ar_notify_buyer("ar_dunning.mail_template_promise_declined")
        return True

    def action_mark_kept(self):
        self.filtered(lambda p: p.state == "open").write(
            {"state": "kept", "date_resolved": fields.Date.context_today(self)}
        )

    # ------------------------------------------------------------------
    # Made by the buyer
    # ------------------------------------------------------------------

    @api.model
    def _ar_promisable_moves(self, partner, company, on_date=None):
        """Invoices the buyer may promise: open, overdue, undisputed, not under a holding promise or a plan."""
        on_date = on_date or fields.Date.context_today(self)
        domain = (
            Domain("commercial_partner_id", "=", partner.commercial_partner_id.id)
            & Domain("company_id", "=", company.id)
            & Domain("move_type", "in", ("out_invoice", "out_receipt"))
            & Domain("state", "=", "posted")
            & Domain("payment_state", "in", ("not_paid", "partial"))
            & Domain("invoice_date_due", "<", on_date)
            & Domain("ar_dunning_handed_over", "=", False)
            & Domain("ar_dunning_promise_line_ids", "not any", Domain("state", "in", HOLDING_STATES))
            # an invoice under a payment plan is paid by its instalments, not promised besides
            & Domain("ar_dunning_plan_invoice_ids", "not any", Domain("state", "in", ("proposed", "active", "late")))
        )
        moves = self.env["account.move"].search(domain, order="invoice_date_due, id")
        return moves.filtered(lambda m: not m.no_followup)  # disputed or excluded by hand (not stored)

    @api.model
    def _ar_request(self, moves, promise_date, *, note=None, source="portal", requester=None, user=None):
        """A buyer promises to pay ``moves`` by ``promise_date``: accepted at once within the policy's
        maximum, else a request for the accountant (activity). The amount is computed here, from the
        invoices' open amounts; the buyer is told by e-mail in their language.

        ``moves`` are the invoices the caller granted the buyer (record rules or a signed link);
        they must all be promisable.
        """
        if not moves:
            raise UserError(self.env._("Select at least one overdue invoice."))
        partner = moves.commercial_partner_id
        company = moves.company_id
        if len(partner) != 1 or len(company) != 1:
            raise UserError(self.env._("Select invoices of one customer and one company."))
        if len(moves.currency_id) != 1:
            raise UserError(self.env._("Select invoices of one currency: make one promise per currency."))
        # lock the invoices: two promises made at the same moment for one invoice wait for each other;
        # the second then finds the invoice promised (and the unique index is the last safeguard); in id order,
        # as payment plans lock invoices, so two requests on overlapping invoices never wait for each other
        self.env.cr.execute(
            SQL("SELECT id FROM account_move WHERE id IN %s ORDER BY id FOR NO KEY UPDATE", tuple(moves.ids))
        )
        moves.invalidate_recordset()
        today = fields.Date.context_today(self)
        allowed = self._ar_promisable_moves(partner, company, today)
        if moves - allowed:
            raise UserError(
                self.env._(
                    "These invoices cannot be promised (paid, not overdue, disputed or promised already): %(names)s.",
                    names=", ".join((moves - allowed).mapped("name")),
                )
            )
        promise_date = fields.Date.to_date(promise_date)
        if not promise_date or promise_date < today:
            raise UserError(self.env._("Choose a payment date from today on."))
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            raise UserError(self.env._("Write a note of at most %(max)s characters.", max=MAX_NOTE))
        policy = partner._ar_dunning_policy(company)
        max_days = policy.promise_max_days if policy else 0
        within = promise_date <= today + timedelta(days=max_days)
        promise = self.create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "promise_date": promise_date,
                "state": "open" if within else "requested",
                "source": source,
                "requested_by_id": (requester or partner).id,
                "requested_user_id": user.id if user else False,
                "note": note or False,
                "line_ids": [
                    fields.Command.create({"move_id": move.id, "amount_promised": move.amount_residual})
                    for move in moves
                ],
            }
        )
        if note:
            # the buyer's note as they typed it: escaped, never markup
            promise.message_post(
                body=Markup("<p>%s</p>") % note,
                author_id=(requester or partner).id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        if within:
            promise._ar_notify_buyer("ar_dunning.mail_template_promise_accepted")
        else:
            promise._ar_schedule_review(policy)
            promise._ar_notify_buyer("ar_dunning.mail_template_promise_requested")
        return promise

    def _ar_schedule_review(self, policy):
        for promise in self:
            user = promise._ar_follow_up_user(policy)
            if not user:
                continue
            # the To-Do is for the reviewer: in their language, not the buyer's who asked
            reviewer_env = self.with_context(lang=user.lang or self.env.lang).env
            promise.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=reviewer_env._(
                    "Accept or decline the promise to pay of %(customer)s by %(date)s",
                    customer=promise.partner_id.name,
                    date=fields.Date.to_string(promise.promise_date),
                ),
                note=plaintext2html(promise.note) if promise.note else False,
            )

    # ------------------------------------------------------------------
    # Kept and broken
    # ------------------------------------------------------------------

    def _ar_update_kept(self):
        """Open promises whose invoices are all paid (or being paid) are kept."""
        today = fields.Date.context_today(self)
        for promise in self.filtered(lambda p: p.state == "open" and p.line_ids):
            moves = promise.line_ids.move_id
            if all(m.payment_state in ("paid", "in_payment", "reversed") for m in moves):
                promise.write({"state": "kept", "date_resolved": today})

    def _ar_due_to_break(self, on_date):
        """The open promises that are broken on ``on_date`` (past their date and grace days), without changing
        them: a run dated later than today shows them as broken in its preview only."""
        return self.filtered(lambda p: p.state == "open" and p.grace_end and p.grace_end < on_date)

    def _ar_break_due(self, on_date):
        """Open promises past their date and grace days with a promised invoice still open: broken.

        Returns the promises broken now."""
        self._ar_update_kept()
        due = self._ar_due_to_break(on_date)
        if due:
            due.write({"state": "broken", "date_resolved": on_date})
        return due


class ArDunningPromiseLine(models.Model):
    _name = "ar.dunning.promise.line"
    _description = "Promised Invoice"
    _order = "promise_id, id"
    _check_company_auto = True

    promise_id = fields.Many2one("ar.dunning.promise", required=True, index=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, check_company=True)
    company_id = fields.Many2one(related="promise_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="promise_id.partner_id", store=True)
    state = fields.Selection(related="promise_id.state", store=True, index=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_promised = fields.Monetary(
        currency_field="currency_id", readonly=True, help="The invoice's open amount when the promise was made."
    )
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Still Open")
    date_maturity = fields.Date(related="move_id.invoice_date_due", string="Due Date")

    @api.model_create_multi
    def create(self, vals_list):
        # a promise keyed in by hand promises what the invoice owes today
        for vals in vals_list:
            if "amount_promised" not in vals and vals.get("move_id"):
                vals["amount_promised"] = self.env["account.move"].browse(vals["move_id"]).amount_residual
        return super().create(vals_list)

    # one requested or open promise per invoice, enforced by PostgreSQL (concurrent requests included)
    _move_holding_uniq = models.UniqueIndex(
        "(move_id) WHERE state IN ('requested', 'open')",
        "This invoice is already under a promise to pay.",
    )
