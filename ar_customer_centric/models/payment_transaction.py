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

    def _create_payment(self, **extra_create_values):
        # EXTENDS 'account_payment'
        # A payment of several invoices, one of them in instalments (the pay-all page), pays what each invoice
        # has due now; Odoo would reconcile it by due date over all the invoices' open lines, paying a later
        # instalment of one invoice before another invoice the buyer paid whole.
        lines = self._ar_pay_now_lines()
        tx = self.with_context(ar_reconcile_first=lines.ids) if lines else self
        return super(PaymentTransaction, tx)._create_payment(**extra_create_values)

    def _ar_pay_now_lines(self):
        """The due lines this transaction pays when it pays exactly what its invoices have due now (several
        invoices, one with several open due lines); otherwise nothing (Odoo's order applies)."""
        self.ensure_one()
        invoices = self.invoice_ids.filtered(lambda m: m.state == "posted" and m.is_invoice(include_receipts=True))
        if len(invoices) < 2 or len(self.currency_id) != 1:
            return self.env["account.move.line"]
        lines = self.env["account.move.line"]
        several = False
        for invoice in invoices:
            open_terms = invoice.line_ids.filtered(lambda ln: ln.display_type == "payment_term" and not ln.reconciled)
            several = several or len(open_terms) > 1
            values = invoice._get_invoice_next_payment_values()
            if values.get("installment_state") == "overdue":
                due = [i["line"] for i in values["not_reconciled_installments"] if i["type"] == "overdue"]
            elif values.get("installment_state") == "next":
                due = [values["not_reconciled_installments"][0]["line"]]
            else:
                due = list(open_terms)
            lines = lines.union(*due)
        total = sum(-line.move_id.direction_sign * line.amount_residual_currency for line in lines)
        if not several or self.currency_id.compare_amounts(total, self.amount) != 0:
            return self.env["account.move.line"]
        return lines
