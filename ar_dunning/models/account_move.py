from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

# Days a pending online payment (typically an announced bank transfer) keeps an invoice out of
# dunning; after that the buyer is reminded as if nothing was announced.
PENDING_PAYMENT_DAYS = 14


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_dunning_level_id = fields.Many2one(
        "ar.dunning.level", string="Last Dunning Level", copy=False, readonly=True, index="btree_not_null"
    )
    ar_dunning_first_date = fields.Date(string="First Reminder", copy=False, readonly=True)
    ar_dunning_last_date = fields.Date(string="Last Reminder", copy=False, readonly=True)
    ar_dunning_handed_over = fields.Boolean(
        string="Handed Over to Agency", copy=False, help="The invoice is with a collection agency: no more reminders."
    )
    ar_dunning_charge_move_id = fields.Many2one(
        "account.move",
        string="Charges Invoice",
        copy=False,
        readonly=True,
        help="Debit note invoicing the interest and fees.",
    )
    ar_dunning_de_notice = fields.Boolean(
        string="Default Notice Printed",
        copy=False,
        readonly=True,
        help="The invoice told a German consumer that they are in default 30 days after due date and receipt "
        "(§ 286(3) BGB); without it a consumer is only in default after a reminder.",
    )
    ar_dunning_item_ids = fields.One2many("ar.dunning.item", "move_id", string="Reminder History", readonly=True)

    # EXTENDS 'account'
    def _post(self, soft=True):
        if not self.env.context.get("ar_dunning_skip_credit_hold"):
            held = self.filtered(
                lambda m: m.move_type == "out_invoice" and m.commercial_partner_id.ar_dunning_credit_hold
            )
            if held:
                raise UserError(
                    self.env._(
                        "%(partner)s is on credit hold after dunning: lift the hold on the customer (Accounting tab) "
                        "before posting a new invoice.",
                        partner=held[0].commercial_partner_id.display_name,
                    )
                )
        posted = super()._post(soft=soft)
        de_consumers = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.commercial_partner_id.country_id.code == "DE"
                and m.commercial_partner_id._ar_dunning_customer_type() == "b2c"
            )
        )
        if de_consumers:
            de_consumers.ar_dunning_de_notice = True  # the invoice report prints the notice for them
        return posted

    @api.model
    def _ar_dunning_pending_tx_move_ids(self, moves):
        """Invoices with a payment transaction in progress (only when the payment module is installed)."""
        if "transaction_ids" not in self._fields or not moves:
            return set()
        # A pending transaction (a bank transfer announced on the pay page) shields the invoice
        # for a while only: the buyer may never send the money.
        days = int(
            # sudo: reading a configuration parameter
            self.env["ir.config_parameter"].sudo().get_param("ar_dunning.pending_payment_days", PENDING_PAYMENT_DAYS)
        )
        since = fields.Datetime.now() - timedelta(days=days)
        # sudo: transactions are read only to know whether a payment is underway
        txs = (
            self.env["payment.transaction"]
            .sudo()
            .search_fetch(
                Domain("invoice_ids", "in", moves.ids)
                & (
                    Domain("state", "=", "authorized")
                    | (Domain("state", "=", "pending") & Domain("last_state_change", ">=", since))
                ),
                ["invoice_ids"],
            )
        )
        return set(txs.invoice_ids.ids) & set(moves.ids)
