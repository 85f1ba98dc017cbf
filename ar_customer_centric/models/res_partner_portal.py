import secrets
import time
from urllib.parse import quote

from odoo import api, fields, models
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

PAY_ALL_SCOPE = "ar_customer_centric.pay_all"
# Fields whose change revokes every pay-all link of the partner: who the link pays for and
# where it was sent.
PAY_ALL_REVOKING_FIELDS = ("parent_id", "is_company", "vat", "email", "company_registry")


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_pay_all_secret = fields.Char(
        string="Pay-all Link Secret",
        copy=False,
        groups="base.group_system",
        help="Technical: per-partner secret mixed into the signature of guest pay-all links. "
        "Changing it revokes every link sent so far.",
    )
    ar_autopay = fields.Boolean(
        string="Autopay",
        company_dependent=True,
        copy=False,
        help="The buyer opted into automatic payment of invoices on their due date, with a "
        "saved payment method or a SEPA Direct Debit mandate.",
    )
    ar_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Autopay Payment Method",
        company_dependent=True,
        copy=False,
        help="Saved payment method charged on the due date when autopay is on.",
    )
    ar_autopay_mandate_id = fields.Many2one(
        "ar.sepa.mandate",
        string="Autopay Mandate",
        company_dependent=True,
        copy=False,
        help="SEPA Direct Debit mandate collected on the due date when autopay is on.",
    )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        # EXTENDS 'base'
        if any(f in vals for f in PAY_ALL_REVOKING_FIELDS):
            self._ar_revoke_pay_all_links()
        return super().write(vals)

    # ------------------------------------------------------------------
    # Guest pay-all links
    # ------------------------------------------------------------------

    def _ar_revoke_pay_all_links(self):
        """Rotate the secret of the commercial partners: every pay-all link sent is void."""
        partners = (self | self.commercial_partner_id).filtered("id")
        # sudo: the secret is a system-only field; rotating it only ever revokes access
        for partner in partners.sudo():
            if partner.ar_pay_all_secret:
                partner.ar_pay_all_secret = secrets.token_hex(16)

    def _ar_pay_all_signature(self, expiry, company):
        self.ensure_one()
        # sudo: reading the system-only per-partner secret and database.secret to sign
        partner_sudo = self.sudo()
        if not partner_sudo.ar_pay_all_secret:
            partner_sudo.ar_pay_all_secret = secrets.token_hex(16)
        return odoo_hmac(
            self.env(su=True),
            PAY_ALL_SCOPE,
            (self.id, company.id, int(expiry), partner_sudo.ar_pay_all_secret),
        )

    def _ar_get_pay_all_token(self, expiry=None, company=None):
        """Signed token ``<partner id>-<company id>-<expiry epoch>-<hmac>`` of the commercial partner.

        The link pays the open invoices of one company only (by default the current one).
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        company = company or self.env.company
        if expiry is None:
            days = int(
                # sudo: reading a configuration parameter
                self.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.pay_all_link_days", 30)
            )
            expiry = int(time.time()) + days * 86400
        return f"{partner.id}-{company.id}-{int(expiry)}-{partner._ar_pay_all_signature(expiry, company)}"

    def _ar_get_pay_all_url(self, expiry=None, company=None):
        """Absolute, signed and expiring guest link paying the open invoices of the partner."""
        self.ensure_one()
        token = self._ar_get_pay_all_token(expiry=expiry, company=company)
        return f"{self.get_base_url()}/my/pay-all/{quote(token)}"

    @api.model
    def _ar_parse_pay_all_token(self, token):
        """``(commercial partner, company)`` of a valid token, two empty recordsets otherwise.

        A forged, expired or revoked token, an unknown partner or company and a malformed token
        (non-ASCII characters included) all give the same answer.
        """
        empty = (self.browse(), self.env["res.company"])
        try:
            partner_part, company_part, expiry_part, signature = (token or "").split("-", 3)
            partner_id, company_id, expiry = int(partner_part), int(company_part), int(expiry_part)
        except ValueError:
            return empty
        if not signature.isascii() or expiry < time.time():
            return empty
        # sudo: the buyer is a guest; the signature below is the access check
        partner = self.sudo().browse(partner_id).exists()
        company = self.env["res.company"].sudo().browse(company_id).exists()
        if not partner or not company or partner.commercial_partner_id != partner:
            return empty
        if not partner.ar_pay_all_secret:
            return empty
        if not consteq(partner._ar_pay_all_signature(expiry, company), signature):
            return empty
        return partner, company

    @api.model
    def _ar_check_pay_all_token(self, token):
        """Return the commercial partner of a valid token, an empty recordset otherwise."""
        return self._ar_parse_pay_all_token(token)[0]
