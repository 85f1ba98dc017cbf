import shutil
import subprocess
from datetime import date, timedelta
from unittest.mock import patch

import psycopg2.errors
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, new_test_user, tagged
from odoo.tools import format_amount, format_date, mute_logger

from odoo.addons.ar_dunning.tools.consumer_credit_de import call_in_warning_deadline, german_holidays

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningPlan(ArDunningCommon):
    """Payment plans (issue 16, slice 2): instalments booked as due lines, limits, law, dunning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env, login="plan_collector", groups="account.group_account_invoice", company_id=cls.company.id
        )
        cls.policy.write({"collector_id": cls.collector.id, "plan_grace_days": 5})
        # the company has checked its country's consumer-credit law (see test_consumer_plan_reviewed_by_default)
        cls.company.ar_plan_consumer_confirmed = True
        cls.rule = cls.env["ar.dunning.plan.rule"].create(
            {
                "policy_id": cls.policy.id,
                "max_instalments": 6,
                "min_instalment_amount": 50,
                "max_total": 5000,
                "max_months": 6,
                "auto_accept": True,
            }
        )
        cls.inv1 = cls._invoice(cls.be_b2b, 900, cls._days(20))
        cls.inv2 = cls._invoice(cls.be_b2b, 600, cls._days(18))
        cls.de_b2c = cls.env["res.partner"].create(
            {"name": "Lena Schmidt", "country_id": cls.env.ref("base.de").id, "email": "lena@schmidt.example"}
        )

    def setUp(self):
        super().setUp()
        self.freezer = freeze_time(self.RUN_DATE)
        self.freezer.start()
        self.addCleanup(self.freezer.stop)

    def _propose(self, moves, count, frequency="monthly", first=7, **kw):
        kw.setdefault("source", "portal")
        return self.env["ar.dunning.plan"]._ar_propose(
            moves, count, frequency, self.RUN_DATE + timedelta(days=first), **kw
        )

    def _usd_invoice(self, usd):
        """900 USD, invoiced and due 10 days ago."""
        inv = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.be_b2b.id,
                "currency_id": usd.id,
                "invoice_date": self._days(10),
                "invoice_date_due": self._days(10),
                "invoice_line_ids": [
                    Command.create({"name": "Service", "quantity": 1, "price_unit": 900, "tax_ids": []})
                ],
            }
        )
        inv.action_post()
        return inv

    @staticmethod
    def _terms(move):
        return move.line_ids.filtered(lambda ln: ln.display_type == "payment_term").sorted("date_maturity")

    # ------------------------------------------------------------------ booking

    def test_accepted_plan_books_one_due_line_per_instalment(self):
        preview = self.env["ar.dunning.plan"]._ar_plan_preview(
            self.inv1, 3, "monthly", self.RUN_DATE + timedelta(days=7)
        )
        self.assertEqual(preview["decision"], "accept", preview["reasons"])
        self.assertEqual([row["amount"] for row in preview["schedule"]], [300.0, 300.0, 300.0])
        plan = self._propose(self.inv1, 3)
        self.assertEqual(plan.state, "active")
        first = self.RUN_DATE + timedelta(days=7)
        dates = [first, first + relativedelta(months=1), first + relativedelta(months=2)]
        terms = self._terms(self.inv1)
        self.assertEqual(terms.mapped("date_maturity"), dates)
        self.assertEqual(terms.mapped("debit"), [300.0, 300.0, 300.0])
        self.assertEqual(self.inv1.amount_residual, 900.0, "the open amount does not change")
        self.assertEqual(self.inv1.invoice_date_due, dates[-1], "due date: the last instalment, as Odoo does")
        self.assertEqual(plan.instalment_ids.mapped("amount"), [300.0, 300.0, 300.0])
        self.assertEqual(plan.instalment_ids[0].line_ids, terms[0])
        # Odoo's own portal values show the first instalment as the next payment
        values = self.inv1._get_invoice_next_payment_values()
        self.assertEqual(values["next_amount_to_pay"], 300.0)
        self.assertEqual(values["next_due_date"], dates[0])
        self.assertEqual(values["installment_state"], "next")

    def test_several_invoices_split_pro_rata_with_the_remainder_last(self):
        plan = self._propose(self.inv1 | self.inv2, 4, "biweekly")
        self.assertEqual(self._terms(self.inv1).mapped("debit"), [225.0] * 4)
        self.assertEqual(self._terms(self.inv2).mapped("debit"), [150.0] * 4)
        self.assertEqual(plan.instalment_ids.mapped("amount"), [375.0] * 4)
        self.assertEqual(plan.amount_total, 1500.0)
        odd = self._invoice(self.be_b2b, 200, self._days(3))
        self._propose(odd, 3)
        self.assertEqual(self._terms(odd).mapped("debit"), [66.67, 66.67, 66.66])

    def test_invoice_in_another_currency(self):
        usd = self.setup_other_currency("USD", rates=[("2000-01-01", 2.0)])
        inv = self._usd_invoice(usd)
        plan = self._propose(inv, 3)
        self.assertEqual(plan.currency_id, usd)
        terms = self._terms(inv)
        self.assertEqual(terms.mapped("amount_currency"), [300.0, 300.0, 300.0])
        self.assertEqual(terms.mapped("debit"), [150.0, 150.0, 150.0], "the company-currency part pro rata")
        self.assertEqual(plan.instalment_ids.mapped("amount"), [300.0, 300.0, 300.0])
        self.assertEqual(inv.amount_residual, 900.0)

    def test_partly_paid_invoice_in_another_currency_after_a_rate_change(self):
        # 900 USD invoiced at 2 USD/EUR (450 EUR); 300 USD paid at 2.5 (120 EUR, the 30 EUR loss goes to an
        # exchange-difference entry): the plan spreads the 600 USD still open and the 300 EUR still open in
        # company currency, never the payment's rate and never the part already paid
        usd = self.setup_other_currency("USD", rates=[("2000-01-01", 2.0), (str(self._days(5)), 2.5)])
        inv = self._usd_invoice(usd)
        self._register_payment(inv, amount=300, currency_id=usd.id, payment_date=self._days(3))
        self.assertEqual((inv.amount_residual, inv.payment_state), (600.0, "partial"))
        plan = self._propose(inv, 2)
        self.assertEqual((plan.currency_id, plan.amount_total), (usd, 600.0))
        terms = self._terms(inv)
        paid = terms.filtered("reconciled")
        self.assertEqual((paid.amount_currency, paid.debit), (300.0, 150.0), "the paid part at the invoice's rate")
        self.assertEqual((terms - paid).mapped("amount_currency"), [300.0, 300.0])
        self.assertEqual((terms - paid).mapped("debit"), [150.0, 150.0])
        self.assertEqual(plan.instalment_ids.mapped("amount"), [300.0, 300.0])
        self.assertEqual(inv.amount_residual, 600.0)
        # the books still say 450 invoiced - 120 received - 30 exchange loss = 300 EUR owed, once
        receivable = self.env["account.move.line"].search(
            [("account_id", "=", paid.account_id.id), ("partner_id", "=", self.be_b2b.id), ("currency_id", "=", usd.id)]
        )
        posted = receivable.filtered(lambda ln: ln.parent_state == "posted")
        self.assertAlmostEqual(sum(posted.mapped("balance")), 300.0)
        # the first instalment paid at today's rate settles it exactly, in the invoice's currency
        self._register_payment(inv, amount=300, currency_id=usd.id, payment_date=self.RUN_DATE)
        first, second = plan.instalment_ids.sorted("number")
        self.assertEqual((first.amount_residual, second.amount_residual), (0.0, 300.0))

    def test_early_payment_discount_dropped(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2% 10 days, net 30",
                "early_discount": True,
                "discount_percentage": 2,
                "discount_days": 10,
                "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})],
            }
        )
        inv = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.be_b2b.id,
                "invoice_date": self.RUN_DATE,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create({"name": "Service", "quantity": 1, "price_unit": 600, "tax_ids": []})
                ],
            }
        )
        inv.action_post()
        self.assertTrue(self._terms(inv).discount_date)
        self._propose(inv, 2)
        self.assertFalse(any(self._terms(inv).mapped("discount_date")), "no early payment discount on an instalment")
        self.assertEqual(self._terms(inv).mapped("debit"), [300.0, 300.0])

    def test_partial_payment_allocated_to_instalments_in_order(self):
        plan = self._propose(self.inv1, 3)
        self._register_payment(self.inv1, amount=450)
        first, second, third = plan.instalment_ids.sorted("number")
        self.assertEqual((first.amount_residual, second.amount_residual, third.amount_residual), (0.0, 150.0, 300.0))
        self.assertEqual(first.state, "paid")
        self.assertEqual(plan.amount_paid, 450.0)
        self.assertEqual(plan.next_amount, 150.0)
        self._register_payment(self.inv1, amount=450)
        plan.invalidate_recordset()
        self.assertEqual(plan.state, "completed", "paid in full: the plan is completed")

    def test_partly_paid_invoice_keeps_its_payment(self):
        payment = self._register_payment(self.inv1, amount=300)
        plan = self._propose(self.inv1, 2)
        terms = self._terms(self.inv1)
        self.assertEqual(plan.amount_total, 600.0)
        paid = terms.filtered("reconciled")
        self.assertEqual((paid.debit, paid.date_maturity), (300.0, self._days(20)), "the paid part keeps its date")
        self.assertEqual((terms - paid).mapped("debit"), [300.0, 300.0])
        self.assertEqual(self.inv1.amount_residual, 600.0)
        receivable = payment.move_id.line_ids.filtered(lambda ln: ln.account_type == "asset_receivable")
        self.assertTrue(receivable.reconciled, "the payment stays reconciled with the invoice")

    def test_payment_arriving_before_acceptance_is_not_planned_twice(self):
        self.rule.auto_accept = False
        plan = self._propose(self.inv1, 3)
        self.assertEqual((plan.state, plan.amount_total), ("proposed", 900.0))
        self.assertEqual(len(self._terms(self.inv1)), 1, "nothing is booked before the accountant accepts")
        self._register_payment(self.inv1, amount=300)
        plan.with_user(self.collector).action_accept()
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.amount_total, 600.0)
        self.assertEqual(plan.instalment_ids.mapped("amount"), [200.0, 200.0, 200.0])
        self.assertEqual(self.inv1.amount_residual, 600.0)

    def test_no_promise_on_a_plan_invoice_and_no_plan_on_a_promised_one(self):
        self._propose(self.inv1, 3)
        with self.assertRaisesRegex(UserError, "cannot be promised"):
            self.env["ar.dunning.promise"]._ar_request(self.inv1, self.RUN_DATE + timedelta(days=5))
        self.env["ar.dunning.promise"]._ar_request(self.inv2, self.RUN_DATE + timedelta(days=5))
        with self.assertRaisesRegex(UserError, "cannot be paid in instalments"):
            self._propose(self.inv2, 3)

    def test_hashed_or_locked_invoice_refused_and_nothing_half_booked(self):
        self.rule.auto_accept = False
        plan = self._propose(self.inv1 | self.inv2, 3)
        self.env.cr.execute("UPDATE account_move SET inalterable_hash = 'x' WHERE id = %s", [self.inv2.id])
        self.inv2.invalidate_recordset(["inalterable_hash"])
        with self.assertRaisesRegex(UserError, f"{self.inv2.name}.*inalterability hash"):
            plan.action_accept()
        self.assertEqual(len(self._terms(self.inv1)), 1, "the other invoice is not booked either")
        self.env.cr.execute("UPDATE account_move SET inalterable_hash = NULL WHERE id = %s", [self.inv2.id])
        self.inv2.invalidate_recordset(["inalterable_hash"])
        self.company.fiscalyear_lock_date = self._days(1)
        with self.assertRaisesRegex(UserError, f"{self.inv1.name}.*locked period"):
            plan.action_accept()
        self.assertEqual(plan.state, "proposed")

    # ------------------------------------------------------------------ limits and law

    def test_beyond_the_limits_goes_to_review(self):
        plan = self._propose(self.inv1, 8)
        self.assertEqual(plan.state, "proposed")
        self.assertIn("More than 6 instalments", plan.review_reason)
        self.assertEqual(plan.activity_ids.user_id, self.collector)
        self.assertEqual(len(self._terms(self.inv1)), 1)
        preview = self.env["ar.dunning.plan"]._ar_plan_preview(
            self.inv1, 6, "weekly", self.RUN_DATE + timedelta(days=7)
        )
        self.assertEqual(preview["decision"], "refuse", "the invoice is under a plan already")
        plan.with_user(self.collector).action_accept()
        self.assertEqual(len(self._terms(self.inv1)), 8)
        self.assertFalse(plan.activity_ids)
        with self.assertRaises(UserError):
            plan.action_decline()
        small = self.env["ar.dunning.plan"]._ar_plan_preview(self.inv2, 6, "weekly", self.RUN_DATE)
        self.assertEqual(small["decision"], "accept", small["reasons"])
        self.rule.min_instalment_amount = 150
        small = self.env["ar.dunning.plan"]._ar_plan_preview(self.inv2, 6, "weekly", self.RUN_DATE)
        self.assertEqual(small["decision"], "review")
        self.assertEqual(
            self.env["ar.dunning.plan"]._ar_plan_preview(self.inv2, 1, "weekly", self.RUN_DATE)["decision"], "refuse"
        )
        with self.assertRaises(UserError):
            self._propose(self.inv2, 3, first=-1)

    def test_review_reason_in_the_reviewers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["de_DE"], overwrite=True)
        self.collector.lang = "en_US"
        Plan = self.env["ar.dunning.plan"].with_context(lang="de_DE")  # the buyer's portal in German
        preview = Plan._ar_plan_preview(self.inv1, 8, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertIn("Mehr als 6 Raten", " ".join(preview["reasons"]))
        plan = Plan._ar_propose(self.inv1, 8, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(plan.state, "proposed")
        self.assertIn("More than 6 instalments", plan.review_reason)
        # the reviewer's To-Do is in the reviewer's language too, not the buyer's
        self.assertEqual(plan.activity_ids.user_id, self.collector)
        self.assertIn("Accept or decline the payment plan", plan.activity_ids.summary)
        # the kanban shows the plan's life in order, whatever states hold plans
        Plans = self.env["ar.dunning.plan"].with_context(read_group_expand=True)
        groups = Plans.formatted_read_group([], ["state"], ["__count"])
        self.assertEqual([g["state"] for g in groups][:5], ["proposed", "active", "late", "broken", "completed"])
        self.assertIn("Ratenzahlungsvereinbarung von", plan.with_context(lang="de_DE").name)
        self.assertIn("Payment plan of", plan.with_context(lang="en_US").name)
        self.assertEqual(self.env["ar.dunning.plan"].name_search("Vandamme")[0][0], plan.id)

    def test_consumer_plan_longer_than_three_months_is_reviewed(self):
        inv = self._invoice(self.be_b2c, 600, self._days(10))
        Plan = self.env["ar.dunning.plan"]
        within = Plan._ar_plan_preview(inv, 3, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(within["decision"], "accept", within["reasons"])
        self.assertTrue(within["consumer"])
        longer = Plan._ar_plan_preview(inv, 4, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(longer["decision"], "review")
        self.assertIn("consumer-credit law", " ".join(longer["reasons"]))
        self.rule.interest = True
        with_interest = Plan._ar_plan_preview(inv, 3, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(with_interest["decision"], "review")
        self.assertFalse(with_interest["interest"], "a consumer's plan never carries interest")
        business = Plan._ar_plan_preview(self.inv1, 5, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(business["decision"], "accept", "a business plan of 5 months is within the rule")
        self.assertTrue(business["interest"])

    def test_consumer_plan_reviewed_until_the_company_checked_the_law(self):
        # CCD2 (Directive (EU) 2023/2225, applied since 20 November 2026): whether a free 3-month plan for a
        # consumer is consumer credit depends on the national transposition, which the product cannot know
        self.company.ar_plan_consumer_confirmed = False
        inv = self._invoice(self.be_b2c, 600, self._days(10))
        preview = self.env["ar.dunning.plan"]._ar_plan_preview(inv, 3, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(preview["decision"], "review")
        self.assertIn("2023/2225", " ".join(preview["reasons"]))
        business = self.env["ar.dunning.plan"]._ar_plan_preview(
            self.inv1, 3, "monthly", self.RUN_DATE + timedelta(days=7)
        )
        self.assertEqual(business["decision"], "accept", "business plans are not concerned")
        self.company.ar_plan_consumer_confirmed = True
        preview = self.env["ar.dunning.plan"]._ar_plan_preview(inv, 3, "monthly", self.RUN_DATE + timedelta(days=7))
        self.assertEqual(preview["decision"], "accept", preview["reasons"])

    def test_mandate_required(self):
        self.rule.require_mandate = True
        preview = self.env["ar.dunning.plan"]._ar_plan_preview(self.inv1, 3, "monthly", self.RUN_DATE)
        self.assertEqual(preview["decision"], "review")
        self.assertTrue(preview["limits"]["require_mandate"])

    def test_german_consumer_call_in_only_under_section_498(self):
        inv = self._invoice(self.de_b2c, 1000, self._days(5))
        self.rule.auto_accept = False
        # 24 weekly instalments of 41.67 (longer than 3 months: the accountant accepts it)
        plan = self._propose(inv, 24, "weekly", first=7)
        self.assertIn("consumer-credit law", plan.review_reason)
        plan.action_accept()
        # two consecutive instalments unpaid (83.33) are less than 10 % of 1,000
        with freeze_time(self.RUN_DATE + timedelta(days=15)):
            plan._ar_update_states()
            with self.assertRaisesRegex(UserError, "less than 10 %"):
                plan.action_call_in()
        # three consecutive (125.00) reach 10 %, but no two-week warning yet
        with freeze_time(self.RUN_DATE + timedelta(days=22)):
            with self.assertRaisesRegex(UserError, "two-week period"):
                plan.action_call_in()
            plan.action_de_call_in_notice()
        # warned on Tuesday 24 March 2026: the period ends on Tuesday 7 April, called in from 8 April
        self.assertEqual(plan.de_call_in_deadline, self.RUN_DATE + timedelta(days=36))
        with freeze_time(self.RUN_DATE + timedelta(days=36)):
            with self.assertRaisesRegex(UserError, "two-week period"):
                plan.action_call_in()
        with freeze_time(self.RUN_DATE + timedelta(days=37)):
            plan.action_call_in()
            self.assertEqual(plan.state, "broken")
            open_terms = self._terms(inv).filtered(lambda ln: not ln.reconciled)
            self.assertEqual(max(open_terms.mapped("date_maturity")), self.RUN_DATE + timedelta(days=37))
            self.assertEqual(len(open_terms), 24)
            self.assertEqual(inv.amount_residual, 1000.0)

    def _german_plan_in_arrears(self):
        """Lena Schmidt (German consumer, German law) pays 1,000.00 in 24 weekly instalments from 9 March 2026."""
        self.de_b2c.write({"street": "Lindenstraße 12", "zip": "10969", "city": "Berlin"})
        inv = self._invoice(self.de_b2c, 1000, self._days(5))
        self.rule.auto_accept = False
        plan = self._propose(inv, 24, "weekly", first=7)
        plan.action_accept()
        return plan

    def _letter_text(self, plan):
        """The stored letter's text (pdftotext of poppler-utils); the report's HTML where poppler is missing."""
        if shutil.which("pdftotext"):
            out = subprocess.run(
                ["pdftotext", "-layout", "-", "-"], input=plan.de_call_in_letter_id.raw, capture_output=True, check=True
            )
            text = out.stdout.decode()
        else:
            report = self.env["ir.actions.report"]
            text = str(report._render_qweb_html("ar_dunning.action_report_plan_de_call_in_warning", plan.ids)[0])
        return " ".join(text.replace("\xa0", " ").split())

    def test_german_call_in_warning_refused_without_the_arrears_of_section_498(self):
        plan = self._german_plan_in_arrears()
        letters = self.env["ir.attachment"].search_count([("res_model", "=", plan._name), ("res_id", "=", plan.id)])
        # one instalment in arrears: not two consecutive, and 41.67 is less than 10 % of 1,000
        with freeze_time(self.RUN_DATE + timedelta(days=8)):
            plan._ar_update_states()
            self.assertTrue(plan.de_call_in_warning_possible, "the button shows: the refusal says why")
            with self.assertRaisesRegex(UserError, "not in arrears with two consecutive instalments"):
                plan.action_de_call_in_notice()
        # two consecutive (83.33): still less than 10 %
        with freeze_time(self.RUN_DATE + timedelta(days=15)):
            with self.assertRaisesRegex(UserError, r"call-in warning cannot be given .*less than 10 %") as caught:
                plan.action_de_call_in_notice()
            self.assertNotIn("two consecutive", str(caught.exception))
        self.assertFalse(plan.de_call_in_notice_date)
        self.assertFalse(plan.de_call_in_letter_id)
        self.assertEqual(
            self.env["ir.attachment"].search_count([("res_model", "=", plan._name), ("res_id", "=", plan.id)]), letters
        )
        self.assertFalse(
            self.env["mail.mail"]
            .search([("model", "=", plan._name), ("res_id", "=", plan.id)])
            .filtered(lambda m: m.attachment_ids)
        )
        # a business customer's plan is called in without it: no warning, no button
        business = self._propose(self.inv1, 3, first=1)
        with freeze_time(self.RUN_DATE + timedelta(days=3)):
            business._ar_update_states()
            self.assertFalse(business.de_call_in_warning_possible)
            with self.assertRaisesRegex(UserError, "only for a private customer's payment plan under German law"):
                business.action_de_call_in_notice()

    def test_german_call_in_warning_letter_mailed_and_its_deadline(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["de_DE"], overwrite=True)
        self.de_b2c.lang = "de_DE"
        self.company.phone = "+32 2 555 01 23"
        plan = self._german_plan_in_arrears()
        notice_day = self.RUN_DATE + timedelta(days=29)  # Tuesday 31 March 2026: four instalments in arrears
        with freeze_time(notice_day):
            plan._ar_update_states()
            plan.with_user(self.collector).action_de_call_in_notice()  # an invoicing user, not an admin
            self.assertFalse(plan.de_call_in_warning_possible, "no second warning while the period runs")
            with self.assertRaisesRegex(UserError, "period runs until"):
                plan.action_de_call_in_notice()
        self.assertEqual(plan.de_call_in_notice_date, notice_day)
        self.assertEqual(plan.de_call_in_deadline, date(2026, 4, 14))
        arrears = plan.instalment_ids.filtered(lambda i: i.number <= 4)
        self.assertEqual(plan.de_call_in_amount, sum(arrears.mapped("amount")))
        letter = plan.de_call_in_letter_id
        self.assertEqual((letter.res_model, letter.res_id, letter.mimetype), (plan._name, plan.id, "application/pdf"))
        self.assertTrue(letter.raw.startswith(b"%PDF"))
        # the letter, in German: arrears listed and totalled, the deadline as a date, the whole remaining amount
        # claimed otherwise, the offer of a conversation with the company's phone and e-mail
        de_env = self.env(context=dict(self.env.context, lang="de_DE"))
        text = self._letter_text(plan)
        for expected in (
            "Lindenstraße 12",
            format_amount(de_env, plan.de_call_in_amount, plan.currency_id).replace("\xa0", " "),
            format_amount(de_env, arrears[0].amount, plan.currency_id).replace("\xa0", " "),
            "14.04.2026",
            "Frist von zwei Wochen bis zum 14.04.2026",
            "gesamte Restschuld in Höhe von " + format_amount(de_env, 1000.0, plan.currency_id).replace("\xa0", " "),
            "Gespräch über die Möglichkeiten einer einvernehmlichen Regelung",
            "+32 2 555 01 23",
            "credit@company.example",
        ):
            with self.subTest(expected=expected):
                self.assertIn(expected, text)
        # attached to the chatter, e-mailed to the buyer in her language with the letter
        message = plan.message_ids.filtered(lambda m: letter in m.attachment_ids and m.message_type != "email_outgoing")
        self.assertEqual(len(message), 1)
        self.assertIn(format_date(self.env, date(2026, 4, 14)), str(message.body))
        mail = (
            self.env["mail.mail"]
            .search([("model", "=", plan._name), ("res_id", "=", plan.id)])
            .filtered(lambda m: letter in m.attachment_ids)
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.de_b2c)
        self.assertIn("Rückstand", mail.subject)
        self.assertIn("Restschuld", str(mail.body_html))
        self.assertIn("14.04.2026", str(mail.body_html))
        # printed again: the same letter, not a new one with a new date
        with freeze_time(notice_day + timedelta(days=3)):
            action = plan.with_user(self.collector).action_de_call_in_letter_print()
        self.assertEqual(action["url"], f"/web/content/{letter.id}?download=true")
        self.assertEqual((plan.de_call_in_letter_id, plan.de_call_in_notice_date), (letter, notice_day))
        # called in only once the deadline has passed
        with freeze_time(date(2026, 4, 14)):
            with self.assertRaisesRegex(UserError, "runs until"):
                plan.action_call_in()
        with freeze_time(date(2026, 4, 15)):
            plan.action_call_in()
        self.assertEqual(plan.date_called_in, date(2026, 4, 15))

    def test_german_call_in_warning_all_or_nothing(self):
        plan = self._german_plan_in_arrears()
        report = type(self.env["ir.actions.report"])
        with freeze_time(self.RUN_DATE + timedelta(days=29)):
            plan._ar_update_states()
            mails = self.env["mail.mail"].search([])
            with (
                patch.object(report, "_run_wkhtmltopdf", side_effect=UserError("wkhtmltopdf failed")),
                self.assertRaisesRegex(UserError, "wkhtmltopdf failed"),
            ):
                plan.action_de_call_in_notice()
        self.assertFalse(plan.de_call_in_notice_date)
        self.assertFalse(plan.de_call_in_letter_id)
        self.assertFalse(self.env["mail.mail"].search([]) - mails)
        # without an e-mail address the warning cannot reach the customer: refused before anything is made
        self.de_b2c.email = False
        with freeze_time(self.RUN_DATE + timedelta(days=29)):
            with self.assertRaisesRegex(UserError, "no e-mail address"):
                plan.action_de_call_in_notice()
        self.assertFalse(plan.de_call_in_notice_date)

    def test_german_call_in_needs_a_new_warning_once_the_warned_arrears_are_paid(self):
        plan = self._german_plan_in_arrears()
        with freeze_time(self.RUN_DATE + timedelta(days=29)):
            plan._ar_update_states()
            plan.action_de_call_in_notice()
        # the four instalments warned about are paid in time; later, new arrears reach 10 % again
        warned = plan.instalment_ids.filtered(lambda i: i.number <= 4)
        self._register_payment(plan.move_ids, amount=sum(warned.mapped("amount")))
        self.assertFalse(any(warned.mapped("amount_residual")))
        with freeze_time(self.RUN_DATE + timedelta(days=57)):
            self.assertFalse(plan._ar_de_arrears_missing(self.RUN_DATE + timedelta(days=57)))
            with self.assertRaisesRegex(UserError, "have been paid: give a new warning"):
                plan.action_call_in()
            self.assertTrue(plan.de_call_in_warning_possible)

    def test_business_plan_called_in_when_late(self):
        plan = self._propose(self.inv1, 3, first=1)
        with self.assertRaises(UserError):
            plan.action_call_in()
        with freeze_time(self.RUN_DATE + timedelta(days=3)):
            plan._ar_update_states()
            plan.action_call_in()
            dates = set(self._terms(self.inv1).mapped("date_maturity"))
            self.assertEqual(dates, {self.RUN_DATE + timedelta(days=1), self.RUN_DATE + timedelta(days=3)})

    # ------------------------------------------------------------------ dunning respects and enforces it

    def test_dunning_skips_the_plan_and_resumes_after_grace_at_the_previous_level(self):
        self._run(partners=self.be_b2b, execute=True)
        self._run(on_date=self.RUN_DATE + timedelta(days=1), partners=self.be_b2b, execute=True)
        self.assertEqual((self.inv1 | self.inv2).ar_dunning_level_id, self.level2)
        plan = self._propose(self.inv1 | self.inv2, 3, "weekly", first=3)
        # instalment 1 is 2 days late, within the 5 grace days: still no reminder
        run = self._run(on_date=self.RUN_DATE + timedelta(days=5), partners=self.be_b2b)
        self.assertFalse(run.line_ids.filtered(lambda ln: not ln.exclusion_reason))
        self.assertEqual(plan.state, "late")
        # the day after the grace days: broken, reminded at level 2 (not 3) for the missed instalment only
        self.be_b2b.lang = "en_US"
        run = self._run(on_date=self.RUN_DATE + timedelta(days=9), partners=self.be_b2b, execute=True)
        self.assertEqual(plan.state, "broken")
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.level_id, self.level2)
        self.assertEqual(line.broken_plan_ids, plan)
        self.assertEqual(line.statement_item_ids.move_line_id, plan.instalment_ids[0].line_ids)
        self.assertEqual(line.amount_overdue, 500.0)
        self.assertIn("in 3 instalments", line.broken_promise_text)
        self.assertIn("ar_dunning_broken_promise", str(line.mail_id.body_html))
        # the payment score counts the broken plan like a broken promise
        score = self.be_b2b._ar_dunning_tone_data(self.RUN_DATE + timedelta(days=9))[self.be_b2b.id]
        self.assertIn("Broken promises to pay and payment plans: 1 → +10.0", score[2])

    def test_run_dated_ahead_shows_the_break_but_breaks_nothing(self):
        # a credit controller looks at next week's run today: the plan that would break by then is shown
        # broken in the preview, but it stays on schedule, its buyer is not told and the run cannot be sent
        plan = self._propose(self.inv1, 3, "weekly", first=1)
        mails = self.env["mail.mail"].search_count([("model", "=", "ar.dunning.plan"), ("res_id", "=", plan.id)])
        ahead = self.RUN_DATE + timedelta(days=9)
        run = self.env["ar.dunning.run"]._run_batch(
            date=ahead, policy_ids=self.policy.ids, partner_ids=self.be_b2b.ids, company=self.company
        )
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.broken_plan_ids, plan, "the preview shows what its date would bring")
        self.assertLessEqual(plan.instalment_ids[0].line_ids, line.statement_item_ids.move_line_id)
        self.assertTrue(run.look_ahead)
        self.assertEqual((plan.state, plan.date_resolved), ("active", False), "nothing broke today")
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "ar.dunning.plan"), ("res_id", "=", plan.id)]),
            mails,
            "the buyer is not told that the plan ended",
        )
        with self.assertRaisesRegex(UserError, "can be previewed now and sent from that day on"):
            run.action_execute()
        self.assertEqual(line.state, "draft")
        # on its date the run must be previewed again: then the plan breaks for real and the buyer is told
        with freeze_time(ahead):
            with self.assertRaisesRegex(UserError, "preview it again"):
                run.action_execute()
            run.action_preview()
            self.assertFalse(run.look_ahead)
            self.assertEqual((plan.state, plan.date_resolved), ("broken", ahead))
            ended = self.env["mail.mail"].search([("model", "=", "ar.dunning.plan"), ("res_id", "=", plan.id)])
            self.assertEqual(len(ended), mails + 1)
            run.action_execute()
        self.assertEqual(self._line(run, self.be_b2b).broken_plan_ids, plan)
        self.assertEqual(self._line(run, self.be_b2b).state, "done")

    def test_fixed_compensation_once_per_late_instalment(self):
        # level 2 claims the EUR 40 per late invoice (BE business); under a plan it is per late instalment
        # (CJEU C-78/22), even when the instalment covers two invoices
        self._run(partners=self.be_b2b, execute=True)
        self._run(on_date=self.RUN_DATE + timedelta(days=1), partners=self.be_b2b, execute=True)
        plan = self._propose(self.inv1 | self.inv2, 3, "weekly", first=3)
        run = self._run(on_date=self.RUN_DATE + timedelta(days=9), partners=self.be_b2b)
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.level_id, self.level2)
        self.assertEqual(len(line.statement_item_ids), 2, "instalment 1 of both invoices")
        self.assertEqual(line.fee_total, 40.0)
        # interest-free plan: the missed instalment bears interest from its own due date (6 days, 10.5 %)
        self.assertAlmostEqual(line.interest_total, round(300 * 0.105 * 6 / 365, 2) + round(200 * 0.105 * 6 / 365, 2))
        self.assertEqual(plan.state, "broken")
        # a week later instalment 2 is late too: a second EUR 40
        run = self._run(on_date=self.RUN_DATE + timedelta(days=17), partners=self.be_b2b)
        line = self._line(run, self.be_b2b)
        self.assertEqual(len(line.statement_item_ids), 4)
        self.assertEqual(line.fee_total, 80.0)

    def test_business_plan_with_interest_counts_from_the_original_due_date(self):
        self.rule.interest = True
        self._run(partners=self.be_b2b, execute=True)
        self._run(on_date=self.RUN_DATE + timedelta(days=1), partners=self.be_b2b, execute=True)
        plan = self._propose(self.inv1 | self.inv2, 3, "weekly", first=3)
        self.assertTrue(plan.interest)
        self.assertEqual(plan.invoice_ids.mapped("date_due_original"), [self._days(20), self._days(18)])
        line = self._line(self._run(on_date=self.RUN_DATE + timedelta(days=9), partners=self.be_b2b), self.be_b2b)
        # 2 Feb... the invoices' own due dates: 29 and 27 days to 11 March
        self.assertAlmostEqual(line.interest_total, round(300 * 0.105 * 29 / 365, 2) + round(200 * 0.105 * 27 / 365, 2))

    # ------------------------------------------------------------------ interest runs: invoiced once the plan is paid

    def _lu_customer(self, rate=None):
        """A business customer whose contract chose Luxembourg law: no statutory rate is shipped for it, so the test
        creates the rate (yearly %) of the first half of 2026 itself."""
        lu = self.env.ref("base.lu")
        partner = self.env["res.partner"].create(
            {"name": "Kaffi Bech SARL", "is_company": True, "country_id": lu.id, "email": "compta@bech.example"}
        )
        partner.with_company(self.company).ar_dunning_governing_law_id = lu
        if rate is not None:
            self._lu_rate(rate)
        return partner

    def _lu_rate(self, rate):
        return self.env["ar.dunning.interest.rate"].create(
            {
                "country_id": self.env.ref("base.lu").id,
                "customer_type": "b2b",
                "date_from": "2026-01-01",
                "date_to": "2026-06-30",
                "rate": rate,
            }
        )

    def _pay_on_schedule(self, plan, move):
        """Pay each instalment on its due date (the payment's date is the reconciliation's date)."""
        for instalment in plan.instalment_ids.sorted("number"):
            with freeze_time(instalment.date):
                self._register_payment(move, amount=instalment.amount, payment_date=instalment.date)

    def _interest_invoices(self, plan):
        return self.env["account.move"].search([("ar_dunning_interest_plan_id", "=", plan.id)])

    def test_interest_runs_until_each_instalment_is_paid_and_is_invoiced_once(self):
        self.rule.interest = True
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["de_DE"], overwrite=True)
        customer = self._lu_customer(rate=8.0)
        customer.lang = "de_DE"  # the interest invoice is the customer's: in their language
        inv = self._invoice(customer, 900, self._days(20))  # due 10 February 2026
        plan = self._propose(inv, 3, "monthly", first=7)  # 300 on 9 March, 9 April, 9 May
        self.assertEqual((plan.state, plan.interest), ("active", True))
        # 1 April: instalment 1 paid on 9 March, the two others still open
        with freeze_time(self.RUN_DATE + timedelta(days=7)):
            self._register_payment(inv, amount=300, payment_date=self.RUN_DATE + timedelta(days=7))
        with freeze_time("2026-04-01"):
            plan.invalidate_recordset(["interest_accrued"])
            # 300 x 8 % x 27/365 (11 Feb - 9 Mar) = 1.78; twice 300 x 8 % x 50/365 (11 Feb - 1 Apr) = 3.29
            self.assertAlmostEqual(plan.interest_accrued, 1.78 + 3.29 + 3.29)
            self.assertAlmostEqual(plan._ar_portal_values()["interest_accrued"], 8.36)
        self.assertFalse(plan.interest_move_id, "nothing is invoiced while the plan runs")
        for instalment in plan.instalment_ids.sorted("number")[1:]:
            with freeze_time(instalment.date):
                self._register_payment(inv, amount=300, payment_date=instalment.date)
        self.assertEqual(plan.state, "completed")
        # each instalment bears interest from the day after the original due date until the day it was paid:
        # 300 x 8 % x 27/365 = 1.78, 300 x 8 % x 58/365 = 3.81 (until 9 Apr), 300 x 8 % x 88/365 = 5.79 (until 9 May)
        expected = round(300 * 0.08 * 27 / 365, 2) + round(300 * 0.08 * 58 / 365, 2) + round(300 * 0.08 * 88 / 365, 2)
        self.assertAlmostEqual(expected, 11.38)
        charge = plan.interest_move_id
        self.assertEqual(self._interest_invoices(plan), charge)
        self.assertEqual((charge.state, charge.move_type, charge.partner_id), ("posted", "out_invoice", customer))
        self.assertAlmostEqual(charge.amount_total, expected)
        self.assertEqual(charge.invoice_date, plan.instalment_ids.sorted("number")[-1].date)
        self.assertIn(f"Verzugszinsen, Ratenzahlungsvereinbarung vom 02.03.2026: {inv.name}", charge.ref)
        self.assertIn(f"Verzugszinsen auf {inv.name} ab der Fälligkeit am 10.02.2026", charge.invoice_line_ids.name)
        self.assertEqual(charge.ar_dunning_interest_plan_id, plan)
        # delivered as any invoice: queued for Odoo's sending cron, in the name of the plan's follow-up user
        author = plan._ar_follow_up_user(customer._ar_dunning_policy(self.company))
        self.assertEqual(charge.sending_data, {"author_user_id": author.id, "author_partner_id": author.partner_id.id})
        self.assertAlmostEqual(plan.interest_accrued, expected)
        self.assertFalse(plan.interest_pending)
        # exactly once: completing again, a second call, a later run create nothing more
        plan._ar_update_states()
        self.assertFalse(plan._ar_invoice_plan_interest())
        self._run(on_date=self.RUN_DATE + timedelta(days=80), partners=customer)
        self.assertEqual(self._interest_invoices(plan), charge)
        with self.assertRaises(UserError):
            plan.action_invoice_interest()
        # and PostgreSQL refuses a second interest invoice of the plan, whoever makes it
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            charge.copy({"ar_dunning_interest_plan_id": plan.id})

    def test_plan_without_interest_invoices_none(self):
        customer = self._lu_customer(rate=8.0)
        inv = self._invoice(customer, 900, self._days(20))
        plan = self._propose(inv, 3, "monthly", first=7)
        self.assertFalse(plan.interest)
        self._pay_on_schedule(plan, inv)
        self.assertEqual(plan.state, "completed")
        self.assertFalse(plan.interest_move_id)
        self.assertFalse(self._interest_invoices(plan))
        self.assertEqual(plan.interest_accrued, 0.0)
        self.assertFalse(plan._ar_portal_values()["interest_accrued"])
        self.assertFalse(plan.activity_ids)

    def test_missing_rate_leaves_the_plan_completed_and_asks_the_accountant(self):
        self.rule.interest = True
        customer = self._lu_customer()  # no Luxembourg rate yet
        inv = self._invoice(customer, 900, self._days(20))
        plan = self._propose(inv, 3, "monthly", first=7)
        self._pay_on_schedule(plan, inv)
        self.assertEqual(plan.state, "completed", "the payment completes the plan, interest or not")
        self.assertFalse(self._interest_invoices(plan), "never computed with 0 %")
        self.assertTrue(plan.interest_pending)
        self.assertEqual(plan.interest_rate_missing, "Luxembourg / Business (B2B) / H1-2026")
        activity = plan.activity_ids
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn("Invoice the interest of the payment plan of Kaffi Bech SARL", activity.summary)
        self.assertIn("Luxembourg / Business (B2B) / H1-2026", str(activity.note))
        self.assertIn("Late-Payment Interest Rates", str(activity.note))
        self.assertIn("Luxembourg / Business (B2B) / H1-2026", str(plan.message_ids[0].body))
        # a second attempt at completion adds no second activity
        plan._ar_invoice_plan_interest()
        self.assertEqual(plan.activity_ids, activity)
        with self.assertRaisesRegex(UserError, "Luxembourg / Business"):
            plan.with_user(self.collector).action_invoice_interest()
        self._lu_rate(8.0)
        plan.with_user(self.collector).action_invoice_interest()
        self.assertAlmostEqual(plan.interest_move_id.amount_total, 1.78 + 3.81 + 5.79)
        self.assertEqual(plan.interest_move_id.invoice_date, self.RUN_DATE, "invoiced on the day of the button")
        self.assertFalse(plan.interest_pending)
        self.assertFalse(plan.activity_ids, "the accountant's activity is done")

    def test_interest_already_claimed_by_a_reminder_is_not_invoiced_twice(self):
        self.rule.interest = True
        self.level2.invoice_charges = True
        customer = self._lu_customer(rate=8.0)
        inv = self._invoice(customer, 900, self._days(20))
        inv.ar_dunning_level_id = self.level1
        # the level-2 reminder of 2 March claimed 900 x 8 % x 20/365 (11 Feb - 2 Mar) = 3.95 on a charges invoice
        line = self._line(self._run(partners=customer, execute=True), customer)
        self.assertEqual(line.level_id, self.level2)
        self.assertAlmostEqual(line.interest_total, 3.95)
        self.assertTrue(line.charge_move_ids)
        plan = self._propose(inv, 3, "monthly", first=7)
        self._pay_on_schedule(plan, inv)
        self.assertEqual(plan.state, "completed")
        # the days 11 Feb - 2 Mar of the instalments were claimed by the reminder: 11.38 - 3.95
        self.assertAlmostEqual(plan.interest_move_id.amount_total, round(1.78 + 3.81 + 5.79 - 3.95, 2))

    def test_interest_claimed_for_a_missed_instalment_is_subtracted(self):
        # a reminder about a missed instalment (broken plan) claims its interest from the original due date; the
        # interest the plan invoices when everything is paid leaves those days out
        self.rule.interest = True
        self.level2.invoice_charges = True
        customer = self._lu_customer(rate=8.0)
        inv = self._invoice(customer, 900, self._days(20))
        inv.ar_dunning_level_id = self.level2
        plan = self._propose(inv, 3, "weekly", first=0)  # 300 on 2, 9 and 16 March
        line = self._line(
            self._run(on_date=self.RUN_DATE + timedelta(days=6), partners=customer, execute=True), customer
        )
        self.assertEqual(plan.state, "broken")
        # instalment 1: 300 x 8 % x 26/365 (11 Feb - 8 Mar) = 1.71
        self.assertAlmostEqual(line.interest_total, 1.71)
        self.assertTrue(line.charge_move_ids)
        for instalment in plan.instalment_ids.sorted("number"):
            with freeze_time(instalment.date + timedelta(days=7)):
                self._register_payment(inv, amount=300, payment_date=instalment.date + timedelta(days=7))
        # however the plan comes to be completed once all is paid, it invoices what the reminder did not claim
        plan._ar_complete(self.RUN_DATE + timedelta(days=23))
        # 300 x 8 % x (27, 34, 41)/365 = 1.78 + 2.24 + 2.70, less the 1.71 claimed
        self.assertAlmostEqual(plan.interest_move_id.amount_total, round(1.78 + 2.24 + 2.70 - 1.71, 2))

    def test_belgian_consumer_missed_instalment_gets_a_free_first_reminder(self):
        self.company.write({"ar_dunning_be_b2c_clause": True, "ar_dunning_be_b2c_clause_rate": 8.0})
        inv = self._invoice(self.be_b2c, 300, self._days(5))
        self._run(partners=self.be_b2c, execute=True)  # the free first reminder, before the plan
        run = self._run(on_date=self.RUN_DATE + timedelta(days=25), partners=self.be_b2c, execute=True)
        self.assertTrue(self._line(run, self.be_b2c).fee_total, "without a plan, costs after the 14 days")
        self.assertEqual(inv.ar_dunning_level_id, self.level2)
        with freeze_time(self.RUN_DATE + timedelta(days=30)):
            plan = self._propose(inv, 3, "weekly", first=31)
            self.assertEqual(plan.state, "active")
        run = self._run(on_date=self.RUN_DATE + timedelta(days=40), partners=self.be_b2c)
        self.assertEqual(plan.state, "broken")
        line = self._line(run, self.be_b2c)
        self.assertEqual(line.level_id, self.level2, "resumed at the level reached before")
        self.assertTrue(line.first_notice, "the missed instalment's first reminder is free (Book XIX CEL)")
        self.assertEqual((line.fee_total, line.interest_total), (0.0, 0.0))

    def test_broken_plan_in_the_customer_language(self):
        expected = {
            "nl_NL": "U hebt met ons afgesproken",
            "nl_BE": "U hebt met ons afgesproken",
            "fr_BE": "Vous aviez convenu avec nous",
            "de_DE": "Sie hatten mit uns vereinbart",
        }
        for code in expected:
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(list(expected), overwrite=True)
        self.be_b2b.lang = "de_DE"
        plan = self._propose(self.inv1, 3, "weekly", first=1)
        accepted = self.env["mail.mail"].search([("model", "=", "ar.dunning.plan"), ("res_id", "=", plan.id)])
        self.assertIn("Ihre Ratenzahlungsvereinbarung ist bestätigt", accepted.subject)
        self.assertIn("Sehr geehrte Damen und Herren", str(accepted.body_html))
        self._run(on_date=self.RUN_DATE + timedelta(days=8), partners=self.be_b2b)
        self.assertEqual(plan.state, "broken")
        ended = self.env["mail.mail"].search([("model", "=", "ar.dunning.plan"), ("res_id", "=", plan.id)]) - accepted
        self.assertIn("Ihre Ratenzahlungsvereinbarung ist beendet", ended.subject)
        for code, text in expected.items():
            with self.subTest(lang=code):
                self.be_b2b.lang = code
                run = self._run(on_date=self.RUN_DATE + timedelta(days=8), partners=self.be_b2b)
                self.assertIn(text, self._line(run, self.be_b2b).broken_promise_text)

    def test_run_excludes_plan_invoices_with_their_reason(self):
        other = self._invoice(self.be_b2b, 200, self._days(25))
        self._propose(self.inv1, 3, "weekly", first=0)
        run = self._run(on_date=self.RUN_DATE + timedelta(days=2), partners=self.be_b2b)
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.statement_item_ids.move_id, self.inv2 | other)
        reasons = set(line.item_ids.filtered(lambda i: i.move_id == self.inv1).mapped("exclusion_reason"))
        self.assertEqual(reasons, {"plan"})

    # ------------------------------------------------------------------ KPIs

    def test_kpis_plans_completed_and_cash_expected_from_arrangements(self):
        done = self._propose(self.inv2, 2, "weekly", first=0)
        # Odoo's payment wizard proposes the next instalment only (300): pay the whole invoice
        self._register_payment(self.inv2, amount=600)
        self.assertEqual(done.state, "completed")
        running = self._propose(self.inv1, 3, "weekly", first=2)  # 300 on days 2, 9, 16
        inv3 = self._invoice(self.be_b2b, 250, self._days(10))
        self.env["ar.dunning.promise"]._ar_request(inv3, self.RUN_DATE + timedelta(days=4), source="backoffice")
        broken = self._propose(self._invoice(self.be_b2b, 100, self._days(2)), 2, "weekly", first=0)
        broken._ar_update_states(self.RUN_DATE + timedelta(days=6))
        self.assertEqual(broken.state, "broken")
        kpis = self.env["ar.dunning.kpi"].with_company(self.company)._refresh(self.RUN_DATE)
        company = kpis.filtered(lambda k: k.scope == "company")
        self.assertEqual((company.plan_count, company.plan_completed_share), (2, 50.0))
        self.assertEqual(company.arrangement_amount, 900.0 + 250.0)
        self.assertEqual(company.arrangement_expected_week, 300.0 + 250.0)
        weeks = self.env["ar.dunning.kpi"]._ar_arrangement_cash_by_week(self.company, self.RUN_DATE, weeks=3)
        self.assertEqual(
            weeks,
            [
                (self.RUN_DATE, 550.0),
                (self.RUN_DATE + timedelta(days=7), 300.0),
                (self.RUN_DATE + timedelta(days=14), 300.0),
            ],
        )
        self.assertEqual(running.state, "active")

    # ------------------------------------------------------------------ access

    def test_access(self):
        plan = self._propose(self.inv1, 3)
        portal = new_test_user(self.env, login="plan_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            plan.with_user(portal).read(["amount_total"])
        other_company = self.setup_other_company()["company"]
        outsider = new_test_user(
            self.env, login="plan_outsider", groups="account.group_account_invoice", company_id=other_company.id
        )
        for model in ("ar.dunning.plan", "ar.dunning.plan.instalment", "ar.dunning.plan.invoice"):
            self.assertFalse(self.env[model].with_user(outsider).search([]), model)
        self.assertEqual(self.be_b2b.ar_dunning_plan_count, 1)
        self.assertEqual(self.be_b2b.action_ar_dunning_open_plans()["domain"], [("partner_id", "=", self.be_b2b.id)])
        values = plan._ar_portal_values()
        self.assertEqual(values["progress"]["percent"], 0)
        self.assertEqual(values["next"]["amount"], 300.0)
        self.assertEqual([i["state"] for i in values["instalments"]], ["planned"] * 3)


@tagged("post_install", "-at_install")
class TestGermanCallInDeadline(BaseCase):
    """The period of the § 498 warning: two weeks, ending on a working day (§§ 188, 193 BGB)."""

    def test_two_weeks_later_on_a_working_day(self):
        self.assertEqual(call_in_warning_deadline(date(2026, 12, 2)), date(2026, 12, 16))  # Wednesday
        # ends on Saturday 19 December: Monday 21 December
        self.assertEqual(call_in_warning_deadline(date(2026, 12, 5)), date(2026, 12, 21))
        # ends on Christmas Day (Friday): Monday 28 December
        self.assertEqual(call_in_warning_deadline(date(2026, 12, 11)), date(2026, 12, 28))
        # Good Friday 3 April and Easter Monday 6 April 2026
        self.assertEqual(call_in_warning_deadline(date(2026, 3, 20)), date(2026, 4, 7))
        self.assertEqual(call_in_warning_deadline(date(2026, 3, 23)), date(2026, 4, 7))

    def test_holidays_of_any_land(self):
        holidays = german_holidays(2026)
        for day in (date(2026, 6, 4), date(2026, 10, 31), date(2026, 11, 18), date(2026, 5, 14), date(2026, 5, 25)):
            with self.subTest(day=day):
                self.assertIn(day, holidays)  # Fronleichnam, Reformationstag, Buß- und Bettag, Himmelfahrt, Pfingsten
        self.assertNotIn(date(2026, 12, 24), holidays)
