import collections
import threading
import time

from markupsafe import Markup
from werkzeug.exceptions import NotFound, TooManyRequests

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal as AccountPaymentPortal
from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import pager as portal_pager

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
PAYMENTS_PER_PAGE = 20


class _Throttle:
    """Sliding-window request counter per client address and bucket (per worker process).

    Guest endpoints (pay-all link, guest disputes, document downloads by token) are rate limited so
    that tokens cannot be brute-forced and the pages cannot be used to load the database.
    """

    def __init__(self):
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def hit(self, key, limit, window=60.0):
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle clients
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True

    def reset(self):
        with self._lock:
            self._hits.clear()


THROTTLE = _Throttle()


class ArCustomerPortal(PortalAccount, AccountPaymentPortal):
    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _ar_throttle(self, bucket):
        """Raise 429 when a client calls the guest endpoints too often."""
        # sudo: reading a configuration parameter
        limit = int(request.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.guest_rate_limit", 60))
        address = request.httprequest.remote_addr or "?"
        if not THROTTLE.hit((bucket, address), limit):
            raise TooManyRequests()

    def _ar_commercial_partner(self):
        return request.env.user.partner_id.commercial_partner_id

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
    # Home counters
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        # EXTENDS 'account'
        values = super()._prepare_home_portal_values(counters)
        partner = self._ar_commercial_partner()
        if "ar_payment_count" in counters:
            values["ar_payment_count"] = (
                # sudo: portal users have no access to payments; filtered on their commercial partner
                request.env["account.payment"].sudo().search_count(self._ar_payments_domain(partner), limit=1)
            )
        if "ar_dispute_count" in counters:
            values["ar_dispute_count"] = (
                request.env["ar.dispute"].search_count([("partner_id", "=", partner.id)], limit=1)
                if request.env["ar.dispute"].has_access("read")
                else 0
            )
        if "ar_statement_count" in counters:
            values["ar_statement_count"] = (
                (self._ar_statements_sudo(partner, limit=1) and 1) or 0 if "ar.customer.statement" in request.env else 0
            )
        return values

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

    @http.route("/my/invoices/pay-all", type="http", auth="user", website=True, sitemap=False)
    def ar_portal_my_pay_all(self, **kw):
        """Logged-in buyers pay all their open invoices through the same page as guests."""
        partner = self._ar_commercial_partner()
        if not request.env["account.move"].has_access("read"):
            raise NotFound()
        return request.redirect(f"/my/pay-all/{partner._ar_get_pay_all_token()}")

    # ------------------------------------------------------------------
    # Payments received
    # ------------------------------------------------------------------

    def _ar_payments_domain(self, partner):
        return Domain(
            [
                ("partner_id", "child_of", partner.id),
                ("partner_type", "=", "customer"),
                ("payment_type", "=", "inbound"),
                ("state", "in", ("in_process", "paid")),
            ]
        )

    @http.route(["/my/payments", "/my/payments/page/<int:page>"], type="http", auth="user", website=True)
    def ar_portal_my_payments(self, page=1, **kw):
        partner = self._ar_commercial_partner()
        if not request.env["account.move"].has_access("read"):
            raise NotFound()
        # sudo: portal users have no access rights on payments; the domain keeps them to their own
        Payment = request.env["account.payment"].sudo()
        domain = self._ar_payments_domain(partner)
        pager = portal_pager(url="/my/payments", total=Payment.search_count(domain), page=page, step=PAYMENTS_PER_PAGE)
        payments = Payment.search(domain, order="date desc, id desc", limit=PAYMENTS_PER_PAGE, offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update({"payments": payments, "pager": pager, "page_name": "ar_payments"})
        return request.render("ar_customer_centric.portal_my_payments", values)

    # ------------------------------------------------------------------
    # Statements (model of the delivery engineer; listed when installed)
    # ------------------------------------------------------------------

    def _ar_statements_sudo(self, partner, limit=None):
        # sudo: statements are filtered on the user's commercial partner
        return (
            request.env["ar.customer.statement"]
            .sudo()
            .search(
                [("partner_id", "=", partner.id), ("state", "!=", "draft"), ("state", "!=", "cancel")],
                order="date_to desc, id desc",
                limit=limit,
            )
        )

    @http.route(["/my/statements"], type="http", auth="user", website=True)
    def ar_portal_my_statements(self, **kw):
        if "ar.customer.statement" not in request.env:
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update(
            {"statements": self._ar_statements_sudo(self._ar_commercial_partner()), "page_name": "ar_statements"}
        )
        return request.render("ar_customer_centric.portal_my_statements", values)

    @http.route(["/my/statements/<int:statement_id>"], type="http", auth="public", website=True, sitemap=False)
    def ar_portal_statement(self, statement_id, access_token=None, report_type="pdf", download=False, **kw):
        """A statement's PDF, for its buyer or with its access token (as sent in e-mails)."""
        if "ar.customer.statement" not in request.env:
            raise NotFound()
        if request.env.user._is_public():
            self._ar_throttle("document")
        try:
            statement_sudo = self._document_check_access("ar.customer.statement", statement_id, access_token)
        except (AccessError, MissingError) as e:
            # portal users have no access right on statements: allow their own commercial partner's
            statement_sudo = request.env["ar.customer.statement"].sudo().browse(statement_id).exists()
            if (
                not statement_sudo
                or request.env.user._is_public()
                or statement_sudo.partner_id != self._ar_commercial_partner()
            ):
                raise NotFound() from e
        if statement_sudo.state in ("draft", "cancel"):
            raise NotFound()
        return self._show_report(
            model=statement_sudo,
            report_type=report_type if report_type in ("pdf", "html") else "pdf",
            report_ref="ar_customer_centric.ar_customer_statement_report",
            download=download,
        )

    # ------------------------------------------------------------------
    # Documents: UBL
    # ------------------------------------------------------------------

    @http.route(["/my/invoices/<int:invoice_id>/ubl"], type="http", auth="public", website=True, sitemap=False)
    def ar_portal_invoice_ubl(self, invoice_id, access_token=None, **kw):
        if request.env.user._is_public():
            self._ar_throttle("document")
        invoice_sudo = self._ar_invoice_sudo(invoice_id, access_token)
        # UBL stored when the invoice was sent, else generated in the buyer's e-invoicing format
        document = invoice_sudo._get_invoice_legal_documents("ubl", allow_fallback=True)
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
        # EXTENDS 'account_payment': the amount comes from the client; cap it to the amount due
        invoice_sudo = request.env["account.move"].sudo().browse(invoice_id).exists()
        if invoice_sudo and kwargs.get("amount") is not None:
            amount = self._cast_as_float(kwargs["amount"]) or 0.0
            if amount <= 0 or invoice_sudo.currency_id.compare_amounts(amount, invoice_sudo.amount_residual) > 0:
                kwargs["amount"] = invoice_sudo.amount_residual
        return super().invoice_transaction(invoice_id, access_token, **kwargs)

    # ------------------------------------------------------------------
    # Guest pay-all
    # ------------------------------------------------------------------

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

    @http.route(["/my/pay-all/<string:token>"], type="http", auth="public", website=True, sitemap=False)
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

    # ------------------------------------------------------------------
    # Disputes
    # ------------------------------------------------------------------

    def _ar_dispute_reasons(self):
        return request.env["ar.dispute"]._fields["reason"]._description_selection(request.env)

    @http.route(
        ["/my/invoices/<int:invoice_id>/dispute"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def ar_portal_invoice_dispute(self, invoice_id, access_token=None, **post):
        is_guest = request.env.user._is_public()
        if is_guest:
            self._ar_throttle("dispute")
        invoice_sudo = self._ar_invoice_sudo(invoice_id, access_token)
        if invoice_sudo.move_type != "out_invoice":
            raise NotFound()
        values = {
            "page_name": "ar_dispute",
            "invoice": invoice_sudo,
            "access_token": access_token,
            "reasons": self._ar_dispute_reasons(),
            "error": False,
            "reason": post.get("reason") or "",
            "message": post.get("message") or "",
        }
        if invoice_sudo.ar_dispute_state == "open":
            return request.redirect(invoice_sudo.get_portal_url())
        if request.httprequest.method == "POST":
            files = request.httprequest.files.getlist("attachments")
            try:
                attachments = self._ar_dispute_attachments(invoice_sudo, files)
                author = request.env.user.partner_id if not is_guest else invoice_sudo.partner_id
                # sudo: the access to the invoice was checked above (record rules or access token)
                request.env["ar.dispute"].sudo()._ar_log_dispute(
                    invoice_sudo, post.get("reason"), post.get("message"), author, attachments=attachments
                )
            except (UserError, ValidationError) as e:
                request.env.cr.rollback()
                values["error"] = e.args[0]
            else:
                return request.redirect(invoice_sudo.get_portal_url(query_string="&ar_dispute=sent"))
        values |= self._prepare_portal_layout_values() if not is_guest else {}
        values["page_name"] = "ar_dispute"
        return request.render("ar_customer_centric.portal_invoice_dispute", values)

    def _ar_dispute_attachments(self, invoice_sudo, files):
        files = [f for f in files if f and f.filename]
        if len(files) > MAX_ATTACHMENTS:
            raise UserError(request.env._("Attach at most %(count)s files to a dispute.", count=MAX_ATTACHMENTS))
        vals_list = []
        for file in files:
            content = file.read()
            if len(content) > MAX_ATTACHMENT_SIZE:
                raise UserError(
                    request.env._(
                        "The file %(name)s is larger than %(size)s MB: attach a smaller file.",
                        name=file.filename,
                        size=MAX_ATTACHMENT_SIZE // (1024 * 1024),
                    )
                )
            vals_list.append(
                {
                    "name": file.filename,
                    "raw": content,
                    "res_model": "account.move",
                    "res_id": invoice_sudo.id,
                }
            )
        # sudo: buyers (possibly guests) attach documents to the invoice they may access
        return request.env["ir.attachment"].sudo().create(vals_list)

    @http.route(["/my/disputes"], type="http", auth="user", website=True)
    def ar_portal_my_disputes(self, **kw):
        Dispute = request.env["ar.dispute"]
        if not Dispute.has_access("read"):
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update({"disputes": Dispute.search([]), "page_name": "ar_disputes"})
        return request.render("ar_customer_centric.portal_my_disputes", values)

    # ------------------------------------------------------------------
    # Autopay and SEPA Direct Debit mandates
    # ------------------------------------------------------------------

    def _ar_autopay_tokens(self, partner):
        # sudo: payment tokens are not readable by portal users; filtered on their partners
        return (
            request.env["payment.token"].sudo().search([("partner_id", "child_of", partner.id), ("active", "=", True)])
        )

    @http.route(["/my/autopay"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_autopay(self, **post):
        if not request.env["account.move"].has_access("read"):
            raise NotFound()
        partner = self._ar_commercial_partner()
        # sudo: buyers manage the autopay settings of their own commercial partner
        partner_sudo = partner.sudo()
        tokens = self._ar_autopay_tokens(partner)
        error = False
        if request.httprequest.method == "POST":
            choice = post.get("autopay_method") or "off"
            if choice == "off":
                partner_sudo.write({"ar_autopay": False, "ar_autopay_token_id": False})
                partner_sudo.message_post(body=request.env._("Autopay turned off from the portal."))
            elif choice.startswith("token-"):
                token = tokens.filtered(lambda t: str(t.id) == choice[6:])
                if not token:
                    raise NotFound()
                partner_sudo.write(
                    {"ar_autopay": True, "ar_autopay_token_id": token.id, "ar_autopay_mandate_id": False}
                )
                partner_sudo.message_post(
                    body=request.env._("Autopay turned on from the portal with %(token)s.", token=token.display_name)
                )
            elif choice.startswith("mandate-"):
                mandate = request.env["ar.sepa.mandate"].search(
                    [("id", "=", int(choice[8:]) if choice[8:].isdigit() else 0), ("state", "=", "active")]
                )
                if not mandate:
                    raise NotFound()
                partner_sudo.write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
                partner_sudo.message_post(
                    body=request.env._("Autopay turned on from the portal with mandate %(umr)s.", umr=mandate.name)
                )
            return request.redirect("/my/autopay?saved=1")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ar_autopay",
                "ar_partner": partner_sudo,
                "tokens": tokens,
                "mandates": request.env["ar.sepa.mandate"].search([]),
                "error": error,
                "saved": bool(post.get("saved")),
            }
        )
        return request.render("ar_customer_centric.portal_my_autopay", values)

    @http.route(["/my/autopay/mandate"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_mandate_new(self, **post):
        if not request.env["account.move"].has_access("read"):
            raise NotFound()
        partner = self._ar_commercial_partner()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ar_autopay",
                "ar_partner": partner,
                "error": False,
                "post": post,
                "company": request.env.company,
            }
        )
        if request.httprequest.method == "POST":
            try:
                if not post.get("consent"):
                    raise UserError(request.env._("Tick the consent box to authorise the direct debits."))
                if post.get("scheme") not in ("CORE", "B2B"):
                    raise UserError(request.env._("Choose the scheme of the mandate: CORE or B2B."))
                if not (post.get("account_holder") or "").strip():
                    raise UserError(request.env._("Enter the name of the account holder."))
                # sudo: portal users cannot create mandates; they sign one for their own company
                mandate = (
                    request.env["ar.sepa.mandate"]
                    .sudo()
                    .create(
                        {
                            "partner_id": partner.id,
                            "company_id": request.env.company.id,
                            "iban": (post.get("iban") or "").strip(),
                            "bic": (post.get("bic") or "").strip() or False,
                            "account_holder": post["account_holder"].strip(),
                            "scheme": post["scheme"],
                            "signature_date": fields.Date.context_today(partner),
                            "consent": True,
                            "consent_details": request.env._(
                                "Signed in the portal by %(user)s from %(ip)s on %(date)s",
                                user=request.env.user.name,
                                ip=request.httprequest.remote_addr or "?",
                                date=fields.Datetime.now(),
                            ),
                        }
                    )
                )
                mandate.action_activate()
                # sudo: buyers manage the autopay settings of their own commercial partner
                partner.sudo().write(
                    {"ar_autopay": True, "ar_autopay_mandate_id": mandate.id, "ar_autopay_token_id": False}
                )
                mandate.message_post(body=request.env._("Mandate signed in the portal."))
            except (UserError, ValidationError) as e:
                request.env.cr.rollback()
                values["error"] = e.args[0]
            else:
                return request.redirect("/my/autopay?saved=1")
        return request.render("ar_customer_centric.portal_mandate_form", values)

    @http.route(
        ["/my/autopay/mandate/<int:mandate_id>/revoke"], type="http", auth="user", website=True, methods=["POST"]
    )
    def ar_portal_mandate_revoke(self, mandate_id, **post):
        mandate = request.env["ar.sepa.mandate"].search([("id", "=", mandate_id)])
        if not mandate:
            raise NotFound()
        # sudo: portal users read their mandates only; revoking one is their right
        mandate.sudo().action_revoke()
        mandate.sudo().message_post(
            body=request.env._("Revoked in the portal by %(user)s.", user=request.env.user.name)
        )
        return request.redirect("/my/autopay?saved=1")

    # ------------------------------------------------------------------
    # Buyer preferences (fields chosen by the delivery engineer)
    # ------------------------------------------------------------------

    def _ar_preference_fields(self):
        Partner = request.env["res.partner"]
        if not hasattr(Partner, "_ar_portal_preference_fields"):
            return []
        return [f for f in Partner._ar_portal_preference_fields() if f in Partner._fields]

    def _ar_preference_field_options(self, partner_sudo, field):
        if field.type == "selection":
            if field.name == "invoice_sending_method" and hasattr(partner_sudo, "_ar_portal_sending_methods"):
                allowed = partner_sudo._ar_portal_sending_methods()
                return [(k, v) for k, v in field._description_selection(request.env) if k in allowed]
            if field.name == "lang":
                return request.env["res.lang"].get_installed()
            return field._description_selection(request.env)
        if field.type == "many2many" and field.comodel_name == "res.partner":
            return [(c.id, c.display_name) for c in partner_sudo.child_ids if c.type != "private"]
        return []

    @http.route(["/my/preferences"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_preferences(self, **post):
        partner = self._ar_commercial_partner()
        # sudo: buyers change the whitelisted preference fields of their own commercial partner
        partner_sudo = partner.sudo()
        names = self._ar_preference_fields()
        fields_ = [partner_sudo._fields[n] for n in names]
        error = False
        if request.httprequest.method == "POST" and fields_:
            vals = {}
            for field in fields_:
                try:
                    value = self._ar_preference_posted_value(partner_sudo, field, post)
                except ValueError:
                    error = request.env._("%(field)s must be a number.", field=field._description_string(request.env))
                    break
                if value is not None:
                    vals[field.name] = value
            if not error and vals:
                old = {n: self._ar_preference_display(partner_sudo, n) for n in vals}
                try:
                    partner_sudo.write(vals)
                except (UserError, ValidationError) as e:
                    request.env.cr.rollback()
                    error = e.args[0]
                else:
                    lines = [
                        request.env._(
                            "%(field)s: %(old)s → %(new)s",
                            field=partner_sudo._fields[n]._description_string(request.env),
                            old=old[n],
                            new=self._ar_preference_display(partner_sudo, n),
                        )
                        for n in vals
                    ]
                    partner_sudo.message_post(
                        body=Markup("<p>%s</p><ul>%s</ul>")
                        % (
                            request.env._("Preferences changed in the portal by %(user)s:", user=request.env.user.name),
                            Markup().join(Markup("<li>%s</li>") % line for line in lines),
                        ),
                        author_id=request.env.user.partner_id.id,
                    )
                    return request.redirect("/my/preferences?saved=1")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ar_preferences",
                "ar_partner": partner_sudo,
                "pref_fields": [
                    (f, self._ar_preference_field_options(partner_sudo, f), f._description_string(request.env))
                    for f in fields_
                ],
                "error": error,
                "saved": bool(post.get("saved")),
            }
        )
        return request.render("ar_customer_centric.portal_my_preferences", values)

    def _ar_preference_posted_value(self, partner_sudo, field, post):
        """The write value of a posted preference field, or None when unchanged or not allowed."""
        current = partner_sudo[field.name]
        if field.type == "many2many":
            allowed = {opt[0] for opt in self._ar_preference_field_options(partner_sudo, field)}
            raw = request.httprequest.form.getlist(field.name)
            ids = sorted({int(v) for v in raw if v.isdigit() and int(v) in allowed})
            return None if sorted(current.ids) == ids else [fields.Command.set(ids)]
        if field.type == "boolean":
            value = bool(post.get(field.name))
        elif field.type == "integer":
            value = int(post.get(field.name) or 0)
        elif field.type == "selection":
            value = post.get(field.name) or False
            allowed = {k for k, _v in self._ar_preference_field_options(partner_sudo, field)}
            if value and value not in allowed:
                return None
        else:
            value = post.get(field.name) or False
        return None if current == value else value

    def _ar_preference_display(self, partner, name):
        field = partner._fields[name]
        value = partner[name]
        if field.type == "selection":
            return dict(self._ar_preference_field_options(partner, field)).get(value) or "-"
        if field.type in ("many2many", "one2many", "many2one"):
            return ", ".join(value.mapped("display_name")) or "-"
        if field.type == "boolean":
            return request.env._("Yes") if value else request.env._("No")
        return str(value) if value not in (False, None) else "-"
