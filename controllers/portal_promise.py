"""Promise to pay, made by the buyer: logged in from the portal, as a guest from the signed pay-all link of
a reminder, or from the invoice's own link (one invoice, by its access token). ar_customer_centric owns
the portal and ar_dunning the promise; this glue sits in the umbrella so that neither depends on the
other. Who may act on which invoices is decided by the entries of portal_arrangement.py."""

from datetime import timedelta

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .portal_arrangement import ArSuitePortalArrangement


class ArSuitePortalPromise(ArSuitePortalArrangement):
    # ------------------------------------------------------------------
    # What the buyer may promise
    # ------------------------------------------------------------------

    def _ar_promise_candidates(self, partner, granted):
        """The granted invoices that can be promised now (overdue, undisputed, not promised)."""
        # sudo: the promise state of the buyer's invoices is the accountants'; the result is cut to ``granted``
        Promise = request.env["ar.dunning.promise"].sudo()
        candidates = Promise.env["account.move"]
        for company in granted.company_id:
            candidates |= Promise._ar_promisable_moves(partner, company)
        return candidates & granted

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        # EXTENDS 'account': "Promise a payment date" on an overdue invoice that can be promised
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values["ar_promise_url"] = self._ar_invoice_page_url(
            values, "promise", self._ar_promise_candidates, invoice, access_token
        )
        return values

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route(
        ["/my/invoices/promise"], type="http", auth="user", methods=["GET", "POST"], website=True, sitemap=False
    )
    def ar_portal_promise(self, **post):
        return self._ar_promise_page(
            self._ar_entry_user(),
            post,
            action_url="/my/invoices/promise",
            back_url="/my/invoices",
            done_url=lambda state: f"/my/invoices?ar_promise={state}",
        )

    @http.route(
        ["/my/pay-all/<string:token>/promise"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def ar_pay_all_promise(self, token, **post):
        return self._ar_promise_page(
            self._ar_entry_pay_all(token),
            post,
            action_url=f"/my/pay-all/{token}/promise",
            back_url=f"/my/pay-all/{token}",
            done_url=lambda state: f"/my/pay-all/{token}?ar_promise={state}",
        )

    @http.route(
        ["/my/invoices/<int:invoice_id>/promise"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def ar_invoice_promise(self, invoice_id, access_token=None, **post):
        """The invoice's own link (Odoo's invoice e-mail): promise a date for that invoice; back on its page."""
        entry = self._ar_entry_invoice(invoice_id, access_token)
        invoice = entry.granted
        return self._ar_promise_page(
            entry,
            post,
            action_url=f"/my/invoices/{invoice.id}/promise",
            back_url=invoice.get_portal_url(),
            done_url=lambda state: invoice.get_portal_url(query_string=f"&ar_promise={state}"),
        )

    def _ar_promise_page(self, entry, post, *, action_url, back_url, done_url):
        """The promise form (GET) and its submission (POST), for the invoices the ``entry`` grants."""
        is_post = request.httprequest.method == "POST"
        args = request.httprequest.form if is_post else request.httprequest.args
        partner, granted = entry.partner, entry.granted
        wanted = self._ar_wanted_ids(entry, args)
        candidates = self._ar_promise_candidates(partner, granted)
        selected = candidates.filtered(lambda m: m.id in wanted) if wanted else candidates
        # sudo: the buyer reads their policy's maximum to be told which dates are confirmed at once
        policy = partner.sudo()._ar_dunning_policy(candidates.company_id[:1] or request.env.company)
        today = fields.Date.context_today(request.env.user)
        max_date = today + timedelta(days=policy.promise_max_days if policy else 0)
        values = {
            "page_name": "ar_promise",
            "ar_partner": partner,
            "candidates": candidates,
            "selected": selected,
            "ar_single": entry.single,
            "ar_form_params": entry.form_params,
            "action_url": action_url,
            "back_url": back_url,
            "today": today,
            "max_date": max_date,
            "promise_date": post.get("promise_date") or "",
            "note": post.get("note") or "",
            "error": False,
        }
        if is_post:
            try:
                promise_date = fields.Date.to_date(post.get("promise_date") or None)
            except ValueError:
                promise_date = None
            try:
                if not promise_date:
                    raise UserError(request.env._("Choose the date by which you will pay."))
                # sudo: buyers and guests have no access to dunning records; the invoices were checked above
                # (record rules, the signed link or the invoice's token) and _ar_request checks them again,
                # with a lock
                promise = (
                    request.env["ar.dunning.promise"]
                    .sudo()
                    ._ar_request(
                        granted.filtered(lambda m: m.id in wanted),
                        promise_date,
                        note=post.get("note"),
                        source=entry.source,
                        requester=entry.user.partner_id or None,
                        user=entry.user or None,
                    )
                )
            except (UserError, ValidationError) as e:
                request.env.cr.rollback()
                values["error"] = e.args[0]
            else:
                return request.redirect(done_url("accepted" if promise.state == "open" else "requested"))
        if not request.env.user._is_public():
            values |= self._prepare_portal_layout_values()
            values["page_name"] = "ar_promise"
        return request.render("ar_suite.portal_promise_page", values)
