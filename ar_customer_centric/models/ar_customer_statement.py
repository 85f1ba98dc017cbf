import base64
import logging

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_date, mute_logger
from odoo.tools.image import image_data_uri

from ..tools import periods, structured_ref
from ..tools.locking import lock_free_rows

_logger = logging.getLogger(__name__)


class ArCustomerStatement(models.Model):
    _name = "ar.customer.statement"
    _description = "Consolidated Customer Statement"
    _inherit = ["portal.mixin", "mail.thread"]
    _order = "date_to desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    issue_date = fields.Date(readonly=True)
    move_ids = fields.Many2many(
        "account.move",
        "ar_customer_statement_move_rel",
        "statement_id",
        "move_id",
        string="Invoices of the Period",
        readonly=True,
        check_company=True,
    )
    open_move_ids = fields.Many2many(
        "account.move",
        "ar_customer_statement_open_move_rel",
        "statement_id",
        "move_id",
        string="Open Invoices",
        readonly=True,
        check_company=True,
        help="Every invoice still open on the closing date: the pay link pays all of them.",
    )
    amount_total = fields.Monetary(
        string="Invoiced in the Period", readonly=True, help="Invoices minus credit notes of the period."
    )
    amount_residual = fields.Monetary(
        string="Open Balance", readonly=True, help="Balance of the customer's receivable on the closing date."
    )
    payment_reference = fields.Char(readonly=True, copy=False)
    state = fields.Selection(
        selection=[("draft", "Draft"), ("sent", "Sent"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    delivery_log_ids = fields.One2many("ar.delivery.log", "statement_id", string="Deliveries")

    _partner_period_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id, date_from, date_to)",
        "There is already a statement for this customer and period.",
    )

    def _compute_access_url(self):
        # EXTENDS 'portal'
        res = super()._compute_access_url()
        for statement in self:
            statement.access_url = f"/my/statements/{statement.id}"
        return res

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Statement %(name)s", name=self.name.replace("/", "-"))

    # ------------------------------------------------------------------
    # CREATION
    # ------------------------------------------------------------------

    @api.model
    def _ar_prepare_values(self, partner, company, date_from, date_to, issue_date=None):
        """Values of the statement of ``partner`` (commercial) for the period, from the ledger."""
        Move = self.env["account.move"].with_company(company)
        moves = Move.search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("invoice_date", ">=", date_from),
                ("invoice_date", "<=", date_to),
            ],
            order="invoice_date, name, id",
        )
        receivable = Domain(
            [
                ("partner_id", "child_of", partner.id),
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("date", "<=", date_to),
            ]
        )
        [[balance]] = self.env["account.move.line"]._read_group(receivable, aggregates=["balance:sum"])
        open_moves = Move.search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date", "<=", date_to),
            ],
            order="invoice_date_due, name, id",
        )
        return {
            "partner_id": partner.id,
            "company_id": company.id,
            "date_from": date_from,
            "date_to": date_to,
            "issue_date": issue_date or fields.Date.context_today(self),
            "move_ids": [fields.Command.set(moves.ids)],
            "open_move_ids": [fields.Command.set(open_moves.ids)],
            "amount_total": sum(moves.mapped("amount_total_signed")),
            "amount_residual": balance or 0.0,
        }

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS 'base'
        statements = super().create(vals_list)
        for statement in statements:
            if statement.name == "/":
                partner_ref = statement.partner_id.ref or str(statement.partner_id.id)
                statement.name = f"ST/{statement.date_to:%Y%m%d}/{partner_ref}"
            kind = statement.company_id.ar_structured_reference_type
            kind = kind if kind in ("be", "nl") else "rf"
            statement.payment_reference = structured_ref.structured_reference(
                kind, f"{900000000 + statement.id}" if kind != "rf" else f"ST{statement.id}"
            )
        return statements

    @api.model
    def _ar_create_for_period(self, partner, company, date_from, date_to, issue_date=None):
        """The statement of the period (created once: a second call returns the first one)."""
        partner = partner.commercial_partner_id
        existing = self.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("date_from", "=", date_from),
                ("date_to", "=", date_to),
            ],
            limit=1,
        )
        if existing:
            return existing
        return self.with_company(company).create(
            self._ar_prepare_values(partner, company, date_from, date_to, issue_date)
        )

    @api.model
    def _cron_ar_generate_statements(self):
        """Cron: issue and deliver the statements of every period closed today, committing as it goes."""
        return self._ar_generate_statements(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _ar_generate_statements(self, now=None, progress=None):
        """Issue and deliver the consolidated statements of every period closed today.

        "Today" is the customer's: a customer in Auckland closes November while it is still
        November 30 in Brussels. A run that crashed is simply run again: existing statements
        are reused and only undelivered ones are sent.
        """
        now = now or fields.Datetime.now()
        # sudo: the statement run serves the customers of every company, like Odoo's sending cron
        root = self.sudo()
        todo = []
        for company in root.env["res.company"].search([("active", "=", True)]):
            Partner = root.env["res.partner"].with_company(company)
            partners = Partner.search([("ar_invoice_grouping", "=", "statement"), ("parent_id", "=", False)])
            for partner in partners:
                tz = partner.tz or company.partner_id.tz or "UTC"
                today = periods.local_today(now, tz)
                issue, date_from, date_to = periods.last_closed_period(
                    today, partner.ar_statement_period or "monthly", partner.ar_statement_day or 1
                )
                todo.append((partner, company, issue, date_from, date_to))
        done = self.browse()
        if progress:
            progress(0, remaining=len(todo))  # each customer's statement in a transaction of its own
        for index, (partner, company, issue, date_from, date_to) in enumerate(todo, 1):
            statement = root.with_company(company)._ar_claim_for_period(partner, company, date_from, date_to, issue)
            if statement.state == "draft" and (statement.move_ids or statement.amount_residual):
                statement._ar_deliver()
            done |= statement
            if progress:
                progress(1, remaining=len(todo) - index)
        return self.browse(done.ids)

    @api.model
    def _ar_claim_for_period(self, partner, company, date_from, date_to, issue_date=None):
        """The period's statement, created if needed and locked for this worker; empty when
        another worker (a second cron worker, a manual run) is issuing it or has just issued it,
        so that it is delivered once."""
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                statement = self._ar_create_for_period(partner, company, date_from, date_to, issue_date)
        except psycopg2.errors.UniqueViolation:
            return self.browse()  # created meanwhile by another worker, which delivers it
        return lock_free_rows(statement)

    # ------------------------------------------------------------------
    # DELIVERY
    # ------------------------------------------------------------------

    def _ar_channel(self):
        """Statement channel: the customer's, else the fallback; AP portal/Peppol/manual use e-mail."""
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        preferred = partner.invoice_sending_method or "email"
        for candidate in (preferred, partner.ar_fallback_sending_method, "email"):
            method = candidate if candidate in ("ar_portal", "ar_letter") else "email"
            if not partner._ar_delivery_problems(method):
                return method, candidate != preferred
        return None, False

    def action_send(self):
        """Deliver the statement through the customer's channel (a sent statement is not re-sent)."""
        for statement in self:
            if statement.state != "draft":
                raise UserError(self.env._("Statement %(name)s was already sent or cancelled.", name=statement.name))
            statement.with_company(statement.company_id)._ar_deliver()
        return True

    def action_cancel(self):
        self.filtered(lambda s: s.state == "draft").state = "cancel"

    def _ar_deliver(self):
        self.ensure_one()
        channel, is_fallback = self._ar_channel()
        if not channel:
            problems = self.partner_id.with_company(self.company_id)._ar_delivery_problems("email")
            raise UserError("\n".join(problems))
        recipients = self.partner_id._ar_invoice_recipients().filtered("email")
        Log = self.env["ar.delivery.log"].sudo()  # sudo: the trace is written for whoever sends
        log_vals = {
            "statement_id": self.id,
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "channel": channel,
            "is_fallback": is_fallback,
        }
        if channel == "ar_letter":
            address = self.partner_id._display_address(without_company=True).replace("\n", ", ")
            log = Log.create({**log_vals, "state": "queued", "destination": address})
        else:
            template = self.env.ref("ar_customer_centric.ar_mail_template_statement")
            lang = template._render_lang(self.ids)[self.id]
            # sudo: rendering a company mail template, as core's account.move.send does
            template = template.sudo().with_context(lang=lang)
            attachments = []
            if channel == "email":
                attachments = [(f"{self._get_report_base_filename()}.pdf", self._ar_render_pdf())]
            self.message_post(
                body=template._render_field("body_html", self.ids, compute_lang=True)[self.id],
                subject=template._render_field("subject", self.ids, compute_lang=True)[self.id],
                partner_ids=recipients.ids,
                attachments=attachments,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid="ar_customer_centric.mail_notification_light",
                # from the company, as the template's email_from says, never from the cron's OdooBot
                author_id=self.company_id.partner_id.id,
                email_from=template._render_field("email_from", self.ids)[self.id],
                # the layout's header: "Your statement of account", not the model's name
                model_description=self.with_context(lang=lang).env._("Statement of account"),
            )
            log = Log.create(
                {
                    **log_vals,
                    "state": "sent",
                    "date_done": fields.Datetime.now(),
                    "destination": ", ".join(recipients.mapped("email")),
                }
            )
        self.state = "sent"
        self._message_log(body=log._ar_chatter_body())
        held = self.move_ids.filtered(lambda m: m.ar_delivery_state == "held")
        if held:
            held._ar_log_delivery(
                channel,
                log.state,
                destination=log.destination,
                message=self.env._("In consolidated statement %(name)s.", name=self.name),
                statement_id=self.id,
            )
        return log

    # ------------------------------------------------------------------
    # REPORT
    # ------------------------------------------------------------------

    def _ar_render_pdf(self):
        self.ensure_one()
        return self.env["ir.actions.report"]._render_qweb_pdf(
            "ar_customer_centric.ar_customer_statement_report", self.ids
        )[0]

    def _ar_pay_all_url(self):
        self.ensure_one()
        return self.partner_id._ar_pay_all_url()

    def _ar_report_values(self):
        """What the PDF shows besides the fields: the EPC QR, the pay link and its QR."""
        self.ensure_one()
        pay_url = self._ar_pay_all_url()
        bank = self.company_id.partner_id.bank_ids[:1]
        epc_qr = False
        if bank and self.amount_residual > 0:
            epc_qr = bank.build_qr_code_base64(
                self.amount_residual,
                self.name,
                self.payment_reference,
                self.currency_id,
                self.partner_id,
                qr_method="sct_qr",
                silent_errors=True,
            )
        barcode = self.env["ir.actions.report"].barcode(
            barcode_type="QR", value=pay_url, width=128, height=128, quiet=False
        )
        return {
            "pay_url": pay_url,
            "pay_qr": image_data_uri(base64.b64encode(barcode)),
            "epc_qr": epc_qr,
            "bank": bank,
            "period": self.env._(
                "%(date_from)s - %(date_to)s",
                date_from=format_date(self.env, self.date_from),
                date_to=format_date(self.env, self.date_to),
            ),
        }
