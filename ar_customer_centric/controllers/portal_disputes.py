from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .portal_access import ArPortalBase

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024


class ArPortalDisputes(ArPortalBase):
    """'This invoice is wrong': the dispute form (buyers and guests) and the buyer's list."""

    def _prepare_home_portal_values(self, counters):
        # EXTENDS 'account'
        values = super()._prepare_home_portal_values(counters)
        if "ar_dispute_count" in counters:
            partner = self._ar_commercial_partner()
            values["ar_dispute_count"] = (
                request.env["ar.dispute"].search_count([("partner_id", "=", partner.id)], limit=1)
                if request.env["ar.dispute"].has_access("read")
                else 0
            )
        return values

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
    def ar_portal_invoice_dispute(self, invoice_id, access_token=None, pay_all_token=None, **post):
        is_guest = request.env.user._is_public()
        if is_guest:
            self._ar_throttle("dispute")
        if pay_all_token:
            # from a pay-all link: one of the open invoices it grants, while it is valid
            partner, company = self._ar_pay_all_access(pay_all_token)
            invoice_sudo = self._ar_pay_all_open_invoices(partner, company).filtered(lambda m: m.id == invoice_id)
            if not invoice_sudo:
                raise NotFound()
            back_url = f"/my/pay-all/{pay_all_token}"
            done_url = f"{back_url}?ar_dispute=sent"
        else:
            invoice_sudo = self._ar_invoice_sudo(invoice_id, access_token)
            back_url = invoice_sudo.get_portal_url()
            done_url = invoice_sudo.get_portal_url(query_string="&ar_dispute=sent")
        if invoice_sudo.move_type != "out_invoice":
            raise NotFound()
        values = {
            "page_name": "ar_dispute",
            "invoice": invoice_sudo,
            "access_token": access_token,
            "pay_all_token": pay_all_token,
            "back_url": back_url,
            "reasons": self._ar_dispute_reasons(),
            "error": False,
            "reason": post.get("reason") or "",
            "message": post.get("message") or "",
        }
        if invoice_sudo.ar_dispute_state == "open":
            return request.redirect(back_url)
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
                return request.redirect(done_url)
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

    @http.route(["/my/disputes"], type="http", auth="user", website=True, readonly=True)
    def ar_portal_my_disputes(self, **kw):
        Dispute = request.env["ar.dispute"]
        if not Dispute.has_access("read"):
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update({"disputes": Dispute.search([]), "page_name": "ar_disputes"})
        return request.render("ar_customer_centric.portal_my_disputes", values)
