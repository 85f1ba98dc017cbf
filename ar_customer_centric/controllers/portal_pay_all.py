import collections

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from .portal_access import ArPortalBase


class ArPortalPayAll(ArPortalBase):
    """Pay every open invoice in one transaction: guests by signed link, buyers from /my/invoices."""

    @http.route("/my/invoices/pay-all", type="http", auth="user", website=True, sitemap=False, readonly=True)
    def ar_portal_my_pay_all(self, **kw):
        """Logged-in buyers pay all their open invoices through the same page as guests."""
        partner = self._ar_commercial_partner()
        self._ar_check_buyer()
        return request.redirect(f"/my/pay-all/{partner._ar_get_pay_all_token()}")

    def _ar_pay_all_partner(self, token):
        partner = request.env["res.partner"]._ar_check_pay_all_token(token)
        if not partner:
            raise NotFound()
        return partner

    def _ar_pay_all_open_invoices(self, partner):
        # sudo: the signed pay-all token grants access to the partner's open invoices
        return (
            request.env["account.move"]
            .sudo()
            .search(
                request.env["account.move"]._ar_open_invoices_domain(partner),
                order="invoice_date_due, id",
            )
        )

    def _ar_pay_all_selection(self, open_invoices, requested_ids):
        """The selected invoices: only ids of open invoices count, everything else is dropped.
        Without a selection: every open, undisputed invoice of the main company/currency."""
        if requested_ids is not None:
            wanted = set()
            for raw in requested_ids:
                try:
                    wanted.add(int(raw))
                except (TypeError, ValueError):
                    continue
            return open_invoices.filtered(lambda m: m.id in wanted)
        candidates = open_invoices.filtered(lambda m: m.ar_dispute_state != "open")
        if not candidates:
            return candidates
        groups = collections.Counter((m.company_id, m.currency_id) for m in candidates)
        (company, currency), _count = groups.most_common(1)[0]
        return candidates.filtered(lambda m: m.company_id == company and m.currency_id == currency)

    @http.route(["/my/pay-all/<string:token>"], type="http", auth="public", website=True, sitemap=False, readonly=True)
    def ar_pay_all(self, token, **kw):
        self._ar_throttle("pay_all")
        partner = self._ar_pay_all_partner(token)
        open_invoices = self._ar_pay_all_open_invoices(partner)
        selected = self._ar_pay_all_selection(
            open_invoices, request.httprequest.args.getlist("invoice_ids") if "select" in kw else None
        )
        values = self._ar_pay_all_page_values(partner, token, open_invoices, selected)
        return request.render("ar_customer_centric.portal_pay_all_page", values)

    def _ar_pay_all_page_values(self, partner, token, open_invoices, selected):
        values = {
            "page_name": "ar_pay_all",
            "ar_partner": partner,
            "ar_token": token,
            "open_invoices": open_invoices,
            "selected": selected,
            "selection_error": False,
        }
        companies, currencies = selected.company_id, selected.currency_id
        if len(companies) > 1 or len(currencies) > 1:
            values["selection_error"] = request.env._(
                "Select invoices of one company and one currency to pay them together."
            )
            return values
        if not selected:
            return values
        amount = sum(selected.mapped("amount_residual"))
        selection = "-".join(str(i) for i in selected.ids)
        values |= {
            "amount": amount,
            "currency": currencies,
            "payment": {"amount": amount, "currency": currencies, "reference": False},
        }
        values |= self._get_common_page_view_values(
            invoices_data={
                "partner": partner,
                "company": companies,
                "total_amount": amount,
                "currency": currencies,
                "amount_residual": amount,
                "landing_route": f"/my/pay-all/{token}",
                "transaction_route": f"/my/pay-all/{token}/transaction/{selection}",
            },
        )
        return values

    @http.route(
        ["/my/pay-all/<string:token>/transaction/<string:selection>"], type="jsonrpc", auth="public", sitemap=False
    )
    def ar_pay_all_transaction(self, token, selection, **kwargs):
        """Create the transaction of the selected invoices; the amount is recomputed here."""
        self._ar_throttle("pay_all")
        partner = request.env["res.partner"]._ar_check_pay_all_token(token)
        if not partner:
            raise ValidationError(request.env._("This payment link is invalid or has expired."))
        open_invoices = self._ar_pay_all_open_invoices(partner)
        invoices = self._ar_pay_all_selection(open_invoices, (selection or "").split("-"))
        if not invoices or len(invoices.currency_id) > 1 or len(invoices.company_id) > 1:
            raise ValidationError(request.env._("Select open invoices of one company and one currency to pay."))
        self._validate_transaction_kwargs(kwargs)
        kwargs["amount"] = sum(invoices.mapped("amount_residual"))  # never trust the client's amount
        logged_in = not request.env.user._is_public()
        payer = request.env.user.partner_id if logged_in else partner
        return self._process_transaction(payer.id, invoices.currency_id.id, invoices.ids, False, **kwargs)

    @http.route(
        ["/my/pay-all/<string:token>/invoice/<int:invoice_id>"],
        type="http",
        auth="public",
        website=True,
        sitemap=False,
    )
    def ar_pay_all_open_invoice(self, token, invoice_id, dispute=None, **kw):
        """Open (or dispute) one invoice of the pay-all page: redirect with its access token."""
        self._ar_throttle("pay_all")
        partner = self._ar_pay_all_partner(token)
        # sudo: the signed pay-all token grants access to the partner's invoices
        invoice = request.env["account.move"].sudo().browse(invoice_id).exists()
        if (
            not invoice
            or invoice.commercial_partner_id != partner
            or invoice.state != "posted"
            or invoice.move_type != "out_invoice"
        ):
            raise NotFound()
        if dispute:
            return request.redirect(f"/my/invoices/{invoice.id}/dispute?access_token={invoice._portal_ensure_token()}")
        return request.redirect(invoice.get_portal_url())
