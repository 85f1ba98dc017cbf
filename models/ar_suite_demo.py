"""Demo data of the suite: a living receivables book for `make run` (never used by tests)."""

import base64
import functools
import io
import logging
import math
import os
import random
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

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
# the person who receives the invoices at each customer, in the customer's language
DEMO_CONTACTS = {
    "nl_BE": ["An Claes", "Tom Wouters", "Els Maes", "Pieter Jacobs", "Lien Goossens"],
    "fr_BE": ["Sophie Dupont", "Marc Lejeune", "Isabelle Dumont", "Olivier Collard"],
    "nl_NL": ["Mark de Jong", "Femke Bakker", "Joost van Dijk", "Anouk Smit"],
    "de_DE": ["Julia Becker", "Stefan Koch", "Anna Richter", "Lukas Wolf"],
    "fr_FR": ["Camille Moreau", "Nicolas Girard", "Claire Fontaine", "Hugo Lefèvre"],
}
SEGMENTS = ("enterprise", "mid_market", "small")
# half a year of invoices: about 230, each delivered through the real pipeline (PDF, UBL, mail)
DEMO_HISTORY_DAYS = 183
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


def credit_limit_for(owed, behaviour, segment):
    """The credit limit a demo customer got, from what it owes now and how it pays.

    Chronic late payers are over it (their limit is 80 % of what they owe), slow payers close to it
    (owing about 90 % of it), punctual payers well within it (at most 40 % used; at least a floor
    per segment). Rounded to a hundred (over, near) or a thousand (within).
    """
    floors = {"enterprise": 50000.0, "mid_market": 20000.0, "small": 8000.0}
    if behaviour == "chronic" and owed > 1000:
        return math.floor(owed * 0.8 / 100) * 100
    if behaviour == "slow" and owed > 1000:
        return math.ceil(owed / 0.9 / 100) * 100
    return max(floors.get(segment, 8000.0), math.ceil(owed * 2.5 / 1000) * 1000)


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
        """Build the demo book (called from demo/ar_suite_demo.xml).

        Invoices are created, then delivered through Odoo's sending pipeline as each customer
        asked (e-mail, portal, Peppol, cXML, letter, statement), then paid as each customer
        pays; the dunning history is made by executing the real runs of the past weeks.
        """
        t0 = time.time()
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True))
        company = self.with_env(env)._ar_demo_company()
        demo = self.with_env(env).with_company(company)
        customers = demo._ar_demo_customers(company)
        t1 = time.time()
        invoices, plan = demo._ar_demo_invoices(company, customers)
        t2 = time.time()
        demo._ar_demo_deliver(company, customers, invoices)
        t3 = time.time()
        open_invoices = demo._ar_demo_payments(company, invoices, plan)
        t4 = time.time()
        demo._ar_demo_modules(company, customers, invoices, open_invoices)
        _logger.info(
            "ar_suite demo timing: customers %.1fs, invoices %.1fs, delivery %.1fs, payments %.1fs, modules %.1fs",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            time.time() - t4,
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
                "logo": self._ar_demo_logo(),
                "report_footer": "Lumen Technical Services NV · Kunstlaan 24, 1000 Brussel · BTW BE0246697724 · "
                "IBAN BE68 5390 0754 7034",
            }
        )
        company.partner_id.write(
            {"peppol_eas": "0208", "peppol_endpoint": "0246697724", "lang": self._ar_demo_lang("nl_BE")}
        )
        self._ar_demo_mail_server()
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
        # the demo's people work in Dutch (Belgium), like the company
        (users - self.env.ref("base.user_admin")).partner_id.write({"lang": self._ar_demo_lang("nl_BE")})
        buyer = self.env.ref("ar_suite.partner_buyer_company_demo")
        buyer.write({"lang": self._ar_demo_lang("nl_BE")})
        return company

    @api.model
    def _ar_demo_logo(self):
        """The demo company's logo: a lamp-like mark and the word LUMEN, drawn here (no third-party mark)."""
        from PIL import Image, ImageDraw, ImageFont

        image = Image.new("RGBA", (520, 160), (255, 255, 255, 0))
        draw = ImageDraw.Draw(image)
        navy, amber = (22, 48, 82, 255), (245, 166, 35, 255)
        draw.rounded_rectangle((8, 8, 152, 152), radius=28, fill=navy)
        draw.ellipse((44, 30, 116, 102), fill=amber)
        draw.rectangle((64, 104, 96, 116), fill=(255, 255, 255, 255))
        draw.rectangle((68, 120, 92, 128), fill=(255, 255, 255, 255))
        for x0, y0, x1, y1 in ((24, 64, 38, 68), (122, 64, 136, 68), (78, 12, 82, 24)):
            draw.rectangle((x0, y0, x1, y1), fill=amber)
        try:
            font = ImageFont.load_default(size=84)
        except TypeError:  # Pillow < 10.1: the bitmap font has one size
            font = ImageFont.load_default()
        draw.text((176, 30), "LUMEN", font=font, fill=navy)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue())

    @api.model
    def _ar_demo_mail_server(self):
        """Outgoing mail goes to `make run`'s local sink (scripts/mailsink.py), never out."""
        port = int(os.environ.get("AR_DEMO_SMTP_PORT") or 1025)
        self.env["ir.mail_server"].create(
            {
                "name": "Demo mail sink (make run, 127.0.0.1)",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_encryption": "none",
                "sequence": 1,
            }
        )
        # the links in the e-mails (Pay now) point at the server `make run` starts
        base_url = os.environ.get("AR_DEMO_BASE_URL")
        if base_url:
            self.env["ir.config_parameter"].sudo().set_param("web.base.url", base_url)

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
        contacts = self._ar_demo_contacts(partners, buyer)
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        result = []
        for i, (partner, info) in enumerate(zip(partners, meta, strict=True)):
            method = wanted[i % len(wanted)] if partner.is_company else "email"
            if partner == buyer:
                method = "email"
            vals = {"invoice_sending_method": method, "user_id": accountant.id}
            vals.update(self._ar_demo_channel_vals(partner, method, i))
            if segment_field:
                vals["ar_segment"] = info["segment"]
            if "ar_invoice_contact_ids" in partner._fields and contacts.get(partner):
                vals["ar_invoice_contact_ids"] = [Command.set(contacts[partner].ids)]
            if "ar_invoice_grouping" in partner._fields and method == "email" and i in (6, 24):
                # two customers asked for one monthly statement instead of invoice by invoice
                vals.update(ar_invoice_grouping="statement", ar_statement_period="monthly", ar_statement_day=1)
            partner.with_company(company).write(vals)
            result.append((partner, dict(info, method=method, rng=random.Random(rng.random()))))
        return result

    @api.model
    def _ar_demo_contacts(self, partners, buyer):
        """{company: its invoice contact}: a person speaking the company's language."""
        vals_list, owners = [], []
        for index, partner in enumerate(partners.filtered("is_company") - buyer):
            names = DEMO_CONTACTS.get(partner.lang) or DEMO_CONTACTS["nl_BE"]
            name = names[index % len(names)]
            domain = (partner.email or "example.example").split("@")[-1]
            local = name.split()[0].lower().replace("è", "e").replace("é", "e")
            vals_list.append(
                {
                    "name": name,
                    "parent_id": partner.id,
                    "type": "invoice",
                    "function": "Accounts payable",
                    "email": f"{local}@{domain}",
                    "lang": partner.lang,
                }
            )
            owners.append(partner)
        created = self.env["res.partner"].create(vals_list)
        result = dict(zip(owners, created, strict=True))
        result[buyer] = self.env.ref("ar_suite.partner_buyer_demo")
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
                    # the demo's local AP endpoint, set when the invoices are delivered
                    "ar_cxml_endpoint": f"http://127.0.0.1:9/cxml/inbound/{index}",
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
        """Six months of invoices, and when each customer will pay them (its behaviour)."""
        today = fields.Date.context_today(self)
        journal = self.env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        tax = company.account_sale_tax_id
        move_vals, plan = [], []
        for partner, info in customers:
            rng = info["rng"]
            step = {"enterprise": 30, "mid_market": 40, "small": 50}[info["segment"]]
            day = today - timedelta(days=DEMO_HISTORY_DAYS - rng.randint(0, 10))
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
                        "invoice_user_id": accountant.id,
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
        return invoices, plan

    @api.model
    def _ar_demo_payments(self, company, invoices, plan):
        """Payments: one per paid invoice, on the date the customer's behaviour gives."""
        today = fields.Date.context_today(self)
        bank = self.env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
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
        return invoices.filtered(lambda m: m.payment_state in ("not_paid", "partial"))

    # ------------------------------------------------------------------ delivery
    @api.model
    def _ar_demo_deliver(self, company, customers, invoices):
        """Deliver every invoice as its customer asked, through Odoo's sending pipeline
        (account.move.send, as the batch Send does) and each channel's own code: e-mail with
        the PDF and the pay link, portal notification, Peppol through the sandbox access point,
        cXML to a local AP endpoint, the postal letter print batch, monthly statements. The
        accountant sends; the trace, chatter and mails are dated on the day each was sent."""
        if "ar_delivery_state" not in self.env["account.move"]._fields:
            return
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        # Odoo's own demo invoices of the company (Acme, Azure Interior, ...) are in the book the
        # newcomer sees: they are delivered too, on their customers' (default) channel
        invoices |= self.env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                ("id", "not in", invoices.ids),
            ]
        )
        # mails are queued, not sent one by one: the mail queue cron sends them to the sink
        Send = self.env["account.move.send"].with_company(company).with_context(mail_notify_force_send=False)
        self._ar_demo_peppol_setup(company, customers)
        # the demo's AP endpoint runs on this machine (http on 127.0.0.1, which ar_customer_centric accepts for
        # loopback only): an internal address, allowed here as an administrator allows it
        self.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", "1")
        with self._ar_demo_cxml_endpoint() as cxml_url:
            self._ar_demo_point_cxml(company, customers, cxml_url)
            # in the order they were issued, a batch per month as the accountant sends them
            by_month = {}
            for invoice in invoices.sorted(lambda m: (m.invoice_date, m.id)):
                by_month.setdefault(invoice.invoice_date.strftime("%Y-%m"), []).append(invoice.id)
            t_pdf = time.time()
            for ids in by_month.values():
                # the channel each customer asked (or its fallback), spelled out as in the Send
                # wizard: Odoo's own account_peppol would otherwise add its access point for
                # every buyer its (demo-mode) lookup finds, next to the channel asked
                by_method = {}
                for move in self.env["account.move"].browse(ids):
                    method, _is_fallback = Send._ar_resolve_sending_method(move)
                    by_method.setdefault(method, []).append(move.id)
                for method, method_ids in by_method.items():
                    batch = self.env["account.move"].browse(method_ids)
                    first_message = self._ar_demo_last_message_id()
                    Send._generate_and_send_invoices(
                        batch,
                        allow_raising=False,
                        sending_methods=[method],
                        author_user_id=accountant.id,
                        author_partner_id=accountant.partner_id.id,
                    )
                    self._ar_demo_backdate(batch, first_message)
            _logger.info("ar_suite demo timing: %s invoices sent in %.1fs", len(invoices), time.time() - t_pdf)
        self._ar_demo_letters(company)
        self._ar_demo_statements(company, invoices)

    @api.model
    def _ar_demo_point_cxml(self, company, customers, cxml_url):
        for partner, info in customers:
            if info["method"] == "ar_cxml":
                partner.with_company(company).ar_cxml_endpoint = f"{cxml_url}/{partner.id}"

    @api.model
    def _ar_demo_send_queued(self, company, customers):
        """Deliver the invoices waiting for Odoo's sending cron (the interest of a completed payment plan) as the
        cron does, on each customer's channel, without its commit (the install is one transaction)."""
        queued = self.env["account.move"].search(
            [("company_id", "=", company.id), ("sending_data", "!=", False), ("state", "=", "posted")]
        )
        if not queued:
            return
        Send = self.env["account.move.send"].with_company(company).with_context(mail_notify_force_send=False)
        with self._ar_demo_cxml_endpoint() as cxml_url:
            self._ar_demo_point_cxml(company, customers, cxml_url)
            Send._generate_and_send_invoices(queued, from_cron=True)

    @api.model
    def _ar_demo_last_message_id(self):
        return self.env["mail.message"].search([], order="id desc", limit=1).id or 0

    @api.model
    def _ar_demo_backdate(self, moves, after_message_id, when=None):
        """Date the trace of a delivery on the day it happened (the invoice date, 9:00)."""
        for move in moves:
            moment = when or datetime.combine(move.invoice_date, datetime.min.time()) + timedelta(hours=9)
            messages = self.env["mail.message"].search(
                [("model", "=", "account.move"), ("res_id", "=", move.id), ("id", ">", after_message_id)]
            )
            messages.write({"date": moment})
            logs = move.ar_delivery_log_ids.filtered(lambda log: log.date_done)
            logs.sudo().write({"date_done": moment})
            if move.ar_delivered_on:
                move.sudo().write({"ar_delivered_on": moment})

    @api.model
    @contextmanager
    def _ar_demo_cxml_endpoint(self):
        """URL of the buyers' AP network for the demo: `make run`'s sink (AR_DEMO_CXML_URL), or a
        local one served here while the demo is built. It answers as the cXML User's Guide shows
        a successful InvoiceDetailRequest: a Response with <Status code="200" text="OK"/>."""
        url = os.environ.get("AR_DEMO_CXML_URL")
        if url:
            yield url.rstrip("/")
            return

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stamp = datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S+00:00")
                body = (
                    f'<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="{time.time()}@demo" '
                    f'timestamp="{stamp}"><Response><Status code="200" text="OK"/></Response></cXML>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/cxml/inbound"
        finally:
            server.shutdown()
            server.server_close()

    @api.model
    def _ar_demo_peppol_setup(self, company, customers):
        """The sandbox access point ("DEMO: sends nothing") and the Peppol customers' lookup as
        the sandbox answers it. The official rules are found as ar_peppol_edi finds them."""
        if "ar.peppol.connector" not in self.env:
            return
        connector = self.env["ar.peppol.connector"].create(
            {"name": "Sandbox access point (DEMO: sends nothing)", "provider": "sandbox", "company_id": company.id}
        )
        company.ar_peppol_connector_id = connector
        for partner, info in customers:
            if info["method"] == "ar_peppol" and partner.peppol_eas and partner.peppol_endpoint:
                partner.write(
                    {
                        "ar_peppol_lookup_state": "reachable",
                        "ar_peppol_lookup_date": fields.Datetime.now(),
                        "ar_peppol_lookup_message": "Sandbox (demo): registered for Peppol BIS Billing 3.0.",
                    }
                )

    @api.model
    def _ar_demo_peppol_transmit(self, company):
        """Hand the queued Peppol invoices to the sandbox access point and play the network's
        answers (delivered, then the buyer's response) on all but the newest few."""
        if "ar.peppol.connector" not in self.env:
            return
        Move = self.env["account.move"]
        queued = Move.search([("company_id", "=", company.id), ("ar_peppol_state", "=", "queued")])
        newest = queued.sorted("invoice_date", reverse=True)
        for index, move in enumerate(newest):
            if index == 0:
                continue  # still waiting for the transmission cron
            move._ar_peppol_transmit()
            if index == 1 or move.ar_peppol_state != "sent":
                continue
            connector = move.ar_peppol_connector_id
            move._ar_peppol_apply_event(connector._fetch_status(move))  # delivered
            if index in (2, 3):
                continue
            if index == 4:
                code, reason = "RE", "Purchase order number PO-2291 is missing; please reissue."
            elif move.payment_state in ("paid", "in_payment"):
                code, reason = "PD", "Paid by bank transfer."
            else:
                code, reason = "AP", "Approved for payment."
            if code == "PD":
                move._ar_peppol_apply_event({"response_code": "AP"})  # paid only follows accepted
            move._ar_peppol_apply_event({"response_code": code, "reason": reason})

    @api.model
    def _ar_demo_letters(self, company):
        """Print the postal letter batches (one per month), leaving this week's letters queued."""
        if "ar.delivery.log" not in self.env:
            return
        Log = self.env["ar.delivery.log"]
        queued = Log.search([("company_id", "=", company.id), ("channel", "=", "ar_letter"), ("state", "=", "queued")])
        limit = fields.Date.context_today(self) - timedelta(days=7)
        old = queued.filtered(lambda log: log.move_id and log.move_id.invoice_date < limit)
        if old:
            self.env["account.move"]._ar_print_letter_batch(old)

    @api.model
    def _ar_demo_statements(self, company, invoices):
        """Monthly statements of the statement customers, for the last three months."""
        if "ar.customer.statement" not in self.env:
            return
        Statement = self.env["ar.customer.statement"]
        today = fields.Date.context_today(self)
        for months_back in (2, 1, 0):
            first = (today.replace(day=1) - timedelta(days=31 * months_back)).replace(day=1)
            try:
                Statement._ar_generate_statements(now=datetime.combine(first, datetime.min.time()) + timedelta(hours=9))
            except UserError as exc:  # the demo goes on; the log says why
                _logger.warning("ar_suite demo: statements of %s not issued: %s", first, exc)

    @api.model
    def _ar_demo_modules(self, company, customers, invoices, open_invoices):
        """Feature-module data: the Peppol network's answers, disputes, autopay and the dunning history."""
        self._ar_demo_peppol_transmit(company)
        self._ar_demo_disputes(company, customers, open_invoices)
        self._ar_demo_autopay(company, customers)
        self._ar_demo_dunning(company, open_invoices, customers)
        self._ar_demo_credit(company, customers)

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

    # Dunning: the ladder history of the open invoices and today's run waiting for review
    @api.model
    def _ar_demo_dunning(self, company, open_invoices, customers=()):
        """Execute the dunning runs of the past weeks (reminders e-mailed and printed), then
        prepare today's run as a preview for the accountant. Between the runs, on their days, the
        customers' payment plans are proposed, accepted and paid (``_ar_demo_plan_steps``)."""
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
        # the history: the runs of the past weeks, previewed and executed as the accountant does
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        # sudo: the accountant runs them (author of the reminders) with the install's rights
        Run = self.env["ar.dunning.run"].with_user(accountant).sudo().with_company(company)
        self._ar_demo_plan_rules(policy)
        steps = self._ar_demo_plan_steps(company, customers, today)
        for days_back in (56, 42, 28, 14, 7):
            day = today - timedelta(days=days_back)
            steps = self._ar_demo_plan_play(steps, before=day)
            first_message = self._ar_demo_last_message_id()
            try:
                Run._run_batch(date=day, policy_ids=policy.ids, company=company, execute=True)
            except (UserError, AccessError) as exc:  # the demo goes on; the log says what the run refused
                _logger.warning("ar_suite demo: the dunning run of %s was not executed: %s", day, exc)
                continue
            moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=10)
            self.env["mail.message"].search([("id", ">", first_message)]).write({"date": moment})
        self._ar_demo_plan_play(steps, before=today + timedelta(days=1))
        self._ar_demo_send_queued(company, customers)
        self.env["ar.dunning.run"]._run_batch(date=today, policy_ids=policy.ids, company=company)

    # Payment plans: the policy's rules, then plans proposed, reviewed and paid on their days
    @api.model
    def _ar_demo_plan_rules(self, policy):
        """The demo policy's payment plan rules (Dunning > Policies > Payment Plan Rules), first match applies:

        - small businesses and private customers: up to 3 instalments within 3 months, at least EUR 50 each, no
          interest, accepted at once: a private customer's plan so stays within the product's consumer policy
          (free of interest and costs, within 3 months; not a legal threshold under Directive (EU) 2023/2225,
          see ar_dunning/readme/USAGE.md);
        - customers who pay late (firm tone): up to 6 monthly instalments, each reviewed by the accountant;
        - everyone else: up to 6 instalments within 6 months, at least EUR 100 each, at most EUR 25,000 in all,
          the statutory interest keeps running, accepted at once.
        """
        if "ar.dunning.plan.rule" not in self.env or policy.plan_rule_ids:
            return
        rules = [
            {
                "sequence": 10,
                "segment": "small",
                "max_instalments": 3,
                "min_instalment_amount": 50.0,
                "max_months": 3,
                "interest": False,
                "auto_accept": True,
            },
            {
                "sequence": 20,
                "tone": "firm",
                "max_instalments": 6,
                "min_instalment_amount": 100.0,
                "max_months": 6,
                "interest": True,
                "auto_accept": False,
            },
            {
                "sequence": 30,
                "max_instalments": 6,
                "min_instalment_amount": 100.0,
                "max_total": 25000.0,
                "max_months": 6,
                "interest": True,
                "auto_accept": True,
            },
        ]
        if "segment" not in self.env["ar.dunning.plan.rule"]._fields:  # ar_dunning without the suite's segments
            rules = rules[1:]
        policy.write({"plan_rule_ids": [Command.create(vals) for vals in rules]})
        # the demo company is taken to have checked its country's consumer-credit law (Settings > Accounting >
        # Follow-up: late-payment law), so the private customer's plan shows the confirmed-at-once flow; a real
        # company leaves it off until it has (every private customer's plan is then reviewed)
        policy.company_id.ar_plan_consumer_confirmed = True

    @api.model
    def _ar_demo_plan_steps(self, company, customers, today):
        """The payment plans of the demo, as [(day, step)]: each plan is proposed on its day as the buyer
        does it (the portal's or the signed link's call of ``_ar_propose``), accepted by the accountant the
        next day when its rule sends it for review, and its instalments are paid on their dates through
        Odoo's Register Payment. The dunning runs in between follow them, so that today:

        - a customer has paid both instalments of its plan: completed;
        - a customer paid the first of three monthly instalments and missed the second: the plan broke
          after the grace days and today's run resumes the reminders at the level reached before;
        - the portal buyer proposed three monthly instalments for its oldest invoice (reviewed: firm tone),
          the accountant accepted and the first one is paid: on schedule;
        - a small business missed the first of three weekly instalments, within the grace days: late;
        - a private customer proposed three monthly instalments today: accepted at once;
        - a customer proposed eight monthly instalments today: waiting for the accountant's review.
        """
        if "ar.dunning.plan" not in self.env or not customers:
            return []
        # second instalment of the broken plan 12 days ago: late at the run of a week ago, broken today
        broken_first = today - timedelta(days=12) - relativedelta(months=1)
        # each plan: its kind, the day it is proposed, its first instalment, count and frequency, the instalments
        # paid (each on its date) and the buyer's note
        story = [
            dict(
                kind="completed",
                day=today - timedelta(days=52),
                first=today - timedelta(days=46),
                count=2,
                frequency="biweekly",
                paid=(1, 2),
            ),
            dict(
                kind="broken",
                day=broken_first - timedelta(days=2),
                first=broken_first,
                count=3,
                frequency="monthly",
                paid=(1,),
            ),
            dict(
                kind="buyer",
                day=today - timedelta(days=26),
                first=today - timedelta(days=20),
                count=3,
                frequency="monthly",
                paid=(1,),
                note="Ons seizoen begint in maart: wij betalen deze factuur graag in drie maanden.",
            ),
            dict(
                kind="late", day=today - timedelta(days=6), first=today - timedelta(days=3), count=3, frequency="weekly"
            ),
            dict(kind="consumer", day=today, first=today + timedelta(days=7), count=3, frequency="monthly"),
            dict(kind="review", day=today, first=today + timedelta(days=7), count=8, frequency="monthly"),
        ]
        try:
            import freezegun  # noqa: F401 (Odoo's requirements: the past days are replayed with the clock set)
        except ImportError:
            _logger.warning("ar_suite demo: freezegun missing: only today's payment plans are made")
            story = [row for row in story if row["day"] >= today]
        shared = {"used": self.env["res.partner"], "customers": customers}
        # as a user does it: the plans' chatter and state tracking are kept (the demo book skips them elsewhere)
        demo = self.with_context(tracking_disable=False, mail_create_nolog=False, mail_notrack=False)
        return sorted(
            ((row["day"], functools.partial(demo._ar_demo_plan_propose, company, shared, row)) for row in story),
            key=lambda step: step[0],
        )

    @api.model
    def _ar_demo_plan_play(self, steps, before):
        """Play the steps of the days before ``before``, each on its day (the clock set to 10:00 that day, as
        the plan API and Odoo's payment wizard read today's date); a step may add later steps. Returns the rest."""
        steps = list(steps)
        today = fields.Date.context_today(self)
        while steps and steps[0][0] < before:
            day, step = steps.pop(0)
            with self._ar_demo_clock(day, today):
                try:
                    more = step(day) or []
                except UserError as exc:  # the demo goes on; the log says what the plan API refused
                    _logger.warning("ar_suite demo: a payment plan step of %s failed: %s", day, exc)
                    more = []
                # the chatter's tracking of that day (state changes) is written on that day, as at its commit
                self.env.flush_all()
                self.env.cr.precommit.run()
            self.env.invalidate_all()
            steps = sorted(steps + list(more), key=lambda s: s[0])
        return steps

    @api.model
    @contextmanager
    def _ar_demo_clock(self, day, today):
        if day >= today:
            yield
            return
        import freezegun

        with freezegun.freeze_time(datetime.combine(day, datetime.min.time()) + timedelta(hours=10), tick=True):
            yield

    @api.model
    def _ar_demo_plan_invoices(self, company, shared, kind, day):
        """The open invoices the customer of this story picks on ``day``: overdue then, never paid since,
        among those a plan may cover (``_ar_plan_candidates``, as the portal lists them)."""
        Plan = self.env["ar.dunning.plan"]
        buyer = self.env.ref("ar_suite.partner_buyer_company_demo")
        policy = buyer._ar_dunning_policy(company)
        pool = self.env["res.partner"].concat(*(partner for partner, _info in shared["customers"]))
        pool = pool.with_company(company)
        if "ar_autopay" in pool._fields:  # autopay collects the instalments itself: not this story
            pool = pool.filtered(lambda p: not p.ar_autopay)
        pool -= shared["used"]
        if kind == "buyer":
            pool = pool & buyer
        else:
            pool -= buyer
            private = kind == "consumer"
            pool = pool.filtered(lambda p: (p._ar_dunning_customer_type() == "b2c") == private)
        tones = pool._ar_dunning_tone_data(policy=policy) if pool else {}
        # the customer a newcomer should see in that state: a good payer's plan is accepted at once, a late
        # payer's reviewed
        prefer = {"completed": ("friendly", "neutral"), "late": ("friendly", "neutral"), "review": ("firm",)}
        choices = []
        for partner in pool:
            moves = Plan._ar_plan_candidates(partner, company).filtered(
                lambda m: (
                    m.payment_state == "not_paid"
                    and m.invoice_date <= day
                    and (m.invoice_date_due < day or kind in ("consumer", "review"))
                )
            )
            if moves:
                preferred = tones[partner.id][1] in prefer.get(kind, (tones[partner.id][1],))
                choices.append((not preferred, moves[0].invoice_date_due, partner.id, moves))
        if not choices:
            return self.env["account.move"]
        moves = min(choices, key=lambda c: c[:3])[3]
        return moves[:1] if kind in ("buyer", "completed") else moves[:2]

    @api.model
    def _ar_demo_plan_propose(self, company, shared, row, day):
        """The customer proposes its plan: the buyer from the portal, the others from the signed pay-all link of
        a reminder (as a guest), through the same call as the portal's form."""
        kind, paid = row["kind"], row.get("paid", ())
        moves = self._ar_demo_plan_invoices(company, shared, kind, day)
        if not moves:
            _logger.warning("ar_suite demo: no invoice for the %s payment plan", kind)
            return []
        partner = moves.commercial_partner_id
        shared["used"] |= partner
        buyer_user = self.env.ref("ar_suite.user_buyer_demo")
        if kind == "buyer":
            user, requester, source = buyer_user, buyer_user.partner_id, "portal"
        else:
            user, requester, source = self.env.ref("base.public_user"), None, "guest"
        # sudo: as the portal's controller, which checked the invoices are the buyer's (here: the demo's choice);
        # in the buyer's language, as the portal and the reminder's link show it
        plan = (
            self.env["ar.dunning.plan"]
            .with_context(lang=(requester or partner).lang or self.env.lang)
            .with_user(user)
            .sudo()
            .with_company(company)
            ._ar_propose(
                moves,
                row["count"],
                row["frequency"],
                row["first"],
                note=row.get("note"),
                source=source,
                requester=requester,
                user=user if source == "portal" else None,
            )
            .with_env(self.env)
        )
        steps = []
        if plan.state == "proposed" and kind != "review":
            steps.append((day + timedelta(days=1), functools.partial(self._ar_demo_plan_accept, company, plan, paid)))
        elif plan.state == "active":
            steps += self._ar_demo_plan_payments(company, plan, paid)
        return steps

    @api.model
    def _ar_demo_plan_accept(self, company, plan, paid, day):
        """The accountant accepts the plan the rules sent for review (its To-Do activity)."""
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        plan.with_user(accountant).with_company(company).action_accept()
        return self._ar_demo_plan_payments(company, plan, paid)

    @api.model
    def _ar_demo_plan_payments(self, company, plan, paid):
        return [
            (instalment.date, functools.partial(self._ar_demo_plan_pay, company, instalment))
            for instalment in plan.instalment_ids.sorted("number")
            if instalment.number in paid
        ]

    @api.model
    def _ar_demo_plan_pay(self, company, instalment, day):
        """The customer's transfer of the instalment arrives on its date; the accountant registers it on the
        plan's invoices (Register Payment: Odoo proposes the next instalment and reconciles it in due order)."""
        accountant = self.env.ref("ar_suite.user_accountant_demo")
        bank = self.env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
        moves = instalment.line_ids.move_id
        wizard = (
            self.env["account.payment.register"]
            .with_user(accountant)
            .with_company(company)
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"journal_id": bank.id, "group_payment": True, "payment_date": day})
        )
        wizard.action_create_payments()
        if not instalment.currency_id.is_zero(instalment.amount_residual):
            _logger.warning(
                "ar_suite demo: instalment %s of %s still owes %s after its payment",
                instalment.number,
                instalment.plan_id.display_name,
                instalment.amount_residual,
            )
        return []

    # Credit monitoring: Odoo's own credit limits, then the nightly assessment
    @api.model
    def _ar_demo_credit(self, company, customers):
        """Odoo's own credit limit on the demo's business customers (Settings → Invoicing → Sales Credit
        Limit enabled), set against what each owes now as a credit controller would have set it: the
        chronic late payers have run past theirs, the slow ones are close to it, the punctual ones have
        room. Then the nightly credit assessment runs once, so the grades, the over-limit alerts and the
        dashboard's figures are there on the first login."""
        if "ar.credit.risk" not in self.env:
            return
        company.account_use_credit_limit = True
        businesses = [(partner, info) for partner, info in customers if partner.is_company]
        Partner = self.env["res.partner"].with_company(company)
        exposure = Partner.browse([p.id for p, _info in businesses])._ar_credit_exposure_data()
        for partner, info in businesses:
            owed = exposure[partner.id]["exposure"]
            limit = credit_limit_for(owed, info["behaviour"], info["segment"])
            partner.with_company(company).credit_limit = limit
        # the nightly job's own code, run once (the demo is installed as the superuser, as the cron runs)
        self.env["ar.credit.risk"].with_company(company)._compute_company()

    @api.model
    def _ar_demo_interest_rates(self, today):
        """Continue the seeded statutory rates up to the current half-year (flagged 'to check')
        so that the demo's reminders claim interest whatever day `make run` is started."""
        Rate = self.env["ar.dunning.interest.rate"]
        france = self.env.ref("base.fr")
        if not Rate.search_count([("country_id", "=", france.id), ("customer_type", "=", "b2b")]):
            # The suite ships BE/NL/DE rates only; the demo's French customers are businesses:
            # their rate is entered by hand, as the run asks the accountant to
            Rate.create(
                [
                    {
                        "country_id": france.id,
                        "customer_type": "b2b",
                        "date_from": date_from,
                        "date_to": date_to,
                        # ECB main refinancing rate 2.15 % (from 11 June 2025) + 10 points
                        "rate": 12.15,
                        "legal_basis": "Code de commerce, art. L441-10 II: taux de la BCE + 10 points",
                    }
                    for date_from, date_to in (
                        (date(2025, 7, 1), date(2025, 12, 31)),
                        (date(2026, 1, 1), date(2026, 6, 30)),
                    )
                ]
            )
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
