import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import format_date, pdf

from ..tools import structured_ref
from ..tools.locking import lock_free_rows

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_delivery_log_ids = fields.One2many("ar.delivery.log", "move_id", string="Deliveries")
    ar_delivery_state = fields.Selection(
        selection=[
            ("held", "Held for statement"),
            ("queued", "Queued"),
            ("retry", "Waiting for retry"),
            ("pending", "Received, awaiting status"),
            ("check", "Check manually"),
            ("sent", "Delivered"),
            ("failed", "Failed"),
        ],
        string="Delivery",
        copy=False,
        index=True,
        readonly=True,
        help="Result of the last delivery of this invoice to the customer.",
    )
    ar_delivery_channel = fields.Selection(
        selection=lambda self: self.env["res.partner"]._selection_ar_fallback_sending_method(),
        string="Delivered By",
        copy=False,
        readonly=True,
    )
    ar_delivered_on = fields.Datetime(string="Delivered On", copy=False, readonly=True)
    ar_delivery_destination = fields.Char(string="Delivered To", copy=False, readonly=True)
    ar_statement_ids = fields.Many2many(
        "ar.customer.statement",
        "ar_customer_statement_move_rel",
        "move_id",
        "statement_id",
        string="Customer Statements",
        copy=False,
        readonly=True,
    )

    # ------------------------------------------------------------------
    # PAYMENT REFERENCE AND QR CODES ON THE INVOICE PDF
    # ------------------------------------------------------------------

    def _get_invoice_computed_reference(self):
        # EXTENDS 'account'
        kind = self.company_id.ar_structured_reference_type
        if kind and kind != "journal" and self.move_type == "out_invoice":
            return structured_ref.structured_reference(kind, f"{self.id}")
        return super()._get_invoice_computed_reference()

    @api.depends("company_id.ar_structured_reference_type")
    def _compute_display_qr_code(self):
        # EXTENDS 'account': EPC QR whenever the company uses a structured reference
        res = super()._compute_display_qr_code()
        for move in self:
            if move.move_type == "out_invoice" and move.company_id.ar_structured_reference_type not in (
                False,
                "journal",
            ):
                move.display_qr_code = True
        return res

    @api.depends("company_id.ar_structured_reference_type")
    def _compute_display_link_qr_code(self):
        # EXTENDS 'account': QR code of the pay page next to the EPC QR code
        res = super()._compute_display_link_qr_code()
        for move in self:
            if move.move_type == "out_invoice" and move.company_id.ar_structured_reference_type not in (
                False,
                "journal",
            ):
                move.display_link_qr_code = True
        return res

    def _get_portal_payment_link(self):
        # EXTENDS 'account_payment': one-click pay page of ar_customer_centric when available
        self.ensure_one()
        if hasattr(self, "_ar_get_pay_url"):
            return self._ar_get_pay_url()
        return super()._get_portal_payment_link()

    def _ar_pay_url(self):
        """One-click pay URL of the invoice (portal engineer's, else Odoo's portal page)."""
        self.ensure_one()
        if hasattr(self, "_ar_get_pay_url"):
            return self._ar_get_pay_url()
        return self.get_base_url() + self.get_portal_url()

    # ------------------------------------------------------------------
    # AUTOMATIC SENDING
    # ------------------------------------------------------------------

    def _post(self, soft=True):
        # EXTENDS 'account': queue customer invoices for the sending cron (company option)
        self._ar_cxml_fill_references()
        posted = super()._post(soft=soft)
        auto = posted.filtered(
            lambda m: (
                m.company_id.ar_auto_send
                and m.is_sale_document(include_receipts=False)
                and not m.sending_data
                and not m.ar_delivery_state
            )
        )
        if auto:
            auto.sending_data = {
                "author_user_id": self.env.user.id,
                "author_partner_id": self.env.user.partner_id.id,
            }
            self.env.ref("account.ir_cron_account_move_send")._trigger()
        return posted

    # ------------------------------------------------------------------
    # DELIVERY TRACE
    # ------------------------------------------------------------------

    def _ar_log_delivery(self, channel, state, destination=None, message=None, **extra):
        """Write the delivery trace: one log line per invoice, the move fields, the chatter."""
        logs = self.env["ar.delivery.log"]
        now = fields.Datetime.now()
        vals_list = []
        for move in self:
            vals_list.append(
                {
                    "move_id": move.id,
                    "partner_id": move.commercial_partner_id.id,
                    "company_id": move.company_id.id,
                    "channel": channel,
                    "state": state,
                    "destination": destination if isinstance(destination, str) else (destination or {}).get(move),
                    "message": message if isinstance(message, str) else (message or {}).get(move),
                    "date_done": now if state == "sent" else False,
                    **extra,
                }
            )
        # sudo: the trace is written for whoever sends, the log has no create right for users
        logs = logs.sudo().create(vals_list)
        move_vals = {"ar_delivery_state": state if state != "skipped" else False, "ar_delivery_channel": channel}
        if state == "sent":
            move_vals["ar_delivered_on"] = now
        for move, log in zip(self, logs, strict=True):
            vals = dict(move_vals, ar_delivery_destination=log.destination)
            if state == "skipped":
                vals = {}
            if vals:
                move.sudo().write(vals)
            move._message_log(body=log._ar_chatter_body())
        return logs

    def _ar_is_delivered(self):
        """True when the invoice already reached the customer (by any channel)."""
        self.ensure_one()
        return self.ar_delivery_state == "sent"

    def action_ar_resend(self):
        """Explicitly deliver again through the customer's channel (never happens by itself)."""
        moves = self.filtered(lambda m: m.state == "posted" and m.is_sale_document(include_receipts=True))
        if not moves:
            raise UserError(self.env._("Only posted customer invoices and credit notes can be re-sent."))
        self.env["account.move.send"].with_context(ar_resend=True)._generate_and_send_invoices(
            moves, allow_fallback_pdf=True
        )
        return True

    def action_ar_view_delivery_logs(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_customer_centric.ar_delivery_log_action")
        action["domain"] = [("move_id", "in", self.ids)]
        return action

    # ------------------------------------------------------------------
    # CHANNEL: BUYER'S AP PORTAL (cXML)
    # ------------------------------------------------------------------

    @api.model
    def _cron_ar_retry_cxml(self):
        """Cron: retry the transient cXML failures that are due, committing after each invoice."""
        return self._ar_retry_cxml(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _ar_retry_cxml(self, batch_size=50, progress=None):
        """Retry the cXML deliveries that failed for a transient reason, with back-off."""
        domain = (
            Domain("channel", "=", "ar_cxml")
            & Domain("state", "=", "retry")
            & Domain("next_attempt", "<=", fields.Datetime.now())
        )
        Log = self.env["ar.delivery.log"]
        logs = Log.search(domain, limit=batch_size, order="next_attempt, id")
        for candidate in logs:
            # claimed with a row lock: two workers running the retries never post it twice
            log = lock_free_rows(candidate).filtered_domain(domain)
            if not log:
                continue
            move = log.move_id
            # the waiting line is closed: the new attempt writes its own line
            log.state = "failed"
            # a corrected invoice (reset to draft: new payloadID) is not retried under its old payloadID
            if (
                move.state == "posted"
                and move.ar_delivery_state not in ("sent", "pending")
                and log.payload_id == move.ar_cxml_payload_id
            ):
                move._ar_cxml_post(is_fallback=log.is_fallback)
            if progress:
                progress(1, remaining=Log.search_count(domain))
        return logs

    # ------------------------------------------------------------------
    # CHANNEL: POSTAL LETTER (print batch)
    # ------------------------------------------------------------------

    @api.model
    def _ar_print_letter_batch(self, letters):
        """One PDF with the queued letters (invoices and statements), which become delivered."""
        if not letters:
            raise UserError(self.env._("There are no queued postal letters to print."))
        contents = []
        for log in letters:
            if log.move_id:
                attachment = log.move_id.invoice_pdf_report_id
                content = (
                    attachment.raw
                    if attachment
                    else self.env["ir.actions.report"]._render_qweb_pdf("account.account_invoices", log.move_id.ids)[0]
                )
            else:
                content = log.statement_id._ar_render_pdf()
            contents.append(content)
        merged = pdf.merge_pdf(contents)
        today = format_date(self.env, fields.Date.context_today(self))
        # sudo: the print batch is a technical attachment read through its download URL
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": self.env._("Postal letters %(date)s.pdf", date=today),
                    "raw": merged,
                    "mimetype": "application/pdf",
                    "res_model": "ar.delivery.log",
                    "res_id": letters[:1].id,
                }
            )
        )
        # sudo: the log is read-only for invoicing users; printing the batch is what delivers it
        letters.sudo().write({"state": "sent", "date_done": fields.Datetime.now(), "message": attachment.name})
        moves = letters.move_id
        moves.sudo().write({"ar_delivery_state": "sent", "ar_delivered_on": fields.Datetime.now()})
        for move in moves:
            move._message_log(body=self.env._("Printed in the postal letter batch %(name)s.", name=attachment.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true&access_token={attachment.generate_access_token()[0]}",
            "close": True,
        }
