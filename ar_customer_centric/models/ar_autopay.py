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
    def _ar_autopay_notify_due(self, company):
        today = fields.Date.context_today(self)
        notice_days = self._ar_autopay_notice_days()
        horizon = today + timedelta(days=max(notice_days, 14))
        candidates = self.search(
            self._ar_autopay_base_domain()
            & Domain("company_id", "=", company.id)
            & Domain("ar_autopay_state", "=", False)
            & Domain("invoice_date_due", "<=", horizon)
        )
        notified = self.browse()
        for move in candidates:
            method, record = move._ar_autopay_method()
            if not method:
                continue
            days = record.pre_notification_days if method == "mandate" else notice_days
            if move.invoice_date_due <= today + timedelta(days=days):
                notified |= move
        notified._ar_notify("ar_customer_centric.mail_template_ar_autopay_notice")
        notified.write({"ar_autopay_state": "notified", "ar_autopay_notified_on": today})
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
            & Domain("invoice_date_due", "<=", today)
            & (
                Domain("ar_autopay_state", "=", "notified")
                | (Domain("ar_autopay_state", "=", "failed") & Domain("ar_autopay_next_try", "<=", now))
            )
        )
        due = self.search(due_domain)
        to_collect = self.browse()
        for move in due:
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
        self.ar_autopay_attempts += 1
        # sudo: transactions are created by the system on behalf of the buyer
        tx_model = self.env["payment.transaction"].sudo()
        tx = tx_model.create(
            {
                "provider_id": token.provider_id.id,
                "payment_method_id": token.payment_method_id.id,
                "reference": tx_model._compute_reference(token.provider_id.code, prefix=self.name),
                "amount": self.amount_residual,
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
        self.write({"ar_autopay_state": "paid", "ar_autopay_next_try": False})
        self._ar_notify("ar_customer_centric.mail_template_ar_autopay_receipt")

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
