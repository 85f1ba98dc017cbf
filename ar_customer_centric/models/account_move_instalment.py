from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

from ..tools.locking import lock_free_rows

INSTALMENT_NOTICE_BATCH = 200


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ar_instalment_notice_on = fields.Date(
        string="Instalment Notice Sent On",
        copy=False,
        readonly=True,
        help="Date the buyer was told of this instalment (due line) before its due date: the instalment "
        "notice, or the pre-notification of its automatic payment. Sent once per instalment.",
    )

    def write(self, vals):
        # EXTENDS 'account'
        # a due line moved to another date (a payment plan rebooking the receivable) is a new instalment: its
        # notice is sent again for the new date (autopay needs nothing: its notice covers dates, not lines)
        if "date_maturity" not in vals:
            return super().write(vals)
        new_date = fields.Date.to_date(vals["date_maturity"])
        moved = self.filtered(lambda line: line.ar_instalment_notice_on and line.date_maturity != new_date)
        res = super().write(vals)
        if moved:
            moved.ar_instalment_notice_on = False
        return res

    def reconcile(self):
        # EXTENDS 'account'
        # a payment of what several invoices have due now (payment.transaction._create_payment) settles those
        # due lines first; what it has left, if anything, goes by due date as usual
        first_ids = self.env.context.get("ar_reconcile_first")
        if not first_ids:
            return super().reconcile()
        lines = self.with_context(ar_reconcile_first=False)
        first = lines.filtered(lambda line: line.id in first_ids and not line.reconciled)
        payment_lines = lines.filtered(lambda line: not line.move_id.is_invoice(include_receipts=True))
        if not first or not payment_lines:
            return super(AccountMoveLine, lines).reconcile()
        res = super(AccountMoveLine, payment_lines | first).reconcile()
        rest = lines.filtered(lambda line: not line.reconciled)
        if rest & payment_lines and rest - payment_lines:
            super(AccountMoveLine, rest).reconcile()
        return res

    def _ar_instalment_position(self):
        """(number, count) of this due line among the due lines of its invoice (Odoo's numbering)."""
        self.ensure_one()
        instalments = self.move_id._get_installments_data()
        number = next((i["number"] for i in instalments if i["line"] == self), 0)
        return number, len(instalments)

    def _ar_post_instalment_notice(self):
        """Post the instalment notice on the invoice, to its invoice recipients, from the salesperson or
        the company, in Odoo's light layout (as the portal notice)."""
        self.ensure_one()
        move = self.move_id
        template = move._ar_instalment_notice_template()
        if not template:
            return
        recipients = move.commercial_partner_id._ar_invoice_recipients().filtered("email")
        lang = template._render_lang(self.ids)[self.id]
        # sudo: rendering a company mail template, as core's _get_mail_default_field_value_from_template
        template = template.sudo().with_context(lang=lang)
        move.message_post(
            body=template._render_field("body_html", self.ids, compute_lang=True)[self.id],
            subject=template._render_field("subject", self.ids, compute_lang=True)[self.id],
            partner_ids=recipients.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="ar_customer_centric.mail_notification_light",
            # from the invoice's salesperson or the company, never from whoever runs the cron (OdooBot)
            author_id=(move.invoice_user_id.partner_id or move.company_id.partner_id).id,
            email_from=template._render_field("email_from", self.ids)[self.id],
            model_description=move.with_context(lang=lang).type_name,
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _ar_instalment_notice_domain(self, company, today):
        """Open due lines of posted customer invoices of ``company`` coming due within the company's
        notice period and not announced yet."""
        return Domain(
            [
                ("company_id", "=", company.id),
                ("display_type", "=", "payment_term"),
                ("parent_state", "=", "posted"),
                ("move_id.move_type", "=", "out_invoice"),
                ("move_id.payment_state", "in", ("not_paid", "partial")),
                ("move_id.ar_dispute_state", "!=", "open"),
                ("reconciled", "=", False),
                ("ar_instalment_notice_on", "=", False),
                # after today: an instalment due today or made due at once (a plan called in) gets no notice
                ("date_maturity", ">", today),
                ("date_maturity", "<=", today + timedelta(days=company.ar_instalment_notice_days)),
            ]
        )

    @api.model
    def _cron_ar_instalment_notice(self, batch_size=INSTALMENT_NOTICE_BATCH):
        """Tell the buyers of invoices with several due lines (a multi-line payment term, a payment plan)
        of each instalment a few days before it is due, once per instalment."""
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([("ar_instalment_notice_days", ">", 0)]):
            domain = self._ar_instalment_notice_domain(company, today)
            last_id = 0
            while True:
                # keyset batches: one bounded query each, the lines skipped are not read again
                lines = self.env["account.move.line"].search(
                    domain & Domain("id", ">", last_id), order="id", limit=batch_size
                )
                if not lines:
                    break
                last_id = lines[-1].id
                sent = self.with_company(company)._ar_send_instalment_notices(lines, today)
                if self.env["ir.cron"]._commit_progress(len(sent)) <= 0:
                    return

    @api.model
    def _ar_send_instalment_notices(self, lines, today):
        """Send the notice of the earliest instalment of each invoice among ``lines``; the others wait for
        the next run. Autopay customers are told by their pre-notification (one mail, not two)."""
        sent = self.env["account.move.line"]
        for move, move_lines in lines.grouped("move_id").items():
            term_lines = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
            if len(term_lines) < 2:
                continue  # one due line: the invoice itself says when it is due
            if move.commercial_partner_id.with_company(move.company_id).ar_autopay and move._ar_autopay_method()[0]:
                continue  # the autopay pre-notification announces the instalment, amount and account
            # claimed with a row lock and checked again: a line is announced once, even by two workers
            line = lock_free_rows(move_lines.sorted(lambda x: (x.date_maturity, x.id))[:1])
            if not line or line.ar_instalment_notice_on or line.reconciled:
                continue
            line.ar_instalment_notice_on = today
            line._ar_post_instalment_notice()
            sent |= line
        return sent

    # ------------------------------------------------------------------
    # Mail
    # ------------------------------------------------------------------

    @api.model
    def _ar_instalment_notice_template(self):
        return self.env.ref("ar_customer_centric.mail_template_ar_instalment_notice", raise_if_not_found=False)
