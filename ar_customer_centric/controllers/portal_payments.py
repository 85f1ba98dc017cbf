from odoo import http
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal_access import ArPortalBase

PAYMENTS_PER_PAGE = 20


class ArPortalPayments(ArPortalBase):
    """Payments received, listed for the buyer."""

    def _prepare_home_portal_values(self, counters):
        # EXTENDS 'account'
        values = super()._prepare_home_portal_values(counters)
        if "ar_payment_count" in counters:
            values["ar_payment_count"] = (
                # sudo: portal users have no access to payments; filtered on their commercial partner
                request.env["account.payment"]
                .sudo()
                .search_count(self._ar_payments_domain(self._ar_commercial_partner()), limit=1)
            )
        return values

    def _ar_payments_domain(self, partner):
        return Domain(
            [
                ("partner_id", "child_of", partner.id),
                ("partner_type", "=", "customer"),
                ("payment_type", "=", "inbound"),
                ("state", "in", ("in_process", "paid")),
            ]
        )

    @http.route(["/my/payments", "/my/payments/page/<int:page>"], type="http", auth="user", website=True, readonly=True)
    def ar_portal_my_payments(self, page=1, **kw):
        partner = self._ar_commercial_partner()
        self._ar_check_buyer()
        # sudo: portal users have no access rights on payments; the domain keeps them to their own
        Payment = request.env["account.payment"].sudo()
        domain = self._ar_payments_domain(partner)
        pager = portal_pager(url="/my/payments", total=Payment.search_count(domain), page=page, step=PAYMENTS_PER_PAGE)
        payments = Payment.search(domain, order="date desc, id desc", limit=PAYMENTS_PER_PAGE, offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "payments": payments,
                # an accountant may have matched the payment with another customer's invoice:
                # list only the buyer's own, linked without an access token (record rules apply)
                "settled_invoices": {
                    pay.id: pay.reconciled_invoice_ids.filtered(lambda m: m.commercial_partner_id == partner)
                    for pay in payments
                },
                "pager": pager,
                "page_name": "ar_payments",
            }
        )
        return request.render("ar_customer_centric.portal_my_payments", values)
