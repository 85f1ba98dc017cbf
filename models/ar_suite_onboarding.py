import os

from markupsafe import Markup

from odoo import api, fields, models

SUITE_LANGS = ("nl_BE", "fr_BE", "de_DE")


class ArSuiteOnboarding(models.AbstractModel):
    """The suite's set-up checks: what is missing before invoices, Peppol, payments and
    reminders can work, each finding with the place where it is fixed."""

    _name = "ar.suite.onboarding"
    _description = "AR Suite: set-up checks"

    @api.model
    def _ar_finding(self, key, message, action=None, res_id=None, severity="warning"):
        url = False
        if action:
            url = f"/odoo/action-{action}" + (f"/{res_id}" if res_id else "")
        return {"key": key, "message": message, "url": url, "severity": severity}

    @api.model
    def _ar_get_findings(self, company=None):
        """List of findings (dicts: key, message, url, severity) for the company."""
        company = company or self.env.company
        findings = []
        partner = company.partner_id
        # --- the company's identity
        if not company.country_id:
            findings.append(
                self._ar_finding(
                    "company_country",
                    self.env._(
                        "Set the country of %(company)s: the legal interest, reminders and Peppol scheme depend on it.",
                        company=company.name,
                    ),
                    "base.action_res_company_form",
                    company.id,
                    "danger",
                )
            )
        if not company.vat:
            findings.append(
                self._ar_finding(
                    "company_vat",
                    self.env._(
                        "Enter the VAT number of %(company)s: Peppol invoices and reminders must show it.",
                        company=company.name,
                    ),
                    "base.action_res_company_form",
                    company.id,
                    "danger",
                )
            )
        if not (partner.peppol_eas and partner.peppol_endpoint):
            findings.append(
                self._ar_finding(
                    "company_peppol",
                    self.env._(
                        "Set the company's Peppol identity (scheme and endpoint, e.g. 0208 and the enterprise "
                        "number) below."
                    ),
                    "base.action_res_company_form",
                    company.id,
                    "danger",
                )
            )
        # --- getting paid: bank account for the EPC QR and transfers, online providers
        bank = self.env["res.partner.bank"].search_count([("partner_id", "=", partner.id)], limit=1)
        if not bank:
            findings.append(
                self._ar_finding(
                    "company_bank",
                    self.env._(
                        "Add the company's bank account (IBAN): the EPC QR code and the structured reference need it."
                    ),
                    "base.action_res_partner_bank_account_form",
                )
            )
        providers = self.env[
            "payment.provider"
        ].sudo()  # sudo: accountants may not read providers, the check only counts them
        if not providers.search_count([("state", "in", ("enabled", "test")), ("company_id", "=", company.id)], limit=1):
            findings.append(
                self._ar_finding(
                    "payment_provider",
                    self.env._(
                        "Enable a payment provider: without one, buyers cannot pay from the e-mail or reminder link."
                    ),
                    "payment.action_payment_provider",
                )
            )
        # --- languages of the customers
        active = set(self.env["res.lang"].search([("active", "=", True)]).mapped("code"))
        missing = [code for code in SUITE_LANGS if code not in active]
        if missing:
            findings.append(
                self._ar_finding(
                    "languages",
                    self.env._(
                        "Activate the languages %(langs)s: invoices and reminders are sent in the customer's language.",
                        langs=", ".join(missing),
                    ),
                    "base.res_lang_act_window",
                    severity="info",
                )
            )
        findings += self._ar_get_module_findings(company)
        return findings

    @api.model
    def _ar_get_module_findings(self, company):
        """Checks of the feature modules' settings: Peppol, delivery preferences, autopay, dunning."""
        return (
            self._ar_peppol_findings(company)
            + self._ar_delivery_findings(company)
            + self._ar_autopay_findings(company)
            + self._ar_dunning_findings(company)
        )

    @api.model
    def _ar_peppol_findings(self, company):
        findings = []
        connector = company.ar_peppol_connector_id
        if not connector:
            findings.append(
                self._ar_finding(
                    "peppol_connector",
                    self.env._("Choose the Peppol access point invoices are sent through (Storecove, Billit...)."),
                    "ar_peppol_edi.ar_peppol_connector_action",
                    severity="danger",
                )
            )
        elif connector.provider == "sandbox":
            findings.append(
                self._ar_finding(
                    "peppol_sandbox",
                    self.env._(
                        "The Peppol access point %(name)s is the sandbox: it sends nothing. "
                        "Use it for demonstrations only.",
                        name=connector.name,
                    ),
                    "ar_peppol_edi.ar_peppol_connector_action",
                    connector.id,
                )
            )
        location = company._ar_peppol_rules_location()
        if not location:
            findings.append(
                self._ar_finding(
                    "peppol_rules",
                    self.env._(
                        "Download the official Peppol validation rules (Peppol settings, 'Download the "
                        "official rules'): without them no invoice is sent on Peppol."
                    ),
                    "ar_suite.ar_suite_settings_action",
                    "danger",
                )
            )
        elif not os.path.exists(location):
            findings.append(
                self._ar_finding(
                    "peppol_rules_missing",
                    self.env._("The Peppol validation rules are not found at %(path)s on the server.", path=location),
                    "ar_suite.ar_suite_settings_action",
                    "danger",
                )
            )
        return findings

    @api.model
    def _ar_delivery_findings(self, company):
        configured = set(company.ar_segment_default_ids.mapped("segment"))
        segments = dict(self.env["res.partner"]._fields["ar_segment"]._description_selection(self.env))
        missing = [label for key, label in segments.items() if key not in configured]
        if not missing:
            return []
        return [
            self._ar_finding(
                "segment_defaults",
                self.env._(
                    "Set the default delivery preferences of the segments %(segments)s.", segments=", ".join(missing)
                ),
                "ar_customer_centric.ar_segment_default_action",
                severity="info",
            )
        ]

    @api.model
    def _ar_autopay_findings(self, company):
        mandates = self.env["ar.sepa.mandate"].search_count(
            [("company_id", "=", company.id), ("state", "=", "active")], limit=1
        )
        if mandates and not company.ar_sepa_creditor_identifier:
            return [
                self._ar_finding(
                    "sepa_creditor_id",
                    self.env._(
                        "Enter the SEPA creditor identifier: direct debit collections cannot be exported without it."
                    ),
                    "base.action_res_company_form",
                    company.id,
                    "danger",
                )
            ]
        return []

    @api.model
    def _ar_dunning_findings(self, company):
        """Dunning policy and statutory interest data (ar_dunning)."""
        findings = []
        policies = self.env["ar.dunning.policy"].search([("company_id", "=", company.id)])
        if not policies:
            findings.append(
                self._ar_finding(
                    "dunning_policy",
                    self.env._(
                        "Create a dunning policy (levels, days after the due date, templates) for %(company)s.",
                        company=company.name,
                    ),
                    "ar_dunning.ar_dunning_policy_action",
                    severity="danger",
                )
            )
        today = fields.Date.context_today(self)
        countries = company.country_id | self.env["res.country"].search([("code", "in", ("BE", "NL", "DE"))])
        Rate = self.env["ar.dunning.interest.rate"]
        rates = Rate.search([("country_id", "in", countries.ids), ("date_to", ">=", today)])
        # the current half-year, and from mid-June / mid-December the next one (rates change on 1 Jan / 1 Jul)
        days = [today]
        next_start = (
            today.replace(month=7, day=1) if today.month <= 6 else today.replace(year=today.year + 1, day=1, month=1)
        )
        if (next_start - today).days <= 16:
            days.append(next_start)
        missing, to_check = [], []
        for country in countries:
            for ctype in ("b2b", "b2c"):
                for day in days:
                    found = rates.filtered(
                        lambda r, c=country, t=ctype, d=day: (
                            r.country_id == c and r.customer_type == t and r.date_from <= d <= r.date_to
                        )
                    )
                    if not found:
                        missing.append(Rate._missing_label(country, ctype, day))
                    elif found.filtered("to_check") and day == today:
                        to_check.append(Rate._missing_label(country, ctype, day))
        if missing:
            findings.append(
                self._ar_finding(
                    "interest_rates",
                    self.env._(
                        "No statutory interest rate for %(missing)s: the reminders that need it are blocked (never "
                        "0 %%) until the rate is entered.",
                        missing=", ".join(missing),
                    ),
                    "ar_dunning.ar_dunning_interest_rate_action",
                    severity="danger",
                )
            )
        if to_check:
            findings.append(
                self._ar_finding(
                    "interest_rates_to_check",
                    self.env._(
                        "Statutory interest rates marked 'To Check' are in use for %(rates)s: confirm them against "
                        "the official publication named in their source.",
                        rates=", ".join(to_check),
                    ),
                    "ar_dunning.ar_dunning_interest_rate_action",
                )
            )
        return findings

    @api.model
    def _ar_findings_html(self, findings):
        if not findings:
            return Markup("<p class='text-success mb-0'>%s</p>") % self.env._("All set: nothing is missing.")
        items = Markup().join(
            Markup("<li class='text-%s'>%s%s</li>")
            % (
                finding["severity"],
                finding["message"],
                Markup(" <a href='%s'>%s</a>") % (finding["url"], self.env._("Fix it")) if finding["url"] else "",
            )
            for finding in findings
        )
        return Markup("<ul class='mb-0'>%s</ul>") % items
