from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from .portal_access import ArPortalBase


class ArPortalStatements(ArPortalBase):
    """Consolidated statements of the buyer (list and PDF)."""

    def _prepare_home_portal_values(self, counters):
        # EXTENDS 'account'
        values = super()._prepare_home_portal_values(counters)
        if "ar_statement_count" in counters:
            values["ar_statement_count"] = (
                (self._ar_statements_sudo(self._ar_commercial_partner(), limit=1) and 1) or 0
                if "ar.customer.statement" in request.env
                else 0
            )
        return values

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

    @http.route(["/my/statements"], type="http", auth="user", website=True, readonly=True)
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
