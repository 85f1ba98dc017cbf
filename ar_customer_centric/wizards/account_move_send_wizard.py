from odoo import fields, models
from odoo.exceptions import UserError


class AccountMoveSendWizard(models.TransientModel):
    _inherit = "account.move.send.wizard"

    ar_already_delivered = fields.Boolean(string="Already Delivered", compute="_compute_ar_already_delivered")
    ar_resend = fields.Boolean(
        string="Deliver Again",
        help="The invoice was already delivered: tick to deliver it once more on purpose.",
    )

    def _compute_ar_already_delivered(self):
        for wizard in self:
            wizard.ar_already_delivered = wizard.move_id.ar_delivery_state == "sent"

    def action_send_and_print(self, allow_fallback_pdf=False):
        # EXTENDS 'account': an already delivered invoice is only delivered again on purpose
        self.ensure_one()
        delivery = set(self.sending_methods or ()) - {"manual"}
        if self.ar_already_delivered and delivery and not self.ar_resend:
            raise UserError(
                self.env._(
                    "%(invoice)s was already delivered on %(date)s. Tick “Deliver Again” to send it once more.",
                    invoice=self.move_id.name,
                    date=self.move_id.ar_delivered_on,
                )
            )
        return super(AccountMoveSendWizard, self.with_context(ar_resend=self.ar_resend)).action_send_and_print(
            allow_fallback_pdf=allow_fallback_pdf
        )
