from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .portal_access import ArPortalBase


class ArPortalAutopay(ArPortalBase):
    """Autopay with a saved payment method or a SEPA Direct Debit mandate (sign, choose, revoke)."""

    def _ar_own_mandates(self, partner, domain=()):
        """The mandates of the buyer's own commercial partner in the current company.

        Record rules keep portal users to theirs; the explicit filter also holds for internal
        users who use the portal as a customer's contact.
        """
        return request.env["ar.sepa.mandate"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", request.env.company.id), *domain]
        )

    def _ar_autopay_tokens(self, partner):
        # sudo: payment tokens are not readable by portal users; filtered on their partners
        return (
            request.env["payment.token"].sudo().search([("partner_id", "child_of", partner.id), ("active", "=", True)])
        )

    @http.route(["/my/autopay"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_autopay(self, **post):
        self._ar_check_buyer()
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
                mandate = self._ar_own_mandates(
                    partner, [("id", "=", int(choice[8:]) if choice[8:].isdigit() else 0), ("state", "=", "active")]
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
                "mandates": self._ar_own_mandates(partner),
                "error": error,
                "saved": bool(post.get("saved")),
            }
        )
        return request.render("ar_customer_centric.portal_my_autopay", values)

    @http.route(["/my/autopay/mandate"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_mandate_new(self, **post):
        self._ar_check_buyer()
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
        mandate = self._ar_own_mandates(self._ar_commercial_partner(), [("id", "=", mandate_id)])
        if not mandate:
            raise NotFound()
        # sudo: portal users read their mandates only; revoking one is their right
        mandate.sudo().action_revoke()
        mandate.sudo().message_post(
            body=request.env._("Revoked in the portal by %(user)s.", user=request.env.user.name)
        )
        return request.redirect("/my/autopay?saved=1")
