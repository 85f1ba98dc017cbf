from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    ar_is_autopay = fields.Boolean(string="Autopay", readonly=True, help="Charged by the autopay cron on the due date.")

    def _post_process(self):
        # EXTENDS 'account_payment'
        res = super()._post_process()
        for tx in self.filtered("ar_is_autopay"):
            invoices = tx.invoice_ids.filtered(lambda m: m.ar_autopay_state == "pending")
            if tx.state == "done":
                invoices._ar_autopay_succeeded()
            elif tx.state in ("error", "cancel"):
                invoices._ar_autopay_failed(reason=tx.state_message or "")
        return res
