from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

# A dispute message is a few paragraphs; documents go as attachments.
MAX_DISPUTE_MESSAGE = 10000


class ArDispute(models.Model):
    _name = "ar.dispute"
    _description = "Invoice Dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
        tracking=True,
    )
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Customer", store=True, index=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_total = fields.Monetary(related="move_id.amount_total", string="Invoice Total")
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Amount Due")
    reason = fields.Selection(
        selection=[
            ("wrong_amount", "Wrong amount"),
            ("not_delivered", "Not delivered"),
            ("quality", "Quality issue"),
            ("already_paid", "Already paid"),
            ("other", "Other"),
        ],
        required=True,
        tracking=True,
    )
    description = fields.Text(string="Buyer's Message", required=True)
    state = fields.Selection(
        selection=[("open", "Open"), ("accepted", "Accepted"), ("rejected", "Rejected")],
        string="Status",
        default="open",
        required=True,
        tracking=True,
        copy=False,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        tracking=True,
        domain="[('share', '=', False)]",
        help="Accountant who resolves the dispute; gets a to-do activity when it is logged.",
    )
    raised_by_id = fields.Many2one("res.partner", readonly=True, help="Contact who logged the dispute.")
    resolution_note = fields.Text(
        string="Resolution Message",
        help="Sent to the buyer when the dispute is resolved; required to reject it.",
    )
    credit_note_id = fields.Many2one("account.move", readonly=True, copy=False, check_company=True)
    date_resolved = fields.Datetime(string="Resolved On", readonly=True, copy=False)

    @api.depends("move_id.name", "reason")
    def _compute_display_name(self):
        reasons = dict(self._fields["reason"]._description_selection(self.env))
        for dispute in self:
            dispute.display_name = self.env._(
                "Dispute on %(invoice)s (%(reason)s)",
                invoice=dispute.move_id.name or "",
                reason=reasons.get(dispute.reason, ""),
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS 'mail'
        moves = self.env["account.move"].browse([v["move_id"] for v in vals_list if v.get("move_id")])
        bad = moves.filtered(lambda m: m.move_type != "out_invoice" or m.state != "posted")
        if bad:
            raise UserError(
                self.env._(
                    "Only posted customer invoices can be disputed (Invoice: %(names)s).",
                    names=", ".join(bad.mapped("display_name")),
                )
            )
        already = moves.filtered(lambda m: m.ar_dispute_state == "open")
        if already:
            raise UserError(
                self.env._(
                    "Invoice %(names)s already has an open dispute: add your message to it instead.",
                    names=", ".join(already.mapped("display_name")),
                )
            )
        moves._ar_set_disputed()
        for vals in vals_list:
            if not vals.get("user_id") and vals.get("move_id"):
                move = self.env["account.move"].browse(vals["move_id"])
                vals["user_id"] = self._get_default_responsible(move).id
        disputes = super().create(vals_list)
        disputes._schedule_responsible_activity()
        return disputes

    @api.model
    def _get_default_responsible(self, move):
        """The invoice's salesperson if internal, else the first invoicing user of the company."""
        if move.invoice_user_id and not move.invoice_user_id.share:
            return move.invoice_user_id
        group = self.env.ref("account.group_account_invoice")
        return self.env["res.users"].search(
            Domain("group_ids", "in", group.ids)
            & Domain("share", "=", False)
            & Domain("company_ids", "in", move.company_id.ids),
            order="id",
            limit=1,
        )

    def _schedule_responsible_activity(self):
        for dispute in self.filtered("user_id"):
            dispute.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=dispute.user_id.id,
                summary=self.env._("Resolve the buyer's dispute on %(invoice)s", invoice=dispute.move_id.name),
                note=dispute.description,
            )

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------

    @api.model
    def _ar_log_dispute(self, move, reason, message, author, attachments=None):
        """Log a buyer's dispute: record, public message with attachments on the invoice
        (the buyer's thread), activity for the accountant, acknowledgement to the buyer.

        ``move`` is checked by the caller (portal access token, record rules or pay-all token).
        """
        if reason not in dict(self._fields["reason"].selection):
            raise UserError(self.env._("Choose a reason for the dispute."))
        if not (message or "").strip():
            raise UserError(self.env._("Describe the problem in the message of the dispute."))
        if len(message) > MAX_DISPUTE_MESSAGE:
            raise UserError(
                self.env._(
                    "The message of the dispute is too long: write at most %(max)s characters and attach "
                    "documents for the rest.",
                    max=MAX_DISPUTE_MESSAGE,
                )
            )
        # the responsible gets the to-do activity's mail, not a second "you have been assigned" one
        dispute = self.with_context(mail_auto_subscribe_no_notify=True).create(
            {
                "move_id": move.id,
                "reason": reason,
                "description": message.strip(),
                "raised_by_id": author.id,
            }
        )
        reasons = dict(self._fields["reason"]._description_selection(self.env))
        body = Markup("<p><strong>%s</strong></p><p>%s</p>") % (
            self.env._("Dispute: %(reason)s", reason=reasons[reason]),
            message.strip(),
        )
        # the buyer's own words, shown in the invoice's portal thread; not e-mailed back to the buyer's
        # side (who follow the invoice): the acknowledgement below is their one mail, the accountant's is
        # the activity
        move.message_post(
            body=body,
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=(attachments or self.env["ir.attachment"]).ids,
            notify_skip_followers=True,
        )
        dispute.message_post(
            body=body,
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        dispute._notify_buyer("ar_customer_centric.mail_template_ar_dispute_received")
        return dispute

    def _notify_buyer(self, template_xmlid):
        """Post the rendered template on the invoice, so the buyer gets it by e-mail and in the
        thread of the invoice portal page."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for dispute in self:
            lang = template._render_lang(dispute.ids)[dispute.id]
            # sudo: rendering a company mail template for a buyer-side (portal) request, as the invoice mails
            tmpl = template.sudo().with_context(lang=lang)
            rendered = tmpl._render_field("body_html", dispute.ids, compute_lang=True)
            subject = tmpl._render_field("subject", dispute.ids, compute_lang=True)[dispute.id]
            move = dispute.move_id
            # one mail to the buyer's contact: not also to the followers of the invoice (the buyer's company
            # and contacts follow it), from the company's side even when the buyer's request posts it
            move.message_post(
                body=rendered[dispute.id],
                subject=" ".join((subject or "").split()),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=(dispute.raised_by_id or dispute.partner_id).ids,
                notify_skip_followers=True,
                # posted during the buyer's own portal request, Odoo takes the buyer as the real author and
                # would skip them: the recipient is named in partner_ids, nobody else is notified
                notify_author=True,
                author_id=(dispute.user_id.partner_id or dispute.company_id.partner_id).id,
                email_layout_xmlid="ar_customer_centric.mail_notification_light",
                model_description=move.with_context(lang=lang).type_name,
            )

    def _check_open(self):
        not_open = self.filtered(lambda d: d.state != "open")
        if not_open:
            raise UserError(
                self.env._(
                    "Dispute %(name)s is already resolved.",
                    name=", ".join(not_open.mapped("display_name")),
                )
            )

    def _resolve(self, state):
        self.write({"state": state, "date_resolved": fields.Datetime.now()})
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self.move_id._ar_restore_followup()

    def action_accept_credit_note(self):
        """Accept the dispute: create a draft credit note of the invoice and open it."""
        self.ensure_one()
        self._check_open()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=self.move_id.ids)
            .create(
                {
                    "reason": self.env._("Dispute: %(name)s", name=self.display_name),
                    "journal_id": self.move_id.journal_id.id,
                }
            )
        )
        action = reversal.refund_moves()
        self.credit_note_id = reversal.new_move_ids[:1]
        self._resolve("accepted")
        self._notify_buyer("ar_customer_centric.mail_template_ar_dispute_accepted")
        return action

    def action_reject(self):
        self._check_open()
        missing = self.filtered(lambda d: not (d.resolution_note or "").strip())
        if missing:
            raise UserError(
                self.env._("Write a Resolution Message explaining why the dispute is rejected; the buyer receives it.")
            )
        self._resolve("rejected")
        self._notify_buyer("ar_customer_centric.mail_template_ar_dispute_rejected")
        return True
