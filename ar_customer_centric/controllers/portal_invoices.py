import logging

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal_access import ArPortalBase

_logger = logging.getLogger(__name__)


class ArPortalInvoices(ArPortalBase):
    # ------------------------------------------------------------------
    # History: /my/invoices with status, filters and search
    # ------------------------------------------------------------------

    def _get_account_searchbar_filters(self):
        # EXTENDS 'account'
        filters = super()._get_account_searchbar_filters()
        filters.update(
            {
                "ar_open": {
                    "label": request.env._("Open"),
                    "domain": [
                        ("move_type", "in", ("out_invoice", "out_receipt")),
                        ("payment_state", "in", ("not_paid", "partial")),
                    ],
                },
                "ar_paid": {
                    "label": request.env._("Paid"),
                    "domain": [("payment_state", "in", ("paid", "in_payment", "reversed"))],
                },
                "ar_disputed": {
                    "label": request.env._("Disputed"),
                    "domain": [("ar_dispute_state", "=", "open")],
                },
            }
        )
        return filters

    def _ar_invoice_searchbar_inputs(self):
        return {
            "name": {"input": "name", "label": request.env._("Search in Number")},
            "ref": {"input": "ref", "label": request.env._("Search in Reference")},
            "all": {"input": "all", "label": request.env._("Search in All")},
        }

    def _ar_invoice_search_domain(self, search_in, search):
        if not search:
            return Domain.TRUE
        if search_in == "name":
            return Domain("name", "ilike", search)
        if search_in == "ref":
            return Domain("ref", "ilike", search) | Domain("payment_reference", "ilike", search)
        return Domain.OR(
            [
                Domain("name", "ilike", search),
                Domain("ref", "ilike", search),
                Domain("payment_reference", "ilike", search),
                Domain("invoice_origin", "ilike", search),
            ]
        )

    @http.route()
    def portal_my_invoices(self, page=1, date_begin=None, date_end=None, sortby=None, filterby=None, **kw):
        # EXTENDS 'account': search box, status filters, pay-all button
        search = kw.get("search")
        search_in = kw.get("search_in") if kw.get("search_in") in self._ar_invoice_searchbar_inputs() else "all"
        values = self._prepare_my_invoices_values(
            page, date_begin, date_end, sortby, filterby, domain=self._ar_invoice_search_domain(search_in, search)
        )
        values["pager"]["url_args"].update({"search": search, "search_in": search_in})
        pager = portal_pager(**values["pager"])
        invoices = values["invoices"](pager["offset"])
        request.session["my_invoices_history"] = [i["invoice"].id for i in invoices][:100]
        partner = self._ar_commercial_partner()
        values.update(
            {
                "invoices": invoices,
                "pager": pager,
                "search": search,
                "search_in": search_in,
                "searchbar_inputs": self._ar_invoice_searchbar_inputs(),
                "ar_pay_all_url": "/my/invoices/pay-all" if partner and not request.env.user._is_public() else False,
            }
        )
        return request.render("account.portal_my_invoices", values)

    # ------------------------------------------------------------------
    # Documents: UBL
    # ------------------------------------------------------------------

    @http.route(["/my/invoices/<int:invoice_id>/ubl"], type="http", auth="public", website=True, sitemap=False)
    def ar_portal_invoice_ubl(self, invoice_id, access_token=None, **kw):
        if request.env.user._is_public():
            self._ar_throttle("document")
        invoice_sudo = self._ar_invoice_sudo(invoice_id, access_token)
        # UBL stored when the invoice was sent, else generated in the buyer's e-invoicing format.
        # An invoice the builder refuses (errors, or an invalid tax it raises on) has no UBL to give:
        # 404 for everyone, like an invoice without e-invoicing format
        try:
            document = invoice_sudo._get_invoice_legal_documents("ubl", allow_fallback=True)
        except UserError as exc:
            _logger.info("UBL of invoice %s not available: %s", invoice_sudo.id, exc)
            raise NotFound() from exc
        if not document or not document.get("content") or document.get("errors"):
            raise NotFound()
        content = document["content"]
        return request.make_response(
            content,
            [
                ("Content-Type", "application/xml"),
                ("Content-Length", len(content)),
                ("Content-Disposition", http.content_disposition(document["filename"])),
            ],
        )

    # ------------------------------------------------------------------
    # One-click pay: never more than what is due
    # ------------------------------------------------------------------

    @http.route()
    def invoice_transaction(self, invoice_id, access_token, **kwargs):
        # EXTENDS 'account_payment': guests never pay with a saved card; the amount comes from the
        # client: cap it to the amount due
        self._ar_check_guest_payment(kwargs)
        invoice_sudo = request.env["account.move"].sudo().browse(invoice_id).exists()
        if invoice_sudo and kwargs.get("amount") is not None:
            amount = self._cast_as_float(kwargs["amount"]) or 0.0
            if amount <= 0 or invoice_sudo.currency_id.compare_amounts(amount, invoice_sudo.amount_residual) > 0:
                kwargs["amount"] = invoice_sudo.amount_residual
        return super().invoice_transaction(invoice_id, access_token, **kwargs)
