from contextlib import contextmanager, nullcontext
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@contextmanager
def on_day(day):
    """Live ``day`` when it is after today: a dunning run is sent on its date (``_ar_check_sendable``), and
    promises and plans break on the day it happens, so a test moves the clock rather than dating runs ahead."""
    with freeze_time(day) if day and day > fields.Date.today() else nullcontext():
        yield


class ArDunningCommon(AccountTestInvoicingCommon):
    RUN_DATE = date(2026, 3, 2)  # a Monday

    @classmethod
    def setup_independent_company(cls, **kwargs):
        # Belgian, Dutch and German companies keep their books in euro (the test company's default is USD)
        kwargs.setdefault("currency_id", cls._enable_currency("EUR").id)
        return super().setup_independent_company(**kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, mail_notrack=True, no_reset_password=True)
        )
        cls.company = cls.company_data["company"]
        cls.company.email = "credit@company.example"
        # a Belgian seller: its law governs its business customers' contracts unless they chose another (Rome I art. 4)
        cls.change_company_country(cls.company, cls.env.ref("base.be"))
        cls.policy = cls.company._ar_dunning_create_default_policy()
        cls.level1, cls.level2, cls.level3 = cls.policy._get_ladder()
        be, nl, de = cls.env.ref("base.be"), cls.env.ref("base.nl"), cls.env.ref("base.de")
        Partner = cls.env["res.partner"]
        cls.be_b2b = Partner.create(
            {
                "name": "Brouwerij Vandamme NV",
                "is_company": True,
                "country_id": be.id,
                "email": "ap@vandamme.example",
                "vat": "BE0477472701",
            }
        )
        cls.be_b2c = Partner.create({"name": "Jan Peeters", "country_id": be.id, "email": "jan@peeters.example"})
        cls.nl_b2c = Partner.create({"name": "Sanne de Vries", "country_id": nl.id, "email": "sanne@devries.example"})
        cls.de_b2b = Partner.create(
            {
                "name": "Müller Maschinenbau GmbH",
                "is_company": True,
                "country_id": de.id,
                "email": "buchhaltung@mueller.example",
            }
        )
        # the German rules (§ 286, § 288 BGB) are tested through this customer: its contract chose German law
        cls.de_b2b.with_company(cls.company).ar_dunning_governing_law_id = de

    @classmethod
    def _invoice(cls, partner, amount, due, move_type="out_invoice", post=True):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": due,
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create({"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def _run(self, on_date=None, partners=None, execute=False, **ctx):
        Run = self.env["ar.dunning.run"].with_context(**ctx)
        on_date = on_date or self.RUN_DATE
        with on_day(on_date):
            return Run._run_batch(
                date=on_date,
                policy_ids=self.policy.ids,
                partner_ids=(partners.ids if partners else None),
                execute=execute,
                company=self.company,
            )

    def _line(self, run, partner):
        return run.line_ids.filtered(lambda line: line.partner_id == partner)

    @staticmethod
    def _days(n):
        return ArDunningCommon.RUN_DATE - timedelta(days=n)
