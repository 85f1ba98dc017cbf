"""The access checks every buyer-facing route shares (one place, ../STYLE.md §7)."""

from werkzeug.exceptions import NotFound, TooManyRequests

from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal as AccountPaymentPortal
from odoo.addons.account_payment.controllers.portal import PortalAccount

from .rate_limit import THROTTLE


class ArPortalBase(PortalAccount, AccountPaymentPortal):
    """Base of the suite's portal controllers: one concern per subclass, the checks here."""

    def _ar_throttle(self, bucket):
        """Raise 429 when a client calls the guest endpoints too often."""
        # sudo: reading a configuration parameter
        limit = int(request.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.guest_rate_limit", 60))
        address = request.httprequest.remote_addr or "?"
        if not THROTTLE.hit((bucket, address), limit):
            raise TooManyRequests()

    def _ar_commercial_partner(self):
        return request.env.user.partner_id.commercial_partner_id

    def _ar_check_buyer(self):
        """404 unless the logged-in user may read invoices (a portal or internal user)."""
        if not request.env["account.move"].has_access("read"):
            raise NotFound()

    def _ar_pay_all_access(self, token):
        """``(commercial partner, company)`` of a valid pay-all token; 404 otherwise."""
        partner, company = request.env["res.partner"]._ar_parse_pay_all_token(token)
        if not partner:
            raise NotFound()
        return partner, company

    def _ar_pay_all_open_invoices(self, partner, company):
        """What a pay-all link grants: the open invoices of its partner in its company, nothing else."""
        # sudo: the signed pay-all token grants access to these invoices only
        return (
            request.env["account.move"]
            .sudo()
            .search(
                request.env["account.move"]._ar_open_invoices_domain(partner) & Domain("company_id", "=", company.id),
                order="invoice_date_due, id",
            )
        )

    def _ar_invoice_sudo(self, invoice_id, access_token):
        """The invoice if the user may read it or the token is right; 404 otherwise."""
        try:
            invoice_sudo = self._document_check_access("account.move", invoice_id, access_token)
        except (AccessError, MissingError) as e:
            raise NotFound() from e
        if invoice_sudo.move_type not in ("out_invoice", "out_refund") or invoice_sudo.state != "posted":
            raise NotFound()
        return invoice_sudo

    # ------------------------------------------------------------------
    # Guests pay, they never use or save a card (links get forwarded)
    # ------------------------------------------------------------------

    def _get_common_page_view_values(self, invoices_data, access_token=None, **kwargs):
        # EXTENDS 'account_payment': a guest link (pay-all or one invoice) is meant to be forwarded
        # to an AP team; whoever holds it must not see, use or create the customer's saved cards.
        values = super()._get_common_page_view_values(invoices_data, access_token=access_token, **kwargs)
        if request.env.user._is_public():
            values["tokens_sudo"] = request.env["payment.token"]
            values["show_tokenize_input_mapping"] = dict.fromkeys(values.get("show_tokenize_input_mapping", {}), False)
        return values

    def _ar_check_guest_payment(self, kwargs):
        """Refuse a saved payment method and never save one when the payer is not logged in."""
        if not request.env.user._is_public():
            return
        if kwargs.get("flow") == "token" or kwargs.get("token_id"):
            raise ValidationError(
                request.env._("Saved payment methods can only be used after you log in to your customer portal.")
            )
        kwargs["tokenization_requested"] = False
