"""Payment plans, proposed and followed by the buyer (issue 16, slice 2): logged in from the portal,
as a guest from the signed pay-all link of a reminder, or from the invoice's own link (one invoice, by its
access token; no autopay there). ar_dunning owns the plan and its schedule,
ar_customer_centric the portal; this glue sits in the umbrella, as the promise to pay does.

Amounts are the server's: the schedule comes from ``ar.dunning.plan._ar_plan_preview`` and
``_ar_propose``, an instalment is paid for what it still owes; the client only chooses invoices
among the ones it was granted, the count, the frequency and the first date.
"""

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request

from .portal_promise import ArSuitePortalPromise

FREQUENCIES = ("weekly", "biweekly", "monthly")
DEFAULT_COUNT = 3
MAX_COUNT = 120  # a sanity bound on what we parse; the policy's limits are the model's


class ArSuitePortalPlan(ArSuitePortalPromise):
    # ------------------------------------------------------------------
    # Access: the buyer's own plans and invoices only
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        # EXTENDS 'account'
        values = super()._prepare_home_portal_values(counters)
        if "ar_plan_count" in counters:
            values["ar_plan_count"] = (
                # sudo: buyers have no access to dunning records; the domain keeps them to their own
                request.env["ar.dunning.plan"].sudo().search_count(self._ar_plan_domain_user(), limit=1)
                if request.env["account.move"].has_access("read")
                else 0
            )
        return values

    def _ar_plan_domain_user(self):
        """The plans a logged-in buyer may see: their commercial partner's, in their companies."""
        return (
            Domain("partner_id", "=", self._ar_commercial_partner().id)
            & Domain("company_id", "in", request.env.user.company_ids.ids)
            & Domain("state", "!=", "cancelled")
        )

    def _ar_plan_user(self, plan_id):
        """The logged-in buyer's plan ``plan_id`` (sudo), or 404."""
        self._ar_check_buyer()
        # sudo: buyers have no access to dunning records; the domain keeps them to their own
        plan = request.env["ar.dunning.plan"].sudo().search(self._ar_plan_domain_user() & Domain("id", "=", plan_id))
        if not plan:
            raise NotFound()
        return plan

    def _ar_plan_link(self, token, plan_id):
        """(partner, company, plan) of a valid pay-all link and one of its partner's plans, or 404."""
        partner, company = self._ar_pay_all_access(token)
        # sudo: the signed pay-all link grants its partner's plans in its company, nothing else
        plan = (
            request.env["ar.dunning.plan"]
            .sudo()
            .search(
                Domain("id", "=", plan_id)
                & Domain("partner_id", "=", partner.id)
                & Domain("company_id", "=", company.id)
                & Domain("state", "!=", "cancelled")
            )
        )
        if not plan:
            raise NotFound()
        return partner, company, plan

    def _ar_plan_candidates(self, partner, granted):
        """The granted invoices a plan may cover now (the model decides which; cut to ``granted``)."""
        # sudo: the plan state of the buyer's invoices is the accountants'; the result is cut to ``granted``
        Plan = request.env["ar.dunning.plan"].sudo()
        candidates = Plan.env["account.move"]
        for company in granted.company_id:
            candidates |= Plan._ar_plan_candidates(partner, company)
        return candidates & granted

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        # EXTENDS 'account': "Pay in instalments" on an overdue invoice a plan may cover
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values["ar_plan_url"] = self._ar_invoice_page_url(
            values, "plan", self._ar_plan_candidates, invoice, access_token
        )
        return values

    def _ar_pay_all_page_values(self, partner, token, open_invoices, selected):
        # EXTENDS 'ar_customer_centric': the link's page lists its partner's current plans
        values = super()._ar_pay_all_page_values(partner, token, open_invoices, selected)
        _partner, company = request.env["res.partner"]._ar_parse_pay_all_token(token)
        # sudo: the signed pay-all link grants its partner's plans in its company, nothing else
        values["ar_plans"] = (
            request.env["ar.dunning.plan"]
            .sudo()
            .search(
                Domain("partner_id", "=", partner.id)
                & Domain("company_id", "=", company.id)
                & Domain("state", "in", ("proposed", "active", "late"))
            )
            if company
            else request.env["ar.dunning.plan"]
        )
        return values

    # ------------------------------------------------------------------
    # Propose a plan
    # ------------------------------------------------------------------

    @http.route(["/my/invoices/plan"], type="http", auth="user", methods=["GET", "POST"], website=True, sitemap=False)
    def ar_portal_plan(self, **post):
        return self._ar_plan_form(
            self._ar_entry_user(),
            post,
            action_url="/my/invoices/plan",
            back_url="/my/invoices",
            done_url=lambda plan, state: f"/my/plans/{plan.id}?ar_plan={state}",
        )

    @http.route(
        ["/my/pay-all/<string:token>/plan"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def ar_pay_all_plan(self, token, **post):
        return self._ar_plan_form(
            self._ar_entry_pay_all(token),
            post,
            action_url=f"/my/pay-all/{token}/plan",
            back_url=f"/my/pay-all/{token}",
            done_url=lambda plan, state: f"/my/pay-all/{token}/plans/{plan.id}?ar_plan={state}",
        )

    @http.route(
        ["/my/invoices/<int:invoice_id>/plan"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def ar_invoice_plan(self, invoice_id, access_token=None, **post):
        """The invoice's own link (Odoo's invoice e-mail): pay that invoice in instalments. The link grants
        that invoice and no plan page: after the proposal, the invoice's page says what became of it."""
        entry = self._ar_entry_invoice(invoice_id, access_token)
        invoice = entry.granted
        return self._ar_plan_form(
            entry,
            post,
            action_url=f"/my/invoices/{invoice.id}/plan",
            back_url=invoice.get_portal_url(),
            done_url=lambda plan, state: invoice.get_portal_url(query_string=f"&ar_plan={state}"),
        )

    @staticmethod
    def _ar_plan_params(args, today):
        """(count, frequency, first date) as typed, or the defaults; never an exception."""
        try:
            count = int(args.get("instalment_count") or DEFAULT_COUNT)
        except (TypeError, ValueError):
            count = DEFAULT_COUNT
        count = min(max(count, 0), MAX_COUNT)
        frequency = args.get("frequency") if args.get("frequency") in FREQUENCIES else "monthly"
        try:
            first_date = fields.Date.to_date(args.get("first_date") or None) or today
        except ValueError:
            first_date = today
        return count, frequency, first_date

    def _ar_plan_mandate_refusal(self, entry, preview):
        """Why the entry cannot propose this plan: it needs the customer's mandate or saved card, which the
        invoice's own link never uses (links get forwarded); None when it can."""
        if entry.autopay or not preview or not preview.get("require_mandate"):
            return None
        return request.env._(
            "This payment plan is collected by direct debit or from a saved card. To propose it, please log in "
            "to your customer portal or use the link in our payment reminder."
        )

    def _ar_plan_form(self, entry, post, *, action_url, back_url, done_url):
        """The plan form with its schedule (GET) and the proposal (POST), for the invoices the ``entry`` grants."""
        is_post = request.httprequest.method == "POST"
        args = request.httprequest.form if is_post else request.httprequest.args
        partner, granted = entry.partner, entry.granted
        wanted = self._ar_wanted_ids(entry, args)
        candidates = self._ar_plan_candidates(partner, granted)
        today = fields.Date.context_today(request.env.user)
        if wanted:
            selected = candidates.filtered(lambda m: m.id in wanted)
        else:  # the overdue invoices first: those are what the reminders are about
            overdue = candidates.filtered(lambda m: m.invoice_date_due and m.invoice_date_due < today)
            selected = overdue or candidates
        company = candidates.company_id[:1] or granted.company_id[:1] or request.env.company
        count, frequency, first_date = self._ar_plan_params(args, today)
        note = post.get("note") or ""
        # sudo: whether the buyer's own autopay (mandate or saved card) can collect the instalments; never
        # looked at for the invoice's own link
        can_autopay = entry.autopay and request.env["ar.dunning.plan"].sudo()._ar_plan_has_mandate(partner, company)
        values = {
            "page_name": "ar_plan_new",
            "ar_partner": partner,
            "candidates": candidates,
            "selected": selected,
            "ar_single": entry.single,
            "ar_form_params": entry.form_params,
            "action_url": action_url,
            "back_url": back_url,
            "today": today,
            "instalment_count": count,
            "frequency": frequency,
            "frequencies": request.env["ar.dunning.plan"]._fields["frequency"]._description_selection(request.env),
            "first_date": first_date,
            "note": note,
            "can_autopay": can_autopay,
            "collect": can_autopay and bool(args.get("collect")),
            "preview": False,
            "error": False,
        }
        if is_post:
            moves = granted.filtered(lambda m: m.id in wanted)
            collect_mode = "autopay" if values["collect"] else "manual"
            try:
                if not wanted:
                    raise UserError(request.env._("Select the invoices you want to pay in instalments."))
                if not entry.autopay:
                    # sudo: the policy's rule for the granted invoice, to refuse what needs the customer's mandate
                    refusal = self._ar_plan_mandate_refusal(
                        entry,
                        request.env["ar.dunning.plan"]
                        .sudo()
                        ._ar_plan_preview(moves, count, frequency, first_date, collect_mode=collect_mode),
                    )
                    if refusal:
                        raise UserError(refusal)
                # sudo: buyers and guests have no access to dunning records; the invoices were checked
                # above (record rules, the signed link or the invoice's token) and _ar_propose checks them again
                plan = (
                    request.env["ar.dunning.plan"]
                    .sudo()
                    ._ar_propose(
                        moves,
                        count,
                        frequency,
                        first_date,
                        note=note or None,
                        source=entry.source,
                        requester=entry.user.partner_id or None,
                        user=entry.user or None,
                        collect_mode=collect_mode,
                    )
                )
            except (UserError, ValidationError) as e:
                request.env.cr.rollback()
                values["error"] = e.args[0]
            else:
                return request.redirect(done_url(plan, "accepted" if plan.state == "active" else "proposed"))
        if selected:
            try:
                # sudo: the policy's limits and the schedule of the buyer's own (granted) invoices
                values["preview"] = (
                    request.env["ar.dunning.plan"]
                    .sudo()
                    ._ar_plan_preview(
                        selected,
                        count,
                        frequency,
                        first_date,
                        collect_mode="autopay" if values["collect"] else "manual",
                    )
                )
            except (UserError, ValidationError) as e:
                values["error"] = values["error"] or e.args[0]
            refusal = self._ar_plan_mandate_refusal(entry, values["preview"])
            if refusal:
                values["preview"] |= {"decision": "refuse", "reasons": [refusal], "login_required": True}
        if not request.env.user._is_public():
            values |= self._prepare_portal_layout_values()
            values["page_name"] = "ar_plan_new"
        return request.render("ar_suite.portal_plan_form", values)

    # ------------------------------------------------------------------
    # Follow a plan and pay its next instalment
    # ------------------------------------------------------------------

    @http.route(["/my/plans"], type="http", auth="user", website=True, sitemap=False, readonly=True)
    def ar_portal_my_plans(self, **kw):
        self._ar_check_buyer()
        # sudo: buyers have no access to dunning records; the domain keeps them to their own
        plans = (
            request.env["ar.dunning.plan"].sudo().search(self._ar_plan_domain_user(), order="create_date desc, id desc")
        )
        values = self._prepare_portal_layout_values()
        values.update({"plans": plans, "page_name": "ar_plans", "plan_url": "/my/plans/%s"})
        return request.render("ar_suite.portal_my_plans", values)

    @http.route(["/my/plans/<int:plan_id>"], type="http", auth="user", website=True, sitemap=False, readonly=True)
    def ar_portal_plan_page(self, plan_id, **kw):
        plan = self._ar_plan_user(plan_id)
        values = self._ar_plan_page_values(
            plan,
            landing_route=f"/my/plans/{plan.id}",
            transaction_route=f"/my/plans/{plan.id}/transaction",
            invoice_url=lambda move: move.access_url,  # the buyer reads them by record rules: no token
        )
        values |= self._prepare_portal_layout_values()
        values["page_name"] = "ar_plan"
        return request.render("ar_suite.portal_plan_page", values)

    @http.route(
        ["/my/pay-all/<string:token>/plans/<int:plan_id>"],
        type="http",
        auth="public",
        website=True,
        sitemap=False,
        readonly=True,
    )
    def ar_pay_all_plan_page(self, token, plan_id, **kw):
        self._ar_throttle("pay_all")
        _partner, _company, plan = self._ar_plan_link(token, plan_id)
        values = self._ar_plan_page_values(
            plan,
            landing_route=f"/my/pay-all/{token}/plans/{plan.id}",
            transaction_route=f"/my/pay-all/{token}/plans/{plan.id}/transaction",
            # the link's own view of an open invoice; a paid one is no longer granted by the link
            invoice_url=lambda move: f"/my/pay-all/{token}/invoice/{move.id}" if move.amount_residual else False,
        )
        values |= {"ar_token": token, "back_url": f"/my/pay-all/{token}"}
        return request.render("ar_suite.portal_plan_page", values)

    @staticmethod
    def _ar_plan_next(plan):
        """(instalment, amount) the buyer pays now: the first instalment still owing, for what it still owes."""
        if plan.state not in ("active", "late"):
            return plan.instalment_ids.browse(), 0.0
        for instalment in plan.instalment_ids.sorted("number"):
            if instalment.amount_residual > 0:
                return instalment, instalment.amount_residual
        return plan.instalment_ids.browse(), 0.0

    def _ar_plan_page_values(self, plan, *, landing_route, transaction_route, invoice_url):
        instalment, amount = self._ar_plan_next(plan)
        values = {
            "plan": plan,
            "plan_values": plan._ar_portal_values(),
            "next_instalment": instalment,
            "invoice_url": invoice_url,
            "ar_plan_message": request.params.get("ar_plan"),
            "payment": False,
        }
        if instalment and amount:
            values |= {"payment": {"amount": amount, "currency": plan.currency_id}, "amount": amount}
            values |= self._get_common_page_view_values(
                invoices_data={
                    "partner": plan.partner_id,
                    "company": plan.company_id,
                    "total_amount": amount,
                    "currency": plan.currency_id,
                    "amount_residual": amount,
                    "landing_route": landing_route,
                    "transaction_route": transaction_route,
                },
            )
        return values

    @http.route(["/my/plans/<int:plan_id>/transaction"], type="jsonrpc", auth="user", sitemap=False)
    def ar_portal_plan_transaction(self, plan_id, **kwargs):
        self._ar_check_buyer()
        # sudo: buyers have no access to dunning records; the domain keeps them to their own
        plan = request.env["ar.dunning.plan"].sudo().search(self._ar_plan_domain_user() & Domain("id", "=", plan_id))
        return self._ar_plan_transaction(plan, kwargs)

    @http.route(
        ["/my/pay-all/<string:token>/plans/<int:plan_id>/transaction"], type="jsonrpc", auth="public", sitemap=False
    )
    def ar_pay_all_plan_transaction(self, token, plan_id, **kwargs):
        self._ar_throttle("pay_all")
        partner, company = request.env["res.partner"]._ar_parse_pay_all_token(token)
        if not partner:
            raise ValidationError(request.env._("This payment link is invalid or has expired."))
        # sudo: the signed pay-all link grants its partner's plans in its company, nothing else
        plan = (
            request.env["ar.dunning.plan"]
            .sudo()
            .search(
                Domain("id", "=", plan_id)
                & Domain("partner_id", "=", partner.id)
                & Domain("company_id", "=", company.id)
            )
        )
        return self._ar_plan_transaction(plan, kwargs)

    def _ar_plan_transaction(self, plan, kwargs):
        """Create the transaction of the plan's next instalment: Odoo's payment flow, our amount.

        The payment goes to the plan's invoices; Odoo reconciles it with their due lines in the order of
        their due dates, so it settles the instalment's lines first.
        """
        instalment, amount = self._ar_plan_next(plan) if plan else (None, 0.0)
        if not instalment or not amount:
            raise ValidationError(request.env._("There is no instalment to pay on this plan."))
        invoices = instalment.line_ids.move_id.filtered(lambda m: m.state == "posted") or plan.move_ids
        # the payment form also sends these two; the link or the session authenticates, the reference is Odoo's
        kwargs.pop("access_token", None)
        kwargs.pop("payment_reference", None)
        self._validate_transaction_kwargs(kwargs)
        self._ar_check_guest_payment(kwargs)
        kwargs["amount"] = amount  # never trust the client's amount
        logged_in = not request.env.user._is_public()
        payer = request.env.user.partner_id if logged_in else plan.partner_id
        return self._process_transaction(payer.id, plan.currency_id.id, invoices.ids, False, **kwargs)
