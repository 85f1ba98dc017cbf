from odoo import api, fields, models


class ArDeliveryLog(models.Model):
    _name = "ar.delivery.log"
    _description = "Invoice Delivery Log"
    _order = "create_date desc, id desc"
    _check_company_auto = True

    move_id = fields.Many2one("account.move", string="Invoice", index=True, ondelete="cascade", check_company=True)
    statement_id = fields.Many2one("ar.customer.statement", index=True, ondelete="cascade", check_company=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    channel = fields.Selection(
        selection=lambda self: self.env["res.partner"]._selection_ar_fallback_sending_method(), required=True
    )
    state = fields.Selection(
        selection=[
            ("queued", "Queued"),
            ("held", "Held for statement"),
            ("retry", "Waiting for retry"),
            ("pending", "Received, awaiting status"),
            ("check", "Check manually"),
            ("sent", "Delivered"),
            ("failed", "Failed"),
            ("skipped", "Not re-sent"),
        ],
        required=True,
        default="queued",
        index=True,
    )
    is_fallback = fields.Boolean(string="Fallback", help="The preferred channel could not deliver this invoice.")
    destination = fields.Char(help="E-mail addresses, endpoint URL or postal address the document went to.")
    message = fields.Text()
    date_done = fields.Datetime(string="Delivered On")
    attempt_count = fields.Integer(string="Attempts")
    next_attempt = fields.Datetime(index=True)
    payload_id = fields.Char(string="Payload ID", index=True)
    response_code = fields.Char(string="Response")

    @api.depends("move_id", "statement_id", "channel")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for log in self:
            document = log.move_id.name or log.statement_id.name or ""
            log.display_name = f"{document} - {channels.get(log.channel, log.channel)}"

    def action_ar_print_letter_batch(self):
        """Merge the PDFs of the queued postal letters into one print batch for the accountant."""
        letters = self.filtered(lambda log: log.channel == "ar_letter" and log.state == "queued")
        return self.env["account.move"]._ar_print_letter_batch(letters)

    def _ar_chatter_body(self):
        """One line for the document's chatter: channel, result, destination, reason."""
        self.ensure_one()
        channels = dict(self._fields["channel"]._description_selection(self.env))
        states = dict(self._fields["state"]._description_selection(self.env))
        body = self.env._(
            "Delivery (%(channel)s): %(state)s",
            channel=channels.get(self.channel, self.channel),
            state=states[self.state],
        )
        if self.is_fallback:
            body += " " + self.env._("(fallback: the preferred channel could not deliver)")
        if self.destination:
            body += " - " + self.destination
        if self.message:
            body += " - " + self.message
        return body
