import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Command, Domain

from ..tools.locking import lock_free_rows

_logger = logging.getLogger(__name__)

DEFAULT_RETRY_DAYS = "1,3,7"
DEFAULT_NOTICE_DAYS = 3


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_autopay_state = fields.Selection(
        selection=[
            ("notified", "Notified"),
            ("pending", "Charge Pending"),
            ("collecting", "In Direct Debit Batch"),
            ("paid", "Paid"),
            ("failed", "Failed"),
        ],
        string="Autopay Status",
        copy=False,
        readonly=True,
        index="btree_not_null",
        tracking=True,
    )
    ar_autopay_notified_on = fields.Date(
        string="Autopay Notice Sent On",
        copy=False,
        readonly=True,
        help="Date of the pre-notification; a direct debit is collected at the earliest the "
        "mandate's pre-notification days later.",
    )
    ar_autopay_attempts = fields.Integer(string="Autopay Attempts", copy=False, readonly=True)
    ar_autopay_next_try = fields.Datetime(string="Next Autopay Attempt", copy=False, readonly=True)
    ar_autopay_amount = fields.Monetary(
        string="Announced Autopay Amount",
        copy=False,
        readonly=True,
        help="Amount of the instalments announced by the last pre-notification: what is collected.",
    )
    ar_autopay_date = fields.Date(
        string="Announced Collection Date",
        copy=False,
        readonly=True,
        help="Date announced by the last pre-notification for the automatic payment or direct debit.",
    )
    ar_autopay_due_until = fields.Date(
        string="Notified Instalments Until",
        copy=False,
        readonly=True,
        help="Technical: the last pre-notification covers the open due lines maturing on or before this date; "
        "a collection never takes an instalment that was not announced.",
    )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _ar_autopay_retry_days(self):
        # sudo: reading a configuration parameter
        raw = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("ar_customer_centric.autopay_retry_days", DEFAULT_RETRY_DAYS)
        )
        return [int(x) for x in raw.split(",") if x.strip().isdigit()]

    @api.model
    def _ar_autopay_notice_days(self):
        # sudo: reading a configuration parameter
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("ar_customer_centric.autopay_notice_days", DEFAULT_NOTICE_DAYS)
        )

    @api.model
    def _ar_autopay_base_domain(self):
        return Domain(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("ar_dispute_state", "!=", "open"),
                ("commercial_partner_id.ar_autopay", "=", True),
            ]
        )

    def _ar_autopay_method(self):
        """('mandate', mandate) or ('token', token) or (False, None) for one invoice."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        mandate = partner.ar_autopay_mandate_id
        if mandate and mandate._ar_is_usable():
            return "mandate", mandate
        token = partner.ar_autopay_token_id
        if token and token.active:
            return "token", token
        return False, None

    def _ar_open_instalments(self):
        """The open instalments of the invoice, earliest first, after Odoo's own notion of them
        (account.move.line._get_installments_data): [{number, date, amount, line}], amount being the
        residual of the due line in the invoice's currency. An invoice without a multi-line payment
        term has one instalment."""
        self.ensure_one()
        instalments = []
        for instalment in self._get_installments_data():
            if instalment["reconciled"]:
                continue
            line = instalment["line"]
            # the raw residual, not the early-payment-discounted one _get_installments_data may give
            amount = -self.direction_sign * line.amount_residual_currency
            if self.currency_id.compare_amounts(amount, 0) <= 0:
                continue
            instalments.append(
                {"number": instalment["number"], "date": instalment["date_maturity"], "amount": amount, "line": line}
            )
        return instalments

    def _ar_autopay_due_instalments(self, date):
        """The open instalments due by ``date`` and announced by the pre-notification (all of them when
        the notice predates per-instalment notices)."""
        self.ensure_one()
        until = min(date, self.ar_autopay_due_until) if self.ar_autopay_due_until else date
        return [i for i in self._ar_open_instalments() if i["date"] <= until]

    def _ar_autopay_due_amount(self, date):
        """What an automatic payment collects on ``date``: the sum of the announced open due lines
        maturing by then, never the instalments still to come."""
        self.ensure_one()
        return self.currency_id.round(sum(i["amount"] for i in self._ar_autopay_due_instalments(date)))

    def _ar_instalment_reference(self, instalments):
        """Reference of a collection: the invoice's number, with the number of the first instalment
        collected when the invoice has several due lines (as Odoo's next_payment_reference)."""
        self.ensure_one()
        term_lines = self.line_ids.filtered(lambda line: line.display_type == "payment_term")
        if len(term_lines) > 1 and instalments:
            return f"{self.name}-{instalments[0]['number']}"
        return self.name

    def _ar_notify(self, template_xmlid):
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for move in self:
            move.message_post_with_source(template, subtype_xmlid="mail.mt_comment")

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------

    @api.model
    def _ar_autopay_companies(self):
        """Companies with open customer invoices (autopay is set per company)."""
        groups = self._read_group(
            Domain("move_type", "=", "out_invoice")
            & Domain("state", "=", "posted")
            & Domain("payment_state", "in", ("not_paid", "partial")),
            ["company_id"],
        )
        return self.env["res.company"].union(*(company for (company,) in groups))

    @api.model
    def _cron_ar_autopay_notify(self):
        """Pre-notify the buyers of the automatic payments coming in the next days."""
        for company in self._ar_autopay_companies():
            notified = self.with_company(company)._ar_autopay_notify_due(company)
            self.env["ir.cron"]._commit_progress(len(notified))

    @api.model
    def _ar_open_due_line_domain(self, date):
        """Invoices with an open receivable due line maturing on or before ``date``."""
        return Domain(
            "line_ids",
            "any",
            Domain("display_type", "=", "payment_term")
            & Domain("reconciled", "=", False)
            & Domain("date_maturity", "<=", date),
        )

    @api.model
    def _ar_autopay_notify_due(self, company):
        """One pre-notification per instalment: its amount and collection date.

        An invoice is notified again once the instalments of its last notice are paid, for the next one.
        """
        today = fields.Date.context_today(self)
        notice_days = self._ar_autopay_notice_days()
        horizon = today + timedelta(days=max(notice_days, 14))
        candidates = self.search(
            self._ar_autopay_base_domain()
            & Domain("company_id", "=", company.id)
            & (
                Domain("ar_autopay_state", "=", False)
                | (Domain("ar_autopay_state", "=", "notified") & Domain("ar_autopay_due_until", "!=", False))
            )
            & self._ar_open_due_line_domain(horizon)
        )
        notified = self.browse()
        for move in candidates:
            method, record = move._ar_autopay_method()
            if not method:
                continue
            instalments = move._ar_open_instalments()
            if not instalments:
                continue
            if move.ar_autopay_state == "notified" and instalments[0]["date"] <= move.ar_autopay_due_until:
                continue  # the instalment announced is still open: it is collected first
            days = record.pre_notification_days if method == "mandate" else notice_days
            if instalments[0]["date"] > today + timedelta(days=days):
                continue
            # the instalments overdue and the next one: one notice, one collection
            until = max(instalments[0]["date"], today)
            covered = [i for i in instalments if i["date"] <= until]
            collect_on = max(until, today + timedelta(days=days)) if method == "mandate" else until
            move.write(
                {
                    "ar_autopay_state": "notified",
                    "ar_autopay_notified_on": today,
                    "ar_autopay_amount": move.currency_id.round(sum(i["amount"] for i in covered)),
                    "ar_autopay_date": collect_on,
                    "ar_autopay_due_until": until,
                }
            )
            self.env["account.move.line"].union(*(i["line"] for i in covered)).ar_instalment_notice_on = today
            notified |= move
        notified._ar_notify("ar_customer_centric.mail_template_ar_autopay_notice")
        return notified

    @api.model
    def _cron_ar_autopay_charge(self):
        """Charge the invoices due (saved token) or put them in a direct debit collection."""
        for company in self._ar_autopay_companies():
            self.with_company(company)._ar_autopay_charge_due(company)

    @api.model
    def _ar_autopay_charge_due(self, company):
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        due_domain = (
            self._ar_autopay_base_domain()
            & Domain("company_id", "=", company.id)
            & self._ar_open_due_line_domain(today)
            & (
                Domain("ar_autopay_state", "=", "notified")
                | (Domain("ar_autopay_state", "=", "failed") & Domain("ar_autopay_next_try", "<=", now))
            )
        )
        due = self.search(due_domain)
        to_collect = self.browse()
        for move in due:
            if move.currency_id.is_zero(move._ar_autopay_due_amount(today)):
                # the instalments announced were paid otherwise: the next one gets its own notice
                if move.ar_autopay_state == "notified" and move.ar_autopay_due_until:
                    move.ar_autopay_state = False
                continue
            method, record = move._ar_autopay_method()
            if method == "mandate":
                notified_on = move.ar_autopay_notified_on or today
                if notified_on + timedelta(days=record.pre_notification_days) <= today:
                    to_collect |= move
            elif method == "token":
                # claimed with a row lock and checked again: two workers running the charges at
                # once (the cron and a manual run) never charge an invoice twice
                claimed = lock_free_rows(move).filtered_domain(due_domain)
                if claimed:
                    claimed._ar_autopay_charge_token(record)
                self.env["ir.cron"]._commit_progress(1)
        # locked together, in the transaction that adds them to the collection
        to_collect = lock_free_rows(to_collect).filtered_domain(due_domain)
        if to_collect:
            self.env["ar.sepa.collection"]._ar_add_invoices(to_collect)
            self.env["ir.cron"]._commit_progress(len(to_collect))
        return due

    def _ar_autopay_charge_token(self, token):
        self.ensure_one()
        instalments = self._ar_autopay_due_instalments(fields.Date.context_today(self))
        amount = self.currency_id.round(sum(i["amount"] for i in instalments))
        if self.currency_id.is_zero(amount):
            return self.env["payment.transaction"]
        self.ar_autopay_attempts += 1
        # sudo: transactions are created by the system on behalf of the buyer
        tx_model = self.env["payment.transaction"].sudo()
        # the reference names the instalment: two instalments of one invoice are two charges
        prefix = self._ar_instalment_reference(instalments)
        tx = tx_model.create(
            {
                "provider_id": token.provider_id.id,
                "payment_method_id": token.payment_method_id.id,
                "reference": tx_model._compute_reference(token.provider_id.code, prefix=prefix),
                "amount": amount,
                "currency_id": self.currency_id.id,
                "partner_id": self.partner_id.id,
                "token_id": token.id,
                "operation": "offline",
                "ar_is_autopay": True,
                "invoice_ids": [Command.set(self.ids)],
            }
        )
        self.ar_autopay_state = "pending"
        # the charge request leaves the database: commit first so that a crash after it never
        # charges twice (a pending invoice is not picked up again; its transaction is followed
        # up by the payment post-processing)
        self.env["ir.cron"]._commit_progress()
        tx._charge_with_token()
        if tx.state in ("done", "error", "cancel"):
            tx._post_process()
        return tx

    def _ar_autopay_succeeded(self):
        """The collection is paid: the invoice is done, or waits for the notice of its next instalment."""
        self._ar_notify("ar_customer_centric.mail_template_ar_autopay_receipt")
        for move in self:
            paid = move.payment_state in ("paid", "in_payment") or move.currency_id.is_zero(move.amount_residual)
            move.write(
                {
                    "ar_autopay_state": "paid" if paid else False,
                    "ar_autopay_next_try": False,
                    "ar_autopay_attempts": move.ar_autopay_attempts if paid else 0,
                    "ar_autopay_due_until": False,
                }
            )

    def _ar_autopay_failed(self, reason=""):
        """Schedule the next attempt per the retry policy and tell both sides."""
        retry_days = self._ar_autopay_retry_days()
        for move in self:
            attempt = move.ar_autopay_attempts
            next_try = (
                fields.Datetime.now() + timedelta(days=retry_days[attempt - 1])
                if 0 < attempt <= len(retry_days)
                else False
            )
            move.write({"ar_autopay_state": "failed", "ar_autopay_next_try": next_try})
            move._ar_notify("ar_customer_centric.mail_template_ar_autopay_failed")
            move.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(
                    move.invoice_user_id.id if move.invoice_user_id and not move.invoice_user_id.share else self.env.uid
                ),
                summary=self.env._("Automatic payment failed (attempt %(n)s)", n=attempt),
                note=reason or "",
            )
