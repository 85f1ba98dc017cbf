"""Demo data of the suite: a living receivables book for `make run` (never used by tests)."""

import logging
import random
import time
import uuid
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

# (country code, language, [company names]) — 44 customers in BE, NL, DE and FR
DEMO_CUSTOMERS = {
    "BE": [
        ("Bakkerij Janssens BV", "nl_BE", "Mechelen", "2800", "Bruul 42"),
        ("Garage Dubois SRL", "fr_BE", "Namur", "5000", "Rue de Fer 17"),
        ("Vlaeminck Logistics NV", "nl_BE", "Gent", "9000", "Voorhavenlaan 31"),
        ("Imprimerie Lambert SA", "fr_BE", "Liège", "4000", "Boulevard d'Avroy 88"),
        ("Brouwerij Het Anker NV", "nl_BE", "Mechelen", "2800", "Guido Gezellelaan 49"),
        ("Ateliers Mertens SRL", "fr_BE", "Charleroi", "6000", "Rue de la Montagne 5"),
        ("Peeters Bouw BV", "nl_BE", "Hasselt", "3500", "Kempische Steenweg 290"),
        ("Clinique Saint-Luc Services SA", "fr_BE", "Bruxelles", "1200", "Avenue Hippocrate 10"),
        ("De Smet Elektro BV", "nl_BE", "Brugge", "8000", "Sint-Pieterskaai 60"),
        ("Boulangerie Renard SRL", "fr_BE", "Mons", "7000", "Grand-Rue 21"),
        ("Willems Transport NV", "nl_BE", "Antwerpen", "2030", "Noorderlaan 147"),
        ("Maes & Claes Architecten BV", "nl_BE", "Leuven", "3000", "Bondgenotenlaan 74"),
    ],
    "NL": [
        ("Van der Berg Installatietechniek BV", "nl_NL", "Utrecht", "3511 AB", "Oudegracht 120"),
        ("Bakker Groothandel BV", "nl_NL", "Rotterdam", "3011 AA", "Coolsingel 40"),
        ("De Vries Metaal BV", "nl_NL", "Eindhoven", "5611 AZ", "Stratumseind 12"),
        ("Jansen Zorggroep BV", "nl_NL", "Amsterdam", "1017 AB", "Herengracht 401"),
        ("Smit Bloemen Export BV", "nl_NL", "Aalsmeer", "1431 GD", "Legmeerdijk 313"),
        ("Visser Bouwmaterialen BV", "nl_NL", "Groningen", "9711 AB", "Vismarkt 7"),
        ("Mulder ICT Diensten BV", "nl_NL", "Den Haag", "2511 CV", "Lange Voorhout 9"),
        ("Bos Agrarische Techniek BV", "nl_NL", "Zwolle", "8011 AA", "Melkmarkt 3"),
        ("Meijer Horeca BV", "nl_NL", "Maastricht", "6211 CK", "Vrijthof 18"),
        ("Kok Verpakkingen BV", "nl_NL", "Tilburg", "5038 AA", "Spoorlaan 350"),
    ],
    "DE": [
        ("Müller Maschinenbau GmbH", "de_DE", "Stuttgart", "70173", "Königstraße 28"),
        ("Schmidt & Söhne KG", "de_DE", "Köln", "50667", "Hohe Straße 52"),
        ("Schneider Logistik GmbH", "de_DE", "Hamburg", "20457", "Am Sandtorkai 44"),
        ("Fischer Elektrotechnik GmbH", "de_DE", "München", "80331", "Sendlinger Straße 7"),
        ("Weber Druck GmbH", "de_DE", "Düsseldorf", "40213", "Königsallee 60"),
        ("Meyer Lebensmittel AG", "de_DE", "Hannover", "30159", "Georgstraße 11"),
        ("Wagner Bau GmbH", "de_DE", "Aachen", "52062", "Markt 39"),
        ("Becker Medizintechnik GmbH", "de_DE", "Frankfurt am Main", "60311", "Zeil 90"),
        ("Hoffmann Möbel GmbH", "de_DE", "Berlin", "10117", "Friedrichstraße 95"),
        ("Schulz Agrar eG", "de_DE", "Münster", "48143", "Prinzipalmarkt 24"),
    ],
    "FR": [
        ("Boulangeries Martin SAS", "fr_FR", "Lille", "59000", "Rue Nationale 45"),
        ("Bernard Logistique SARL", "fr_FR", "Lyon", "69002", "Rue de la République 12"),
        ("Dubois Énergie SAS", "fr_FR", "Paris", "75009", "Boulevard Haussmann 80"),
        ("Thomas Menuiserie SARL", "fr_FR", "Reims", "51100", "Place Drouet d'Erlon 3"),
        ("Robert Pharma SA", "fr_FR", "Strasbourg", "67000", "Rue du Dôme 6"),
        ("Petit Transports SARL", "fr_FR", "Metz", "57000", "Rue Serpenoise 19"),
        ("Richard Vins SAS", "fr_FR", "Bordeaux", "33000", "Cours de l'Intendance 30"),
        ("Durand Informatique SAS", "fr_FR", "Nantes", "44000", "Rue Crébillon 8"),
        ("Moreau Bâtiment SARL", "fr_FR", "Amiens", "80000", "Rue des Trois Cailloux 27"),
        ("Laurent Textile SA", "fr_FR", "Roubaix", "59100", "Grande Rue 66"),
    ],
}
# private customers (B2C: Belgian caps, Dutch WIK)
DEMO_CONSUMERS = [
    ("Lotte Vermeulen", "BE", "nl_BE", "Gent", "9000", "Korenlei 2"),
    ("Julien Lejeune", "BE", "fr_BE", "Namur", "5000", "Rue de l'Ange 14"),
    ("Sanne de Boer", "NL", "nl_NL", "Leiden", "2311 EK", "Breestraat 80"),
]
SEGMENTS = ("enterprise", "mid_market", "small")
# punctual pays around the due date, slow two to five weeks late, chronic months late (or not)
BEHAVIOURS = ("punctual", "punctual", "slow", "punctual", "chronic", "slow")
DEMO_LINES = [
    "Maintenance contract — monthly fee",
    "Spare parts and consumables",
    "On-site intervention (technician hours)",
    "Installation and commissioning",
    "Safety inspection and certificate",
    "Transport and handling",
]


class ArSuiteDemo(models.AbstractModel):
    _name = "ar.suite.demo"
    _description = "AR Suite: demo data generator"

    # ------------------------------------------------------------------ helpers
    @api.model
    def _ar_demo_vat(self, country_code, seed):
        """A VAT number that passes python-stdnum's check for the country (deterministic)."""
        from stdnum import get_cc_module

        module = get_cc_module(country_code.lower(), "vat")
        n = seed
        while True:
            n += 1
            if country_code == "BE":
                base = 4000000 + n * 7919 % 5999999
                candidate = f"BE0{base:07d}{97 - (base % 97):02d}"
            elif country_code == "NL":
                candidate = f"NL{(100000000 + n * 7919) % 1000000000:09d}B01"
            elif country_code == "DE":
                candidate = f"DE{(100000000 + n * 7919) % 1000000000:09d}"
            else:
                siren = f"{(300000000 + n * 7919) % 1000000000:09d}"
                key = (12 + 3 * (int(siren) % 97)) % 97
                candidate = f"FR{key:02d}{siren}"
            if module.is_valid(candidate):
                return candidate

    @api.model
    def _ar_demo_lang(self, code):
        langs = self.env["res.lang"]
        if langs._lang_get(code):
            return code
        fallback = {"fr_FR": "fr_BE", "nl_NL": "nl_BE"}.get(code)
        if fallback and langs._lang_get(fallback):
            return fallback
        return "en_US"

    # ------------------------------------------------------------------ entry point
    @api.model
    def _ar_load_demo(self):
        """Build the demo book (called from demo/ar_suite_demo.xml)."""
        t0 = time.time()
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True))
        company = self.with_env(env)._ar_demo_company()
        demo = self.with_env(env).with_company(company)
        customers = demo._ar_demo_customers(company)
        t1 = time.time()
        invoices, open_invoices = demo._ar_demo_invoices(company, customers)
        t2 = time.time()
        demo._ar_demo_modules(company, customers, invoices, open_invoices)
        _logger.info(
            "ar_suite demo timing: customers %.1fs, invoices and payments %.1fs, modules %.1fs",
            t1 - t0,
            t2 - t1,
            time.time() - t2,
        )
        _logger.info(
            "ar_suite demo: %s customers, %s invoices (%s open) in %.1fs",
            len(customers),
            len(invoices),
            len(open_invoices),
            time.time() - t0,
        )

    @api.model
    def _ar_demo_company(self):
        """The Belgian selling company: l10n_be's demo company (EUR, Belgian chart) renamed.

        The main company gets account's generic chart in USD on a demo database; EPC QR codes,
        SEPA direct debits and Belgian VAT need EUR and the Belgian chart. `make run` installs
        l10n_be (with its demo company); without it the main company is dressed up instead.
        """
        company = self.env.ref("base.demo_company_be", raise_if_not_found=False) or self.env.ref("base.main_company")
        company.write(
            {
                "name": "Lumen Technical Services NV",
                "vat": company.vat or "BE0246697724",
                "street": "Kunstlaan 24",
                "zip": "1000",
                "city": "Brussel",
                "country_id": self.env.ref("base.be").id,
                "email": "accounting@lumen-technical.example",
                "phone": "+32 2 555 01 24",
                "website": "https://lumen-technical.example",
            }
        )
        company.partner_id.write({"peppol_eas": "0208", "peppol_endpoint": "0246697724", "lang": "nl_BE"})
        # buyers pay online through Odoo's demo provider (test mode) when payment_demo is there
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        )
        if provider:
            provider.write({"state": "test", "is_published": True})
        # default delivery preferences per segment
        if "ar.segment.default" in self.env and not company.ar_segment_default_ids:
            offered = dict(self.env["ar.segment.default"]._fields["sending_method"]._description_selection(self.env))
            defaults = [
                ("enterprise", "ar_peppol" if "ar_peppol" in offered else "email"),
                ("mid_market", "ar_portal" if "ar_portal" in offered else "email"),
                ("small", "email"),
            ]
            self.env["ar.segment.default"].create(
                [
                    {
                        "company_id": company.id,
                        "segment": segment,
                        "sending_method": method,
                        "fallback_sending_method": "email",
                    }
                    for segment, method in defaults
                ]
            )
        # everyone who logs in lands in the Belgian company
        users = (
            self.env.ref("base.user_admin")
            | self.env.ref("ar_suite.user_accountant_demo")
            | self.env.ref("ar_suite.user_buyer_demo")
        )
        for user in users:
            user.write({"company_ids": [Command.link(company.id)], "company_id": company.id})
        return company

    @api.model
    def _ar_demo_customers(self, company):
        rng = random.Random(7)
        countries = {code: self.env.ref(f"base.{code.lower()}") for code in ("BE", "NL", "DE", "FR")}
        vals_list, meta = [], []
        index = 0
        for code, rows in DEMO_CUSTOMERS.items():
            for name, lang, city, zip_code, street in rows:
                index += 1
                slug = name.split()[0].lower().replace("ü", "u").replace("é", "e")
                vals_list.append(
                    {
                        "name": name,
                        "is_company": True,
                        "street": street,
                        "zip": zip_code,
                        "city": city,
                        "country_id": countries[code].id,
                        "vat": self._ar_demo_vat(code, index * 13),
                        "email": f"accounts@{slug}{index}.example",
                        "lang": self._ar_demo_lang(lang),
                        "customer_rank": 1,
                    }
                )
                meta.append({"segment": SEGMENTS[index % 3], "behaviour": BEHAVIOURS[index % len(BEHAVIOURS)]})
        for name, code, lang, city, zip_code, street in DEMO_CONSUMERS:
            index += 1
            vals_list.append(
                {
                    "name": name,
                    "is_company": False,
                    "street": street,
                    "zip": zip_code,
                    "city": city,
                    "country_id": countries[code].id,
                    "email": f"{name.split()[0].lower()}@mail.example",
                    "lang": self._ar_demo_lang(lang),
                    "customer_rank": 1,
                }
            )
            meta.append({"segment": "small", "behaviour": BEHAVIOURS[index % len(BEHAVIOURS)]})
        partners = self.env["res.partner"].create(vals_list)
        buyer = self.env.ref("ar_suite.partner_buyer_company_demo")
        partners |= buyer
        meta.append({"segment": "mid_market", "behaviour": "chronic"})
        # delivery preferences: every channel the installed modules offer, in turn
        methods_field = self.env["res.partner"]._fields["invoice_sending_method"]
        offered = [key for key, _label in methods_field._description_selection(self.env)]
        wanted = [m for m in ("email", "ar_portal", "ar_peppol", "ar_cxml", "ar_letter", "manual") if m in offered]
        segment_field = "ar_segment" in self.env["res.partner"]._fields
        result = []
        for i, (partner, info) in enumerate(zip(partners, meta, strict=True)):
            method = wanted[i % len(wanted)] if partner.is_company else "email"
            if partner == buyer:
                method = "email"
            vals = {"invoice_sending_method": method, **self._ar_demo_channel_vals(partner, method, i)}
            if segment_field:
                vals["ar_segment"] = info["segment"]
            partner.with_company(company).write(vals)
            result.append((partner, dict(info, method=method, rng=random.Random(rng.random()))))
        return result

    @api.model
    def _ar_demo_channel_vals(self, partner, method, index):
        """What each delivery channel needs to deliver (AP-portal identities, no e-invoice for
        paper), and a fallback channel for the electronic ones."""
        Partner = self.env["res.partner"]
        vals = {}
        if method in ("ar_peppol", "ar_cxml") and "ar_fallback_sending_method" in Partner._fields:
            vals["ar_fallback_sending_method"] = "email"
        if method in ("ar_cxml", "ar_letter"):
            vals["invoice_edi_format"] = False
        if method == "ar_cxml":
            vals.update(
                {
                    "ar_cxml_endpoint": f"https://procurement-network.example/cxml/inbound/{index}",
                    "ar_cxml_from_identity": "AN01000000042",
                    "ar_cxml_to_identity": f"AN0100000{index:04d}",
                    "ar_cxml_sender_identity": "AN01000000042",
                    "ar_cxml_shared_secret": "demo-shared-secret",
                    "ar_cxml_deployment_mode": "test",
                }
            )
        return vals

    @api.model
    def _ar_demo_invoices(self, company, customers):
        """Twelve months of invoices, paid according to each customer's behaviour."""
        today = fields.Date.context_today(self)
        journal = self.env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
        bank = self.env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
        tax = company.account_sale_tax_id
        move_vals, plan = [], []
        for partner, info in customers:
            rng = info["rng"]
            step = {"enterprise": 30, "mid_market": 40, "small": 50}[info["segment"]]
            day = today - timedelta(days=360 - rng.randint(0, 10))
            while day <= today:
                due = day + timedelta(days=30)
                lines = [
                    Command.create(
                        {
                            "name": rng.choice(DEMO_LINES),
                            "quantity": rng.choice([1, 1, 2, 3, 5, 10]),
                            "price_unit": round(rng.uniform(80, 1800), 2),
                            "tax_ids": [Command.set(tax.ids)],
                        }
                    )
                    for _i in range(rng.choice([1, 1, 2]))
                ]
                move_vals.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "journal_id": journal.id,
                        "invoice_date": day,
                        "invoice_date_due": due,
                        "invoice_line_ids": lines,
                    }
                )
                behaviour = info["behaviour"]
                delay = {
                    "punctual": rng.randint(-12, 2),
                    "slow": rng.randint(8, 38),
                    "chronic": rng.randint(35, 120),
                }[behaviour]
                partial = behaviour == "chronic" and rng.random() < 0.2
                plan.append((due + timedelta(days=delay), partial))
                day += timedelta(days=step + rng.randint(-4, 6))
        order = sorted(range(len(move_vals)), key=lambda i: move_vals[i]["invoice_date"])
        move_vals = [move_vals[i] for i in order]
        plan = [plan[i] for i in order]
        t0 = time.time()
        invoices = self.env["account.move"].create(move_vals)
        t1 = time.time()
        invoices.action_post()
        _logger.info("ar_suite demo timing: create %.1fs, post %.1fs", t1 - t0, time.time() - t1)
        # payments: one per paid invoice, on the date the behaviour gives
        pay_vals, pay_invoices = [], []
        for invoice, (pay_date, partial) in zip(invoices, plan, strict=True):
            if pay_date > today:
                continue
            amount = invoice.amount_total / 2 if partial else invoice.amount_total
            pay_vals.append(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": invoice.partner_id.id,
                    "amount": company.currency_id.round(amount),
                    "date": pay_date,
                    "journal_id": bank.id,
                    "memo": invoice.payment_reference or invoice.name,
                }
            )
            pay_invoices.append(invoice)
        payments = self.env["account.payment"].create(pay_vals)
        payments.action_post()
        # one batched reconciliation of every (payment, invoice) pair
        plan = [
            (payment.move_id.line_ids | invoice.line_ids).filtered(
                lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            )
            for payment, invoice in zip(payments, pay_invoices, strict=True)
        ]
        self.env["account.move.line"]._reconcile_plan(plan)
        open_invoices = invoices.filtered(lambda m: m.payment_state in ("not_paid", "partial"))
        return invoices, open_invoices

    @api.model
    def _ar_demo_modules(self, company, customers, invoices, open_invoices):
        """Feature-module data: disputes, autopay, Peppol states and dunning levels."""
        self._ar_demo_disputes(company, customers, open_invoices)
        self._ar_demo_autopay(company, customers)
        self._ar_demo_peppol(company, customers, invoices)
        self._ar_demo_dunning(company, open_invoices)

    @api.model
    def _ar_demo_disputes(self, company, customers, open_invoices):
        """Two open disputes (one of the portal buyer), one rejected, one settled by a credit note."""
        if "ar.dispute" not in self.env:
            return
        buyer = self.env.ref("ar_suite.partner_buyer_company_demo")
        Dispute = self.env["ar.dispute"]
        overdue = open_invoices.filtered(lambda m: m.invoice_date_due < fields.Date.context_today(self))
        picks = overdue.filtered(lambda m: m.commercial_partner_id == buyer)[:1]
        picks |= (overdue - picks).sorted("amount_residual", reverse=True)[: 4 - len(picks)]
        reasons = ["wrong_amount", "not_delivered", "quality", "already_paid"]
        messages = [
            "The unit price on line 2 is not the price we agreed in the framework contract.",
            "We never received the spare parts of this invoice; our warehouse has no delivery note.",
            "The inspection certificate was issued with the wrong machine serial number.",
            "We paid this invoice together with the previous one, see our transfer of last month.",
        ]
        disputes = Dispute
        for invoice, reason, message in zip(picks, reasons, messages, strict=False):
            disputes |= Dispute._ar_log_dispute(invoice, reason, message, invoice.commercial_partner_id)
        if len(disputes) == 4:
            disputes[2].resolution_note = "The certificate is correct: serial number checked on site."
            disputes[2].action_reject()
            disputes[3].action_accept_credit_note()

    @api.model
    def _ar_demo_autopay(self, company, customers):
        """One customer on SEPA Direct Debit (active mandate), one with a saved card token."""
        Partner = self.env["res.partner"]
        if "ar.sepa.mandate" not in self.env or "ar_autopay" not in Partner._fields:
            return
        if "ar_sepa_creditor_identifier" in company._fields:
            company.ar_sepa_creditor_identifier = "BE69ZZZ050D000000008"
        punctual = [p for p, info in customers if info["behaviour"] == "punctual" and p.is_company]
        if len(punctual) < 2:
            return
        sepa_customer, card_customer = punctual[0], punctual[1]
        mandate = self.env["ar.sepa.mandate"].create(
            {
                "partner_id": sepa_customer.id,
                "company_id": company.id,
                "iban": "BE68539007547034",
                "account_holder": sepa_customer.name,
                "scheme": "B2B" if sepa_customer.is_company else "CORE",
                "signature_date": fields.Date.context_today(self) - timedelta(days=200),
                "consent": True,
            }
        )
        mandate.action_activate()
        sepa_customer.with_company(company).write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        )
        if provider and provider.payment_method_ids:
            token = self.env["payment.token"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "partner_id": card_customer.id,
                    "payment_details": "4242",
                    "provider_ref": "ar-suite-demo-token",
                }
            )
            card_customer.with_company(company).write({"ar_autopay": True, "ar_autopay_token_id": token.id})

    # Peppol: the demo's invoices of Peppol customers, one per transmission state
    PEPPOL_DEMO_STATES = (
        "accepted",
        "rejected",
        "paid",
        "delivered",
        "sent",
        "queued",
        "ready",
        "invalid",
        "to_validate",
        "error",
        "accepted",
        "accepted",
    )

    @api.model
    def _ar_demo_peppol(self, company, customers, invoices):
        """A clearly labelled sandbox access point and recent Peppol invoices in every state.

        Documents really go through the sandbox connector (submit, status polls, buyer
        responses); the official rules are not run here (`make run` may not have them), so
        the validation states are set as the validator would set them.
        """
        if "ar.peppol.connector" not in self.env:
            return
        connector = self.env["ar.peppol.connector"].create(
            {"name": "Sandbox access point (DEMO: sends nothing)", "provider": "sandbox", "company_id": company.id}
        )
        company.ar_peppol_connector_id = connector
        peppol_partners = {p.id for p, info in customers if info["method"] == "ar_peppol"}
        moves = invoices.filtered(lambda m: m.partner_id.id in peppol_partners).sorted("invoice_date", reverse=True)
        Finding = self.env["ar.peppol.finding"]
        for move, state in zip(moves, self.PEPPOL_DEMO_STATES, strict=False):
            if state in ("to_validate", "invalid"):
                vals = (
                    Finding._not_validated_vals(move, "Rules folder not configured (demo)")
                    if state == "to_validate"
                    else Finding._export_error_vals(move, "The buyer's address has no street (BR-50 style check).")
                )
                Finding.create(vals)
                move.write({"ar_peppol_state": state, "ar_peppol_fatal_count": 1})
                continue
            xml, _errors = move._ar_peppol_export()
            self.env["ir.attachment"].create(
                {
                    "name": f"{move.name.replace('/', '_')}_ubl_bis3.xml",
                    "raw": xml,
                    "mimetype": "application/xml",
                    "res_model": "account.move",
                    "res_id": move.id,
                    "res_field": "ubl_cii_xml_file",
                }
            )
            move.invalidate_recordset(["ubl_cii_xml_id", "ubl_cii_xml_file"])
            move.write({"ar_peppol_state": "ready", "ar_peppol_validated_at": fields.Datetime.now()})
            if state == "ready":
                continue
            if state == "error":
                move.write({"ar_peppol_connector_id": connector.id})
                move._ar_peppol_fail("Sandbox: the access point refused the receiver (participant not registered).")
                continue
            if state == "queued":
                # waiting for a retry after the access point answered 503
                move.write(
                    {
                        "ar_peppol_state": "queued",
                        "ar_peppol_connector_id": connector.id,
                        "ar_peppol_idempotency_key": str(uuid.uuid4()),
                        "ar_peppol_queued_at": fields.Datetime.now(),
                        "ar_peppol_next_try": fields.Datetime.now() + timedelta(hours=6),
                        "ar_peppol_attempts": 1,
                        "ar_peppol_answer": "Sandbox: 503 Service Unavailable, next attempt scheduled.",
                    }
                )
                continue
            move._ar_peppol_queue(connector)
            move._ar_peppol_transmit()
            if state == "sent":
                continue
            move._ar_peppol_apply_event(connector._fetch_status(move))  # delivered
            if state == "delivered":
                continue
            code, reason = {
                "accepted": ("AP", "Approved for payment."),
                "rejected": ("RE", "Purchase order number PO-2291 is missing; please reissue."),
                "paid": ("PD", "Paid by bank transfer."),
            }[state]
            if code == "PD":
                move._ar_peppol_apply_event({"response_code": "AP"})  # paid only follows accepted
            move._ar_peppol_apply_event({"response_code": code, "reason": reason})

    # Dunning: the ladder history of the open invoices and today's run waiting for review
    @api.model
    def _ar_demo_dunning(self, company, open_invoices):
        """Give every overdue invoice the level its reminders reached (each level sent a week
        after it became due), then prepare today's run as a preview for the accountant."""
        if "ar.dunning.policy" not in self.env:
            return
        Policy = self.env["ar.dunning.policy"]
        policy = Policy.search([("company_id", "=", company.id)], limit=1)
        if not policy:
            company._ar_dunning_create_default_policy()
            policy = Policy.search([("company_id", "=", company.id)], limit=1)
        ladder = policy._get_ladder()
        # English names: when en_US is not among the active languages, the policy's names in
        # the source language end up in the last installed language (reported to ar_dunning)
        names = company.with_context(lang="en_US")._ar_dunning_level_names()
        policy.with_context(lang="en_US").name = names["policy"]
        for index, level in enumerate(ladder[:3], start=1):
            level.with_context(lang="en_US").name = names[f"level{index}"]
        today = fields.Date.context_today(self)
        self._ar_demo_interest_rates(today)
        by_level = {}
        for invoice in open_invoices.filtered(lambda m: not m.no_followup):
            days = (today - invoice.invoice_date_due).days
            reached = [level for level in ladder if days >= level.offset_days + 7]
            if reached:
                by_level.setdefault(reached[-1], self.env["account.move"])
                by_level[reached[-1]] |= invoice
        for level, moves in by_level.items():
            for move in moves:
                move.write(
                    {
                        "ar_dunning_level_id": level.id,
                        "ar_dunning_first_date": move.invoice_date_due + timedelta(days=ladder[0].offset_days + 7),
                        "ar_dunning_last_date": move.invoice_date_due + timedelta(days=level.offset_days + 7),
                    }
                )
        self.env["ar.dunning.run"]._run_batch(date=today, policy_ids=policy.ids, company=company)

    @api.model
    def _ar_demo_interest_rates(self, today):
        """Continue the seeded statutory rates up to the current half-year (flagged 'to check')
        so that the demo's reminders claim interest whatever day `make run` is started."""
        Rate = self.env["ar.dunning.interest.rate"]
        half_start = today.replace(month=1 if today.month <= 6 else 7, day=1)
        half_end = today.replace(month=6, day=30) if today.month <= 6 else today.replace(month=12, day=31)
        latest = {}
        for rate in Rate.search([("country_id", "!=", False)], order="date_to"):
            latest[rate.country_id, rate.customer_type] = rate
        Rate.create(
            [
                {
                    "country_id": country.id,
                    "customer_type": customer_type,
                    "date_from": max(rate.date_to + timedelta(days=1), half_start),
                    "date_to": half_end,
                    "rate": rate.rate,
                    "to_check": True,
                }
                for (country, customer_type), rate in latest.items()
                if rate.date_to < today
            ]
        )

    # ------------------------------------------------------------------ screenshots (scripts/screenshots.py)
    def _ar_check_screenshot_access(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(self.env._("Only accounting users may render reminders."))

    @api.model
    def _ar_screenshot_line(self, lang_prefix, letter=False):
        domain = [("state", "=", "draft"), ("company_id", "=", self.env.company.id)]
        lines = self.env["ar.dunning.line"].search(domain, order="id desc")
        lines = lines.filtered(lambda line: (line.lang or "").startswith(lang_prefix) and line.statement_item_ids)
        if letter:
            lines = lines.filtered("channel_letter") or lines
        return lines.sorted(lambda line: -line.level_id.offset_days)[:1]

    @api.model
    def ar_suite_screenshot_reminder(self, lang_prefix):
        """Subject and body of the reminder a customer speaking ``lang_prefix`` would receive
        from the run waiting for review (rendered, not sent)."""
        self._ar_check_screenshot_access()
        line = self._ar_screenshot_line(lang_prefix)
        if not line:
            return False
        template = line.level_id._get_template(line.tone)
        rendered = template._generate_template(line.ids, ["subject", "body_html"])[line.id]
        body = Markup(rendered.get("body_html") or "")
        url = line._ar_suite_epc_qr_url()
        if url:
            body = line._ar_suite_before_signature(body, line._ar_suite_qr_block(url))
        return {"subject": rendered.get("subject"), "body_html": str(body), "to": line.contact_id.email or ""}

    @api.model
    def ar_suite_screenshot_letter(self):
        """The letter report and line ids of one printed reminder (its text rendered first)."""
        self._ar_check_screenshot_access()
        line = self._ar_screenshot_line("", letter=True)
        if not line:
            return False
        template = line.level_id._get_template(line.tone)
        rendered = template._generate_template(line.ids, ["subject", "body_html"])[line.id]
        line.write({"subject": rendered.get("subject"), "body_html": rendered.get("body_html")})
        return ["ar_dunning.report_dunning_letter", line.ids]

    @api.model
    def ar_suite_screenshot_pay_all_url(self, partner_id):
        """The guest pay-all link of a customer, for the screenshot of the page."""
        self._ar_check_screenshot_access()
        return self.env["res.partner"].browse(partner_id).commercial_partner_id._ar_get_pay_all_url()
