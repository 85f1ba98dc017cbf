import importlib.util
import logging
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, format_amount

from ..tools.credit_risk import dso_doubled, grade_dropped, grade_from_score, next_dso_reference, risk_score
from ..tools.vat_check import vat_syntax
from .common import ArDunningCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestCreditRiskTools(ArDunningCommon):
    def test_grades_and_reasons(self):
        self.assertEqual([grade_from_score(s) for s in (0, 14.9, 15, 44.9, 59.9, 60, 100)], list("AABCDEE"))
        # a clean customer
        self.assertEqual(risk_score(0, 0, 0, 10, 30)[:2], (0.0, "A"))
        # 12-month behaviour 40 -> 20 points; last quarter 70 -> +15 (capped); half overdue -> 12.5;
        # DSO 90 against 30 -> +20 (capped): 67.5, grade E
        score, grade, reasons = risk_score(40, 70, 0.5, 90, 30)
        self.assertEqual((score, grade), (67.5, "E"))
        self.assertEqual(dict(reasons), {"behaviour": 20.0, "trend": 15.0, "overdue_share": 12.5, "dso": 20.0})
        # a better last quarter takes points off (at most 10)
        self.assertEqual(dict(risk_score(40, 0, 0, 0, 30)[2])["trend"], -10.0)
        self.assertTrue(grade_dropped("B", "C"))
        self.assertFalse(grade_dropped("C", "B"))
        self.assertFalse(grade_dropped(False, "E"))

    def test_dso_doubling(self):
        self.assertTrue(dso_doubled(20, 40))
        self.assertFalse(dso_doubled(20, 39.9))
        self.assertFalse(dso_doubled(3, 8), "below 15 days a doubling is noise")
        self.assertEqual(next_dso_reference(20, 40, True), 40, "after an alert the new DSO is the reference")
        self.assertEqual(next_dso_reference(20, 12, False), 12, "the reference follows the DSO down")
        self.assertEqual(next_dso_reference(20, 30, False), 20)


@tagged("post_install", "-at_install")
class TestCreditMonitoring(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.company.account_use_credit_limit = True
        common = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.accountant = new_test_user(cls.env, "ar_credit_acc", groups="account.group_account_invoice", **common)
        cls.controller = new_test_user(cls.env, "ar_credit_ctl", groups="ar_dunning.group_credit_controller", **common)
        cls.collector = new_test_user(cls.env, "ar_credit_col", groups="account.group_account_invoice", **common)
        cls.policy.collector_id = cls.collector
        cls.Risk = cls.env["ar.credit.risk"]

    def _customer(self, name, limit=0.0):
        partner = self.env["res.partner"].create({"name": name, "is_company": True, "email": "x@customer.example"})
        if limit:
            partner.with_company(self.company).credit_limit = limit
        return partner

    def _ago(self, days):
        return self.today - timedelta(days=days)

    def _pay(self, move, on_date):
        self._register_payment(move, payment_date=on_date)

    def _post_over(self, partner, amount, due):
        """An invoice posted over the limit (with an override reason, as a credit controller would allow)."""
        move = self._invoice(partner, amount, due, post=False)
        move.with_context(ar_credit_override_reason="Agreed by the credit controller").action_post()
        return move

    def _assess(self, on_date=None, **kw):
        return self.Risk.with_company(self.company)._compute_company(on_date=on_date or self.today, **kw)

    def _risk(self, partner):
        return self.Risk.search([("partner_id", "=", partner.id), ("company_id", "=", self.company.id)])

    def _alerts(self, partner):
        return self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])

    # ------------------------------------------------------------------ 1. exposure
    def test_exposure_against_odoo_limit(self):
        partner = self._customer("Exposure NV", limit=500)
        self._invoice(partner, 300, self._ago(40))  # overdue
        self._invoice(partner, 200, self._ago(-20))  # not due yet
        self._invoice(partner, 100, self.today, post=False)  # draft
        self._invoice(partner, 50, self._ago(10), move_type="out_refund")
        partner = partner.with_company(self.company)
        self.assertEqual(partner.ar_credit_open, 450.0)
        self.assertEqual(partner.ar_credit_overdue, 300.0)
        self.assertEqual(partner.ar_credit_draft, 100.0)
        self.assertEqual(partner.ar_credit_to_invoice, 0.0, "without the Sales app nothing is still to invoice")
        self.assertEqual(partner.ar_credit_exposure, 550.0)
        self.assertEqual(partner.ar_credit_headroom, -50.0)
        self.assertTrue(partner.ar_credit_over_limit)
        # a contact of the customer shows its company's exposure
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": partner.id})
        self.assertEqual(contact.with_company(self.company).ar_credit_exposure, 550.0)
        # the company does not use credit limits: no limit, never over it
        self.company.account_use_credit_limit = False
        partner.invalidate_recordset()
        self.assertFalse(partner.ar_credit_over_limit)
        self.assertEqual(partner.ar_credit_exposure, 550.0)

    # ------------------------------------------------------------------ 2. score and grade on built histories
    def test_grade_on_built_histories(self):
        good = self._customer("Good Payer NV")
        for months in (10, 7, 4, 1):
            self._pay(self._invoice(good, 1000, self._ago(30 * months)), self._ago(30 * months))
        bad = self._customer("Late Payer BV")
        # a year of invoices paid 20 days late, the last quarter 90 days late, and two open overdue invoices
        for months, late in ((11, 20), (9, 20), (7, 20), (5, 20), (3, 90)):
            self._pay(self._invoice(bad, 1000, self._ago(30 * months)), self._ago(30 * months - late))
        self._invoice(bad, 2000, self._ago(75))
        self._invoice(bad, 500, self._ago(5))
        self.env["ar.dunning.promise"].create(
            {"partner_id": bad.id, "promise_date": self._ago(20), "amount": 2000, "state": "broken"}
        )
        self._assess()
        good_risk, bad_risk = self._risk(good), self._risk(bad)
        self.assertEqual(good_risk.grade, "A")
        self.assertEqual(good_risk.score, 0.0)
        self.assertIn(bad_risk.grade, ("D", "E"))
        self.assertGreater(bad_risk.behaviour_3m, bad_risk.behaviour_12m, "the last quarter is worse")
        self.assertAlmostEqual(bad_risk.overdue_share, 100.0 * 2500 / 2500)
        self.assertGreater(bad_risk.dso, bad_risk.book_dso)
        self.assertIn("Payment behaviour over 12 months", bad_risk.reasons)
        self.assertIn("The last 3 months are worse than the year", bad_risk.reasons)
        self.assertIn("Overdue: 100% of the exposure", bad_risk.reasons)
        self.assertIn("for the whole book", bad_risk.reasons)
        self.assertEqual(bad.with_company(self.company).ar_credit_grade, bad_risk.grade)
        # one history row each: the first assessment
        self.assertEqual(len(bad_risk.history_ids), 1)
        self.assertTrue(bad_risk.history_ids.is_first)

    # ------------------------------------------------------------------ 3. alerts once per change
    def test_alerts_once_per_change(self):
        partner = self._customer("Alert NV", limit=1000)
        self._invoice(partner, 600, self._ago(-10))
        self._assess()
        risk = self._risk(partner)
        self.assertFalse(risk.over_limit)
        self.assertFalse(self._alerts(partner), "a first assessment within the limit alerts nobody")
        # the customer crosses its limit (a draft invoice counts in the exposure)
        self._invoice(partner, 600, self._ago(-5), post=False)
        self._assess(self._ago(-1))
        alert = self._alerts(partner)
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.user_id, self.collector, "the policy's collector follows the customer up")
        self.assertIn("credit limit exceeded", alert.summary)
        change = risk.history_ids.filtered("limit_crossed")
        self.assertEqual(change.activity_id, alert)
        # reruns, the same night and the next nights: no new alert, no new history
        self._assess(self._ago(-1))
        self._assess(self._ago(-2))
        self._assess(self._ago(-3))
        self.assertEqual(len(self._alerts(partner)), 1)
        self.assertEqual(len(risk.history_ids), 2)
        # the grade drops (a large invoice 60 days overdue): one alert for that change
        self.assertEqual(risk.grade, "A")
        self._post_over(partner, 5000, self._ago(60))
        self._assess(self._ago(-4))
        self.assertNotEqual(risk.grade, "A")
        alerts = self._alerts(partner)
        self.assertEqual(len(alerts), 2)
        self.assertIn("grade lowered from A to", (alerts - alert).summary)
        self._assess(self._ago(-5))
        self.assertEqual(len(self._alerts(partner)), 2)
        # the DSO doubles against its reference
        risk.sudo().dso_reference = risk.dso / 2 - 1  # as if the DSO had been half a while ago
        self._assess(self._ago(-6))
        dso_alert = self._alerts(partner) - alerts
        self.assertEqual(len(dso_alert), 1)
        self.assertIn("DSO doubled", dso_alert.summary)
        self._assess(self._ago(-7))
        self.assertEqual(len(self._alerts(partner)), 3)

    def test_weekly_digest(self):
        partner = self._customer("Digest NV", limit=100)
        self._invoice(partner, 50, self._ago(-10))
        self._assess(self._ago(1))
        self._invoice(partner, 500, self._ago(-10), post=False)
        self._assess()
        self.controller.email = "controller@company.example"
        mails = self.env["mail.mail"].search([])
        self.Risk._cron_send_digest()
        digest = self.env["mail.mail"].search([]) - mails
        self.assertEqual(len(digest), 1)
        self.assertIn(self.controller.partner_id, digest.recipient_ids)
        self.assertIn("Digest NV", digest.body_html)
        self.assertIn("Over the credit limit", digest.body_html)

    def test_suggested_actions(self):
        partner = self._customer("Actions NV", limit=10000)
        self._invoice(partner, 8000, self._ago(100))
        # the rest of the book pays fast: this customer's DSO is far above the book's
        fast = self._customer("Fast Payer NV")
        self._pay(self._invoice(fast, 50000, self._ago(2)), self._ago(1))
        self._assess()
        risk = self._risk(partner)
        self.assertIn(risk.grade, ("C", "D", "E"))
        self.assertLess(risk.suggested_limit, 10000)
        with self.assertRaises(AccessError):
            risk.with_user(self.accountant).action_lower_limit()
        as_controller = risk.with_user(self.controller)
        as_controller.action_lower_limit()
        self.assertEqual(partner.with_company(self.company).credit_limit, risk.suggested_limit)
        partner.property_payment_term_id = self.env.ref("account.account_payment_term_30days")
        as_controller.action_shorten_terms()
        self.assertLess(
            max(partner.property_payment_term_id.line_ids.mapped("nb_days")), 30, "a shorter term for new invoices"
        )
        as_controller.action_require_prepayment()
        self.assertTrue(partner.with_company(self.company).ar_credit_prepayment)
        self.assertEqual(partner.property_payment_term_id, self.env.ref("account.account_payment_term_immediate"))
        as_controller.action_credit_hold()
        self.assertTrue(partner.with_company(self.company).ar_dunning_credit_hold)
        notes = partner.message_ids.mapped("body")
        self.assertTrue(any("Credit limit lowered" in n for n in notes))
        self.assertTrue(any("Credit hold set" in n for n in notes))

    def test_actions_apply_in_the_assessments_company(self):
        """A controller working in another company lowers the limit of the assessment's company only."""
        other = self.setup_other_company()["company"]
        partner = self._customer("Two Companies NV", limit=10000)
        partner.with_company(other).credit_limit = 7000
        self._invoice(partner, 8000, self._ago(100))
        fast = self._customer("Fast Payer NV")
        self._pay(self._invoice(fast, 50000, self._ago(2)), self._ago(1))
        self._assess()
        risk = self._risk(partner)
        self.controller.company_ids |= other
        self.controller.company_id = other
        risk.with_user(self.controller).with_context(
            allowed_company_ids=[other.id, self.company.id]
        ).action_credit_hold()
        risk.with_user(self.controller).with_context(
            allowed_company_ids=[other.id, self.company.id]
        ).action_lower_limit()
        self.assertTrue(partner.with_company(self.company).ar_dunning_credit_hold)
        self.assertFalse(partner.with_company(other).ar_dunning_credit_hold)
        self.assertEqual(partner.with_company(self.company).credit_limit, risk.suggested_limit)
        self.assertEqual(partner.with_company(other).credit_limit, 7000)

    # ------------------------------------------------------------------ reasons in the reader's language
    def _dutch_readers(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["nl_NL"], overwrite=True)

    def _stored_codes(self, table, column, record_ids):
        self.env.flush_all()
        self.cr.execute(
            SQL(
                "SELECT string_agg(%s::text, ' ') FROM %s WHERE id = ANY(%s)",
                SQL.identifier(column),
                SQL.identifier(table),
                list(record_ids),
            )
        )
        return self.cr.fetchone()[0] or ""

    def test_reasons_stored_as_codes_and_read_in_dutch(self):
        self._dutch_readers()
        self.collector.lang = "nl_NL"
        dutch = new_test_user(
            self.env,
            "ar_credit_nl",
            groups="ar_dunning.group_credit_controller",
            lang="nl_NL",
            email="controleur@company.example",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.controller.email = "controller@company.example"
        partner = self._customer("Taal NV", limit=1000)
        self._invoice(partner, 600, self._ago(40))
        self._assess(self._ago(1))
        self._invoice(partner, 900, self._ago(-5), post=False)  # crosses its limit
        self._assess()
        risk = self._risk(partner)
        change = risk.history_ids.filtered("limit_crossed")
        # stored: codes and figures, no sentence in any language
        self.assertEqual(
            [item["code"] for item in risk.reason_codes],
            ["grade", "behaviour", "trend_not_worse", "overdue_share", "dso", "over_limit"],
        )
        self.assertEqual(risk.reason_codes[-1], {"code": "over_limit", "exposure": 1500.0, "limit": 1000.0})
        stored = self._stored_codes("ar_credit_risk", "reason_codes", risk.ids)
        stored += self._stored_codes("ar_credit_risk_history", "reason_codes", risk.history_ids.ids)
        for sentence in (
            "Grade A",
            "risk score",
            "Payment behaviour",
            "of the exposure",
            "Over its credit limit",
            "for the whole book",
            "Klasse",
            "Betalingsgedrag",
        ):
            self.assertNotIn(sentence, stored)
        # a Dutch user reads Dutch reasons (its context's language, as the web client sends it)
        as_dutch = risk.with_user(dutch).with_context(lang=dutch.lang)
        self.assertRegex(as_dutch.reasons, r"^Klasse [A-E] \(risicoscore \d+,\d / 100\)\n", "Dutch words and figures")
        self.assertIn("Boven de kredietlimiet", as_dutch.reasons)
        self.assertNotIn("Grade", as_dutch.reasons)
        self.assertIn("Over its credit limit", risk.with_context(lang="en_US").reasons)
        self.assertIn("Boven de kredietlimiet", change.with_user(dutch).with_context(lang="nl_NL").reasons)
        self.assertIn(
            "Boven de kredietlimiet",
            partner.with_company(self.company).with_user(dutch).with_context(lang="nl_NL").ar_credit_reasons,
        )
        # the alert, for the Dutch collector, is worded in Dutch
        alert = change.activity_id
        self.assertEqual(alert.user_id, self.collector)
        self.assertEqual(alert.summary, "Krediet: kredietlimiet overschreden")
        self.assertIn("Boven de kredietlimiet", alert.note)
        # the weekly digest: one mail per language of its recipients
        mails = self.env["mail.mail"].search([])
        self.Risk._cron_send_digest()
        digests = self.env["mail.mail"].search([]) - mails
        self.assertEqual(len(digests), 2)
        dutch_mail = digests.filtered(lambda m: dutch.partner_id in m.recipient_ids)
        english_mail = digests - dutch_mail
        self.assertEqual(english_mail.recipient_ids, self.controller.partner_id)
        self.assertIn("Geachte heer, mevrouw", dutch_mail.body_html)
        self.assertIn("Kredietbewaking", dutch_mail.subject)
        self.assertIn("Boven de kredietlimiet", dutch_mail.body_html)
        self.assertIn("Dear Sir or Madam", english_mail.body_html)
        self.assertNotIn("Over its credit limit", dutch_mail.body_html)
        self.assertIn("Over its credit limit", english_mail.body_html)

    def test_migration_reads_the_stored_sentences_back(self):
        """19.0.1.4.0 migration: the English sentences stored before become codes; the old column goes."""
        partner = self._customer("Oud NV", limit=1000)
        self._post_over(partner, 1500, self._ago(40))
        self._assess()
        risk = self._risk(partner)
        currency = risk.currency_id
        old = "\n".join(
            [
                "Grade E (risk score 67.5 / 100)",
                "Payment behaviour over 12 months: score 40.0 / 100 (days late, invoices paid late, broken "
                "promises, disputes lost) → +20.0",
                "The last 3 months are worse than the year: score 70.0 against 40.0 → +15.0",
                f"Overdue: 100% of the exposure of {format_amount(self.env, 1500, currency)} → +25.0",
                "Days sales outstanding: 90 days, against 30 for the whole book → +7.5",
                f"Over its credit limit: exposure {format_amount(self.env, 1500, currency)}, limit "
                f"{format_amount(self.env, 1000, currency)}",
            ]
        )
        self.env.flush_all()
        for table in ("ar_credit_risk", "ar_credit_risk_history"):
            self.cr.execute(SQL("ALTER TABLE %s ADD COLUMN reasons text", SQL.identifier(table)))
        self.cr.execute("UPDATE ar_credit_risk SET reasons = %s, reason_codes = NULL WHERE id = %s", [old, risk.id])
        self.cr.execute(
            "UPDATE ar_credit_risk_history SET reasons = %s, reason_codes = NULL WHERE risk_id = %s",
            ["Grade E (risk score 67.5 / 100)\nEen zin die de code niet schreef", risk.id],
        )
        path = Path(__file__).parent.parent / "migrations" / "19.0.1.4.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("ar_dunning_migration_1_4_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.cr, "19.0.1.3.0")
        self.env.invalidate_all()
        self.assertEqual(risk.with_context(lang="en_US").reasons, old, "the same words, now from codes")
        self.assertEqual(
            risk.reason_codes[:3],
            [
                {"code": "grade", "grade": "E", "score": 67.5},
                {"code": "behaviour", "score": 40.0, "points": 20.0},
                {"code": "trend_worse", "recent": 70.0, "year": 40.0, "points": 15.0},
            ],
        )
        self.assertEqual(
            risk.history_ids[:1].reason_codes,
            [
                {"code": "grade", "grade": "E", "score": 67.5},
                {"code": "text", "text": "Een zin die de code niet schreef"},
            ],
        )
        self.cr.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name IN %s AND column_name = 'reasons'",
            [("ar_credit_risk", "ar_credit_risk_history")],
        )
        self.assertEqual(self.cr.fetchone()[0], 0, "the sentences are no longer stored")

    # ------------------------------------------------------------------ 4. enforcement
    def _draft_for(self, partner, user, amount=500):
        move = self._invoice(partner, amount, self.today, post=False)
        return move.with_user(user)

    def test_credit_hold_needs_controller_or_override(self):
        partner = self._customer("Held NV")
        partner.with_company(self.company).ar_dunning_credit_hold = True
        move = self._draft_for(partner, self.accountant)
        self.assertTrue(move.ar_credit_needs_override, "the form shows Post with Override")
        with self.assertRaisesRegex(UserError, "credit hold"):
            move.action_post()
        self.assertEqual(move.state, "draft")
        self.assertEqual(move.action_ar_credit_override()["res_model"], "account.move.credit.override")
        # the override wizard: the reason lands in the invoice's chatter
        wizard = (
            self.env["account.move.credit.override"]
            .with_user(self.accountant)
            .create({"move_ids": [(6, 0, move.ids)], "reason": "Prepayment received on the bank account"})
        )
        wizard.action_post()
        self.assertEqual(move.state, "posted")
        self.assertIn("Prepayment received on the bank account", move.message_ids[0].body)
        self.assertIn(self.accountant.name, move.message_ids[0].body)
        # a credit controller posts without a reason, and that is logged too
        controlled = self._draft_for(partner, self.controller)
        self.assertFalse(controlled.ar_credit_needs_override)
        controlled.action_post()
        self.assertEqual(controlled.state, "posted")
        self.assertIn("Posted by credit controller", controlled.message_ids[0].body)

    def test_over_limit_needs_controller_or_override(self):
        partner = self._customer("Limit NV", limit=1000)
        self._invoice(partner, 800, self._ago(-10))
        move = self._draft_for(partner, self.accountant, amount=300)
        self.env.invalidate_all()  # the customer's receivable, cached before the first invoice was posted
        self.assertTrue(move.partner_credit_warning, "Odoo's own credit-limit warning stays on the invoice")
        with self.assertRaises(UserError):
            move.action_post()
        # the dunning's own key for its charges invoices is no way around it for a user (an RPC
        # call can carry any context)
        with self.assertRaises(UserError):
            move.with_context(ar_dunning_skip_credit_hold=True).action_post()
        move.with_context(ar_credit_override_reason="Agreed with the director").action_post()
        self.assertEqual(move.state, "posted")
        self.assertIn("over its credit limit", move.message_ids[0].body)
        # within the limit: posted without a word in the chatter
        small = self._customer("Small NV", limit=1000)
        within = self._draft_for(small, self.accountant, amount=300)
        within.action_post()
        self.assertEqual(within.state, "posted")
        self.assertFalse(within.message_ids.filtered(lambda m: "credit" in (m.body or "")))
        # a controller posts over the limit
        over = self._draft_for(partner, self.controller, amount=300)
        over.action_post()
        self.assertEqual(over.state, "posted")

    # ------------------------------------------------------------------ query count of the nightly batch
    def _book(self, count):
        partners = self.env["res.partner"].create(
            [{"name": f"Book Customer {i}", "is_company": True} for i in range(count)]
        )
        for i, partner in enumerate(partners):
            paid = self._invoice(partner, 100 + i, self._ago(60))
            self._pay(paid, self._ago(40))
            self._invoice(partner, 200, self._ago(10 + i % 20))
        return partners

    def _queries(self, on_date):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        self._assess(on_date, batch_size=500)
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def test_nightly_batch_query_count(self):
        """The nightly assessment of a batch costs the same queries for 5 and for 30 customers."""
        self._book(5)
        self._queries(self._ago(-1))  # first assessment: creates the rows
        first_small = self._queries(self._ago(-2))
        steady_small = self._queries(self._ago(-3))
        self._book(25)
        self._queries(self._ago(-4))
        steady_large = self._queries(self._ago(-5))
        _logger.info("nightly credit assessment: %s queries for 5 customers, %s for 30", steady_small, steady_large)
        self.assertEqual(steady_large, steady_small, "the nightly batch's queries must not grow with the book")
        self.assertEqual(first_small, steady_small)
        self.assertEqual(self.Risk.search_count([("company_id", "=", self.company.id)]), 30)


@tagged("post_install", "-at_install")
class TestCustomerVatCheck(ArDunningCommon):
    """Issue 12 point 5: the VAT number of a new customer, or a changed one, is checked and the result stored."""

    def test_vat_syntax(self):
        self.assertEqual(vat_syntax("BE0477472701"), "valid")
        self.assertEqual(vat_syntax("BE 0477.472.702"), "invalid")
        self.assertEqual(vat_syntax("0477472701", "BE"), "valid", "no prefix: the partner's country")
        self.assertEqual(vat_syntax("EL094259216"), "valid", "Greece's prefix is EL")
        self.assertEqual(vat_syntax("QQ123"), "unknown")
        self.assertEqual(vat_syntax(""), "")

    def test_check_stored_on_create_and_change(self):
        be = self.env.ref("base.be")
        partner = self.env["res.partner"].create(
            {"name": "VAT Check NV", "is_company": True, "country_id": be.id, "vat": "BE0477472701"}
        )
        self.assertEqual(partner.ar_vat_check, "valid")
        self.assertEqual(partner.ar_vat_check_date, fields.Date.context_today(partner))
        # a number pushed by an external platform without Odoo's validation is still checked
        partner.with_context(no_vat_validation=True).vat = "BE0477472702"
        self.assertEqual(partner.ar_vat_check, "invalid")
        partner.vat = False
        self.assertFalse(partner.ar_vat_check)

    def test_vies_when_the_company_enabled_it(self):
        self.company.vat_check_vies = True
        be = self.env.ref("base.be")
        with patch("odoo.addons.base_vat.models.res_partner.check_vies", return_value={"valid": True}) as vies:
            confirmed = self.env["res.partner"].create(
                {"name": "VIES NV", "is_company": True, "country_id": be.id, "vat": "BE0477472701"}
            )
            self.assertEqual(confirmed.ar_vat_check, "vies_valid")
        self.assertTrue(vies.called, "Odoo's own VIES check answered")
        with patch("odoo.addons.base_vat.models.res_partner.check_vies", return_value={"valid": False}):
            unknown = self.env["res.partner"].create(
                {"name": "Not in VIES NV", "is_company": True, "country_id": be.id, "vat": "BE4000000084"}
            )
            self.assertEqual(unknown.ar_vat_check, "vies_invalid")
