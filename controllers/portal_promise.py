"""Promise to pay, made by the buyer: logged in from the portal, or as a guest from the signed
pay-all link of a reminder. ar_customer_centric owns the portal and ar_dunning the promise; this
glue sits in the umbrella so that neither depends on the other."""

from datetime import timedelta

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.ar_customer_centric.controllers.portal_access import ArPortalBase


class ArSuitePortalPromise(ArPortalBase):
    # ------------------------------------------------------------------
    # What the buyer may promise
    # ------------------------------------------------------------------

    def _ar_promise_granted_user(self):
        """(commercial partner, open invoices) a logged-in buyer may act on: their own, in their companies."""
        self._ar_check_buyer()
        partner = self._ar_commercial_partner()
        Move = request.env["account.move"]
        # the user's own search first (record rules decide what they may see)...
        granted = Move.search(
            Move._ar_open_invoices_domain(partner) & Domain("company_id", "in", request.env.user.company_ids.ids)
        )
        # ...then sudo, only on those ids: the promise fields of the invoices are the accountants'
        return partner, granted.sudo()

    def _ar_promise_candidates(self, partner, granted):
        """The granted invoices that can be promised now (overdue, undisputed, not promised)."""
        # sudo: the promise state of the buyer's invoices is the accountants'; the result is cut to ``granted``
        Promise = request.env["ar.dunning.promise"].sudo()
        candidates = Promise.env["account.move"]
        for company in granted.company_id:
            candidates |= Promise._ar_promisable_moves(partner, company)
        return candidates & granted

    @staticmethod
    def _ar_requested_ids(raw_ids):
        ids = set()
        for raw in raw_ids:
            try:
                ids.add(int(raw))
            except (TypeError, ValueError):
                continue
        return ids

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route(
        ["/my/invoices/promise"], type="http", auth="user", methods=["GET", "POST"], website=True, sitemap=False
    )
    def ar_portal_promise(self, **post):
        partner, granted = self._ar_promise_granted_user()
        return self._ar_promise_page(
            partner,
            granted,
            post,
            source="portal",
            action_url="/my/invoices/promise",
            back_url="/my/invoices",
            done_url="/my/invoices?ar_promise=%s",
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
        self._ar_throttle("pay_all")
        partner, company = self._ar_pay_all_access(token)
        granted = self._ar_pay_all_open_invoices(partner, company)
        return self._ar_promise_page(
            partner,
            granted,
            post,
            source="portal" if not request.env.user._is_public() else "guest",
            action_url=f"/my/pay-all/{token}/promise",
            back_url=f"/my/pay-all/{token}",
            done_url=f"/my/pay-all/{token}?ar_promise=%s",
        )

    def _ar_promise_page(self, partner, granted, post, *, source, action_url, back_url, done_url):
        """The promise form (GET) and its submission (POST), for the invoices ``granted`` to the caller."""
        is_post = request.httprequest.method == "POST"
        args = request.httprequest.form if is_post else request.httprequest.args
        wanted = self._ar_requested_ids(args.getlist("invoice_ids"))
        if wanted - set(granted.ids):
            raise NotFound()  # an invoice of another customer, or a made-up id
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
            user = request.env.user
            try:
                if not promise_date:
                    raise UserError(request.env._("Choose the date by which you will pay."))
                # sudo: buyers and guests have no access to dunning records; the invoices were checked above
                # (record rules or the signed link) and _ar_request checks them again, with a lock
                promise = (
                    request.env["ar.dunning.promise"]
                    .sudo()
                    ._ar_request(
                        granted.filtered(lambda m: m.id in wanted),
                        promise_date,
                        note=post.get("note"),
                        source=source,
                        requester=user.partner_id if not user._is_public() else None,
                        user=user if not user._is_public() else None,
                    )
                )
            except (UserError, ValidationError) as e:
                request.env.cr.rollback()
                values["error"] = e.args[0]
            else:
                return request.redirect(done_url % ("accepted" if promise.state == "open" else "requested"))
        if not request.env.user._is_public():
            values |= self._prepare_portal_layout_values()
            values["page_name"] = "ar_promise"
        return request.render("ar_suite.portal_promise_page", values)
