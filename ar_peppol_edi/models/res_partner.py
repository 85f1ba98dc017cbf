from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools.peppol_ids import (
    BIS3_CREDIT_NOTE_DOCTYPE,
    BIS3_INVOICE_DOCTYPE,
    SML_ZONE_PRODUCTION,
    check_endpoint,
    suggest_endpoint,
)
from ..tools.smp_lookup import lookup


class ResPartner(models.Model):
    _inherit = "res.partner"

    invoice_sending_method = fields.Selection(
        selection_add=[("ar_peppol", "Peppol (own access point)")],
    )
    ar_peppol_lookup_state = fields.Selection(
        selection=[
            ("reachable", "Can receive BIS 3 invoices"),
            ("not_registered", "Not on Peppol"),
            ("doctype_not_supported", "On Peppol, does not accept BIS 3 invoices"),
            ("error", "Lookup failed"),
        ],
        string="Peppol lookup",
        copy=False,
        readonly=True,
    )
    ar_peppol_accepts_credit_note = fields.Boolean(string="Can receive BIS 3 credit notes", copy=False, readonly=True)
    ar_peppol_lookup_date = fields.Datetime(string="Peppol lookup on", copy=False, readonly=True)
    ar_peppol_lookup_message = fields.Char(string="Peppol lookup details", copy=False, readonly=True)
    ar_peppol_smp_url = fields.Char(string="SMP", copy=False, readonly=True)
    ar_peppol_suggested_eas = fields.Char(string="Suggested EAS", compute="_compute_ar_peppol_suggestion")
    ar_peppol_suggested_endpoint = fields.Char(string="Suggested endpoint", compute="_compute_ar_peppol_suggestion")

    @api.depends("vat", "company_registry", "country_id", "peppol_eas", "peppol_endpoint")
    def _compute_ar_peppol_suggestion(self):
        for partner in self:
            eas, endpoint = suggest_endpoint(partner.country_code, partner.vat, partner.company_registry)
            same = (eas, endpoint) == (partner.peppol_eas, partner.peppol_endpoint)
            partner.ar_peppol_suggested_eas = False if same else eas
            partner.ar_peppol_suggested_endpoint = False if same else endpoint

    def _build_error_peppol_endpoint(self, eas, endpoint):
        # EXTENDS 'account_edi_ubl_cii'
        error = super()._build_error_peppol_endpoint(eas, endpoint)
        if error:
            return error
        _normalised, label = check_endpoint(eas, endpoint)
        if label:
            return self.env._(
                "The Peppol endpoint %(endpoint)s is not a valid %(label)s (scheme %(eas)s).",
                endpoint=endpoint,
                label=label,
                eas=eas,
            )
        return None

    @api.constrains("peppol_endpoint", "peppol_eas")
    def _check_peppol_fields(self):
        # EXTENDS 'account_edi_ubl_cii': also on an EAS change, and with a suggestion derived
        # from the VAT or registry number
        result = None
        for partner in self:
            try:
                result = super(ResPartner, partner)._check_peppol_fields()
            except ValidationError as exc:
                eas, endpoint = suggest_endpoint(partner.country_code, partner.vat, partner.company_registry)
                if not eas or (eas, endpoint) == (partner.peppol_eas, partner.peppol_endpoint):
                    raise
                raise ValidationError(
                    self.env._(
                        "%(error)s Suggestion from the VAT or registry number: %(eas)s:%(endpoint)s.",
                        error=exc.args[0],
                        eas=eas,
                        endpoint=endpoint,
                    )
                ) from exc
        return result

    def action_ar_peppol_apply_suggestion(self):
        for partner in self:
            if partner.ar_peppol_suggested_eas:
                partner.write(
                    {
                        "peppol_eas": partner.ar_peppol_suggested_eas,
                        "peppol_endpoint": partner.ar_peppol_suggested_endpoint,
                    }
                )
        return True

    # ------------------------------------------------------------------
    # Participant lookup
    # ------------------------------------------------------------------

    @api.model
    def _ar_peppol_lookup_params(self):
        params = self.env["ir.config_parameter"].sudo()  # sudo: system settings of the lookup
        return {
            "smp_url": params.get_param("ar_peppol_edi.smp_url") or None,
            "zone": params.get_param("ar_peppol_edi.sml_zone") or SML_ZONE_PRODUCTION,
            "cache_hours": float(params.get_param("ar_peppol_edi.lookup_cache_hours") or 24),
            "timeout": float(params.get_param("ar_peppol_edi.lookup_timeout") or 10),
        }

    def write(self, vals):
        # EXTENDS 'base': a new Peppol address invalidates the lookup (the cron checks it again)
        if "peppol_eas" in vals or "peppol_endpoint" in vals:
            vals = dict(
                vals, ar_peppol_lookup_state=False, ar_peppol_lookup_date=False, ar_peppol_accepts_credit_note=False
            )
            cron = self.env.ref("ar_peppol_edi.ir_cron_ar_peppol_lookup", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()  # sudo: triggering the lookup cron is not a user right
        return super().write(vals)

    def _ar_peppol_can_receive(self, move):
        """From the cached lookup only (never on the network while sending): can the buyer
        receive ``move`` (invoice or credit note) as Peppol BIS Billing 3.0?"""
        commercial = self.commercial_partner_id
        if commercial.ar_peppol_lookup_state != "reachable":
            return False
        return commercial.ar_peppol_accepts_credit_note if move.move_type == "out_refund" else True

    @api.model
    def _cron_ar_peppol_lookup(self, batch_size=50):
        """Look up the Peppol partners never checked or checked before the cache period, so that
        sending never waits for the network."""
        params = self._ar_peppol_lookup_params()
        limit = fields.Datetime.now() - timedelta(hours=params["cache_hours"])
        partners = self.search(
            [
                ("peppol_eas", "!=", False),
                ("peppol_endpoint", "!=", False),
                ("is_company", "=", True),
                "|",
                ("ar_peppol_lookup_date", "=", False),
                ("ar_peppol_lookup_date", "<", limit),
            ],
            limit=batch_size,
            order="ar_peppol_lookup_date asc nulls first, id",
        )
        partners._ar_peppol_lookup(force=True)
        return len(partners)

    def _ar_peppol_lookup(self, force=False, resolver=None):
        """Look the partners up in the SML/SMP (cached); returns {partner: state}."""
        params = self._ar_peppol_lookup_params()
        limit = fields.Datetime.now() - timedelta(hours=params["cache_hours"])
        result = {}
        for partner in self:
            commercial = partner.commercial_partner_id
            if not (commercial.peppol_eas and commercial.peppol_endpoint):
                result[partner] = "not_registered"
                continue
            fresh = commercial.ar_peppol_lookup_date and commercial.ar_peppol_lookup_date >= limit
            if fresh and not force and commercial.ar_peppol_lookup_state != "error":
                result[partner] = commercial.ar_peppol_lookup_state
                continue
            answer = lookup(
                commercial.peppol_eas,
                commercial.peppol_endpoint,
                [BIS3_INVOICE_DOCTYPE, BIS3_CREDIT_NOTE_DOCTYPE],
                smp_url=params["smp_url"],
                zone=params["zone"],
                resolver=resolver,
                timeout=params["timeout"],
            )
            # sudo: the lookup result is technical data any invoicing user may refresh
            commercial.sudo().write(
                {
                    "ar_peppol_lookup_state": answer["state"],
                    "ar_peppol_accepts_credit_note": answer["accepts"].get(BIS3_CREDIT_NOTE_DOCTYPE, False),
                    "ar_peppol_lookup_date": fields.Datetime.now(),
                    "ar_peppol_lookup_message": answer["message"][:250],
                    "ar_peppol_smp_url": answer["smp_url"] or False,
                }
            )
            result[partner] = answer["state"]
        return result

    def action_ar_peppol_lookup(self):
        partners = self.filtered(
            lambda p: p.commercial_partner_id.peppol_eas and p.commercial_partner_id.peppol_endpoint
        )
        if not partners:
            raise UserError(self.env._("Set the Peppol address (EAS and endpoint) before looking the partner up."))
        partners._ar_peppol_lookup(force=True)
        return True
