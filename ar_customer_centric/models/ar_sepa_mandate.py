import re
import secrets

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from odoo.addons.base_iban.models.res_partner_bank import normalize_iban, validate_iban

# A SEPA mandate lapses when it was not used for 36 months (EPC SDD rulebook).
MANDATE_LAPSE_MONTHS = 36
# EPC SDD Core rulebook (EPC016-09), AT-14 "name of the debtor": at most 70 characters; the
# BIC (ISO 9362) has 8 or 11 characters: 4 bank, 2 country, 2 location, optional 3 branch.
MAX_ACCOUNT_HOLDER = 70
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_sepa_creditor_identifier = fields.Char(
        string="SEPA Creditor Identifier",
        help="Creditor Identifier (CI) given by your bank or national bank, e.g. BE69ZZZ050D000000008. "
        "Required to export SEPA Direct Debit collections.",
    )


class ArSepaMandate(models.Model):
    _name = "ar.sepa.mandate"
    _description = "SEPA Direct Debit Mandate"
    _inherit = ["mail.thread"]
    _order = "signature_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Mandate Reference",
        required=True,
        copy=False,
        readonly=True,
        default=lambda self: self._default_name(),
        help="Unique Mandate Reference (UMR), at most 35 characters, quoted in every collection.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Debtor",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    iban = fields.Char(string="IBAN", required=True, tracking=True)
    bic = fields.Char(string="BIC", tracking=True)
    account_holder = fields.Char(required=True, tracking=True)
    scheme = fields.Selection(
        selection=[("CORE", "CORE (consumers and businesses)"), ("B2B", "B2B (businesses only)")],
        required=True,
        default="CORE",
        tracking=True,
    )
    signature_date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    consent = fields.Boolean(
        string="Debtor Consent",
        help="The debtor authorised the creditor to send collection instructions to their bank "
        "and their bank to debit the account.",
    )
    consent_details = fields.Char(readonly=True, help="How and when consent was given (portal, IP address, timestamp).")
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("active", "Active"),
            ("revoked", "Revoked"),
            ("expired", "Lapsed"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    pre_notification_days = fields.Integer(
        default=14,
        help="Calendar days between the pre-notification sent to the debtor and the collection "
        "(14 unless agreed otherwise).",
    )
    last_collection_date = fields.Date(readonly=True, copy=False, tracking=True)
    sequence_type = fields.Selection(
        selection=[("FRST", "First"), ("RCUR", "Recurring")],
        compute="_compute_sequence_type",
        help="FRST for the first collection under this mandate, RCUR afterwards.",
    )
    revocation_date = fields.Date(readonly=True, copy=False)

    _umr_unique = models.Constraint(
        "UNIQUE(company_id, name)", "The mandate reference (UMR) must be unique per company."
    )

    @api.model
    def _default_name(self):
        # UMR: fixed prefix and 16 random hexadecimal characters, well below the 35 allowed
        return f"ARSDD-{secrets.token_hex(8).upper()}"

    @api.depends("last_collection_date")
    def _compute_sequence_type(self):
        for mandate in self:
            mandate.sequence_type = "RCUR" if mandate.last_collection_date else "FRST"

    @api.constrains("iban")
    def _check_iban(self):
        for mandate in self:
            try:
                validate_iban(mandate.iban)
            except ValidationError:
                raise ValidationError(
                    self.env._(
                        "The IBAN %(iban)s of the mandate is invalid: check its country code, length and check digits.",
                        iban=mandate.iban,
                    )
                ) from None

    @api.constrains("account_holder", "bic")
    def _check_account_holder_bic(self):
        for mandate in self:
            if len(mandate.account_holder or "") > MAX_ACCOUNT_HOLDER:
                raise ValidationError(
                    self.env._(
                        "The account holder of a mandate may be at most %(max)s characters: shorten the name.",
                        max=MAX_ACCOUNT_HOLDER,
                    )
                )
            if mandate.bic and not BIC_RE.match(mandate.bic):
                raise ValidationError(
                    self.env._(
                        "The BIC %(bic)s is invalid: it has 8 or 11 letters and digits (e.g. GKCCBEBB), "
                        "or leave it empty.",
                        bic=mandate.bic[:20],
                    )
                )

    @api.constrains("name")
    def _check_name(self):
        for mandate in self:
            if len(mandate.name) > 35:
                raise ValidationError(self.env._("The mandate reference may be at most 35 characters."))

    @api.constrains("state", "consent", "scheme", "partner_id")
    def _check_activation(self):
        for mandate in self.filtered(lambda m: m.state == "active"):
            if not mandate.consent:
                raise ValidationError(
                    self.env._("Mandate %(name)s needs the debtor's consent before it is active.", name=mandate.name)
                )
            if mandate.scheme == "B2B" and not mandate.partner_id.commercial_partner_id.is_company:
                raise ValidationError(
                    self.env._(
                        "The B2B scheme is for businesses only: use CORE for %(partner)s.",
                        partner=mandate.partner_id.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS 'mail'
        for vals in vals_list:
            self._normalize_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        # EXTENDS 'mail'
        self._normalize_vals(vals)
        return super().write(vals)

    @api.model
    def _normalize_vals(self, vals):
        if vals.get("iban"):
            vals["iban"] = normalize_iban(vals["iban"])
        if vals.get("bic"):
            vals["bic"] = vals["bic"].replace(" ", "").upper()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_activate(self):
        for mandate in self:
            if mandate.state not in ("draft",):
                raise UserError(self.env._("Only draft mandates can be activated."))
        self.write({"state": "active"})
        return True

    def action_revoke(self):
        """Revocation by the debtor or the creditor: no collection is sent any more."""
        active = self.filtered(lambda m: m.state in ("draft", "active"))
        active.write({"state": "revoked", "revocation_date": fields.Date.context_today(self)})
        partners = (
            self.env["res.partner"].sudo().search([("ar_autopay_mandate_id", "in", active.ids)])
        )  # sudo: company-dependent autopay settings of the debtors, unset everywhere
        partners.ar_autopay_mandate_id = False
        # nothing is collected under a revoked mandate: out of the collections not yet exported
        lines = (
            self.env["ar.sepa.collection.line"]
            .sudo()
            .search([("mandate_id", "in", active.ids), ("collection_id.state", "=", "draft")])
        )  # sudo: the debtor revokes from the portal; only the draft lines of these mandates go
        lines._ar_remove(self.env._("the mandate was revoked"))
        return True

    def _ar_iban_ending(self):
        """The last four characters of the debited IBAN, as told to the debtor ("account ending in 7034")."""
        self.ensure_one()
        return (self.iban or "").replace(" ", "")[-4:]

    def _ar_is_usable(self, date=None):
        self.ensure_one()
        date = date or fields.Date.context_today(self)
        last = self.last_collection_date or self.signature_date
        return self.state == "active" and last + relativedelta(months=MANDATE_LAPSE_MONTHS) > date

    @api.model
    def _cron_ar_lapse_mandates(self):
        """Lapse the active mandates not used for 36 months."""
        limit_date = fields.Date.context_today(self) - relativedelta(months=MANDATE_LAPSE_MONTHS)
        domain = Domain("state", "=", "active") & (
            (Domain("last_collection_date", "=", False) & Domain("signature_date", "<=", limit_date))
            | Domain("last_collection_date", "<=", limit_date)
        )
        mandates = self.search(domain)
        for mandate in mandates:
            mandate.state = "expired"
            mandate.message_post(
                body=self.env._("Lapsed: no collection in the last %(months)s months.", months=MANDATE_LAPSE_MONTHS)
            )
        return mandates
