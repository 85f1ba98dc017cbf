import collections

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from .portal_access import ArPortalBase


class ArPortalPayAll(ArPortalBase):
    """Pay open invoices in one transaction: guests by signed link, buyers from /my/invoices.

    A pay-all link grants the open invoices of one partner in one company while it is valid,
    and hands out nothing that outlives it: no invoice access token, no saved card.
    """

    @http.route("/my/invoices/pay-all", type="http", auth="user", website=True, sitemap=False, readonly=True)
    def ar_portal_my_pay_all(self, **kw):
        """Logged-in buyers pay all their open invoices through the same page as guests."""
        partner = self._ar_commercial_partner()
        self._ar_check_buyer()
        # the company with the most open invoices of the buyer (record rules apply)
        groups = request.env["account.move"]._read_group(
            request.env["account.move"]._ar_open_invoices_domain(partner), ["company_id"], ["__count"]
        )
        company = max(groups, key=lambda g: g[1])[0] if groups else request.env.company
        return request.redirect(f"/my/pay-all/{partner._ar_get_pay_all_token(company=company)}")

    def _ar_pay_all_selection(self, open_invoices, requested_ids):
        """The selected invoices: only ids of open, undisputed invoices count; the rest is dropped.
        Without a selection: every open, undisputed invoice in the main currency."""
        candidates = open_invoices.filtered(lambda m: m.ar_dispute_state != "open")
        if requested_ids is not None:
            wanted = set()
            for raw in requested_ids:
                try:
                    wanted.add(int(raw))
                except (TypeError, ValueError):
                    continue
            return candidates.filtered(lambda m: m.id in wanted)
        if not candidates:
            return candidates
        groups = collections.Counter(m.currency_id for m in candidates)
        currency, _count = groups.most_common(1)[0]
        return candidates.filtered(lambda m: m.currency_id == currency)

    @http.route(["/my/pay-all/<string:token>"], type="http", auth="public", website=True, sitemap=False, readonly=True)
    def ar_pay_all(self, token, **kw):
        self._ar_throttle("pay_all")
        partner, company = self._ar_pay_all_access(token)
        open_invoices = self._ar_pay_all_open_invoices(partner, company)
        selected = self._ar_pay_all_selection(
            open_invoices, request.httprequest.args.getlist("invoice_ids") if "select" in kw else None
        )
        values = self._ar_pay_all_page_values(partner, token, open_invoices, selected)
        values["ar_dispute_sent"] = kw.get("ar_dispute") == "sent"
        return request.render("ar_customer_centric.portal_pay_all_page", values)

    def _ar_pay_all_page_values(self, partner, token, open_invoices, selected):
        values = {
            "page_name": "ar_pay_all",
            "ar_partner": partner,
            "ar_token": token,
            "open_invoices": open_invoices,
            # per invoice, what paying it now settles: its overdue instalments, not the ones to come
            "ar_pay_now": {inv.id: inv._ar_pay_now_values() for inv in open_invoices},
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
        amount = selected.currency_id.round(sum(values["ar_pay_now"][inv.id]["amount"] for inv in selected))
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
        partner, company = request.env["res.partner"]._ar_parse_pay_all_token(token)
        if not partner:
            raise ValidationError(request.env._("This payment link is invalid or has expired."))
        open_invoices = self._ar_pay_all_open_invoices(partner, company)
        invoices = self._ar_pay_all_selection(open_invoices, (selection or "").split("-"))
        if not invoices or len(invoices.currency_id) > 1 or len(invoices.company_id) > 1:
            raise ValidationError(
                request.env._("Select open, undisputed invoices of one company and one currency to pay.")
            )
        self._validate_transaction_kwargs(kwargs)
        self._ar_check_guest_payment(kwargs)
        # never trust the client's amount; an invoice in instalments pays the ones due, not the ones to come
        kwargs["amount"] = invoices.currency_id.round(sum(inv._ar_pay_now_values()["amount"] for inv in invoices))
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
    def ar_pay_all_open_invoice(self, token, invoice_id, dispute=None, report_type="pdf", **kw):
        """One open invoice of the link: its document, or its dispute form.

        Served under the link itself, so that nothing outlives the link's expiry or revocation
        (no invoice access token is minted; the document's pay QR code points back to the link).
        """
        self._ar_throttle("pay_all")
        partner, company = self._ar_pay_all_access(token)
        invoice = self._ar_pay_all_open_invoices(partner, company).filtered(lambda m: m.id == invoice_id)
        if not invoice:
            raise NotFound()
        if dispute:
            return request.redirect(f"/my/invoices/{invoice.id}/dispute?pay_all_token={token}")
        report = invoice.partner_id.invoice_template_pdf_report_id.report_name or "account.account_invoices"
        request.update_context(
            proforma_invoice=not invoice.invoice_pdf_report_id,
            ar_pay_all_url=f"{invoice.get_base_url()}/my/pay-all/{token}",
        )
        return self._show_report(
            model=invoice, report_type="html" if report_type == "html" else "pdf", report_ref=report, download=False
        )
