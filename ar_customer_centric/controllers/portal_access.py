"""The access checks every buyer-facing route shares (one place, ../STYLE.md §7)."""

from werkzeug.exceptions import NotFound, TooManyRequests

from odoo.exceptions import AccessError, MissingError
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

    def _ar_invoice_sudo(self, invoice_id, access_token):
        """The invoice if the user may read it or the token is right; 404 otherwise."""
        try:
            invoice_sudo = self._document_check_access("account.move", invoice_id, access_token)
        except (AccessError, MissingError) as e:
            raise NotFound() from e
        if invoice_sudo.move_type not in ("out_invoice", "out_refund") or invoice_sudo.state != "posted":
            raise NotFound()
        return invoice_sudo
