from datetime import timedelta

import psycopg2
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningPromise(ArDunningCommon):
    """Promises to pay made by the buyer (issue 16, first slice) and how dunning keeps them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.write({"promise_max_days": 30, "promise_grace_days": 3})
        cls.collector = new_test_user(
            cls.env, login="collector", groups="account.group_account_invoice", company_id=cls.company.id
        )
        cls.policy.collector_id = cls.collector
        # two overdue invoices, one not yet due (RUN_DATE is "today" in these tests)
        cls.inv1 = cls._invoice(cls.be_b2b, 400, cls._days(20))
        cls.inv2 = cls._invoice(cls.be_b2b, 600, cls._days(18))
        cls.inv_future = cls._invoice(cls.be_b2b, 100, cls.RUN_DATE + timedelta(days=10))

    def setUp(self):
        super().setUp()
        self.freezer = freeze_time(self.RUN_DATE)
        self.freezer.start()
        self.addCleanup(self.freezer.stop)

    def _request(self, moves, days, **kw):
        kw.setdefault("source", "guest")
        return self.env["ar.dunning.promise"]._ar_request(moves, self.RUN_DATE + timedelta(days=days), **kw)

    def _mails(self, promise):
        # the buyer's e-mails (not the activity notice to the accountant)
        return self.env["mail.mail"].search(
            [
                ("model", "=", "ar.dunning.promise"),
                ("res_id", "=", promise.id),
                ("recipient_ids", "in", promise.notify_partner_id.ids),
            ]
        )

    # ------------------------------------------------------------------ made by the buyer

    def test_within_policy_accepted_at_once(self):
        promise = self._request(self.inv1 | self.inv2, 14, note="Waiting for our customer's payment")
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.amount, 1000.0, "the server adds up the invoices' open amounts")
        self.assertEqual(promise.move_ids, self.inv1 | self.inv2)
        self.assertEqual((promise.source, promise.partner_id), ("guest", self.be_b2b))
        self.assertFalse(promise.activity_ids, "nothing to review")
        mail = self._mails(promise)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.be_b2b)
        self.assertIn("We confirm your promise to pay", str(mail.body_html))

    def test_beyond_policy_is_a_request_accepted_in_one_click(self):
        promise = self._request(self.inv1, 45)
        self.assertEqual(promise.state, "requested")
        activity = promise.activity_ids
        self.assertEqual(activity.user_id, self.collector, "the customer's follow-up user reviews it")
        self.assertIn("received your request", str(self._mails(promise).body_html))
        # a request does not hold the invoice back from reminders
        run = self._run(partners=self.be_b2b)
        self.assertIn(self.inv1, self._line(run, self.be_b2b).statement_item_ids.move_id)
        promise.with_user(self.collector).action_accept()
        self.assertEqual(promise.state, "open")
        self.assertFalse(promise.activity_ids)
        self.assertEqual(len(self._mails(promise)), 2, "the buyer is told it is accepted")

    def test_declined_request_frees_the_invoice(self):
        promise = self._request(self.inv1, 60)
        with self.assertRaises(UserError):
            self._request(self.inv1, 5)
        promise.with_user(self.collector).action_decline()
        self.assertEqual(promise.state, "declined")
        self.assertTrue(any("cannot accept your request" in str(m.body_html) for m in self._mails(promise)))
        again = self._request(self.inv1, 5)
        self.assertEqual(again.state, "open")
        with self.assertRaises(UserError):
            promise.action_accept()

    def test_what_can_be_promised(self):
        with self.assertRaisesRegex(UserError, "cannot be promised"):
            self._request(self.inv_future, 5)
        other = self._invoice(self.de_b2b, 100, self._days(10))
        with self.assertRaisesRegex(UserError, "one customer"):
            self._request(self.inv1 | other, 5)
        with self.assertRaisesRegex(UserError, "from today on"):
            self._request(self.inv1, -1)
        with self.assertRaisesRegex(UserError, "at most"):
            self._request(self.inv1, 5, note="x" * 1001)
        self.inv2.no_followup = True  # e.g. disputed
        with self.assertRaisesRegex(UserError, "cannot be promised"):
            self._request(self.inv2, 5)

    def test_no_double_promise_for_one_invoice(self):
        self._request(self.inv1, 5)
        with self.assertRaisesRegex(UserError, "cannot be promised"):
            self._request(self.inv1 | self.inv2, 5)
        # the database refuses it too, whatever the path (e.g. two requests at the same moment)
        manual = self.env["ar.dunning.promise"].create(
            {"partner_id": self.be_b2b.id, "promise_date": self.RUN_DATE + timedelta(days=3)}
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation), self.cr.savepoint():
            manual.line_ids = [(0, 0, {"move_id": self.inv1.id})]
            manual.flush_recordset()

    # ------------------------------------------------------------------ dunning respects and enforces it

    def test_run_skips_only_the_promised_invoices(self):
        self._request(self.inv1, 10)
        run = self._run(partners=self.be_b2b)
        line = self._line(run, self.be_b2b)
        self.assertFalse(line.exclusion_reason, "the customer is still reminded of the other invoice")
        self.assertEqual(line.statement_item_ids.move_id, self.inv2)
        promised = line.item_ids.filtered(lambda i: i.move_id == self.inv1)
        self.assertEqual(promised.exclusion_reason, "promise")
        # everything promised: no reminder at all
        self._request(self.inv2, 10)
        self.assertFalse(self._line(self._run(partners=self.be_b2b), self.be_b2b))

    def test_broken_after_grace_resumes_at_previous_level_and_says_so(self):
        # the invoices reached level 2 before the promise
        self._run(partners=self.be_b2b, execute=True)
        self._run(on_date=self.RUN_DATE + timedelta(days=1), partners=self.be_b2b, execute=True)
        self.assertEqual((self.inv1 | self.inv2).ar_dunning_level_id, self.level2)
        promise = self._request(self.inv1 | self.inv2, 10)
        # date + 3 grace days: still held, not broken
        run = self._run(on_date=self.RUN_DATE + timedelta(days=13), partners=self.be_b2b)
        self.assertFalse(run.line_ids.statement_item_ids.move_id & (self.inv1 | self.inv2))
        self.assertEqual(promise.state, "open")
        # the day after: broken, reminded again at level 2 (not 3, though both are over 31 days late), saying why
        self.be_b2b.lang = "en_US"
        run = self._run(on_date=self.RUN_DATE + timedelta(days=14), partners=self.be_b2b, execute=True)
        self.assertEqual(promise.state, "broken")
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.level_id, self.level2)
        self.assertEqual(line.broken_promise_ids, promise)
        body = str(line.mail_id.body_html)
        self.assertIn("ar_dunning_broken_promise", body)
        self.assertIn(f"You promised to pay {self.inv1.name}, {self.inv2.name} by", body)
        self.assertLess(body.index("ar_dunning_broken_promise"), body.index("<table"))
        # once said, the next reminder climbs the ladder as usual and does not repeat it
        run = self._run(on_date=self.RUN_DATE + timedelta(days=15), partners=self.be_b2b)
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.level_id, self.level3)
        self.assertFalse(line.broken_promise_ids)
        # and the payment-behaviour score counts the broken promise
        score = self.be_b2b._ar_dunning_tone_data(self.RUN_DATE + timedelta(days=15))[self.be_b2b.id]
        self.assertIn("Broken promises to pay and payment plans: 1 → +10.0", score[2])

    def test_run_dated_ahead_breaks_no_promise(self):
        promise = self._request(self.inv1, 5)
        run = self.env["ar.dunning.run"]._run_batch(
            date=self.RUN_DATE + timedelta(days=9),
            policy_ids=self.policy.ids,
            partner_ids=self.be_b2b.ids,
            company=self.company,
        )
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.broken_promise_ids, promise, "the preview shows the promise its date would break")
        self.assertIn(self.inv1, line.statement_item_ids.move_id)
        self.assertEqual((promise.state, promise.date_resolved), ("open", False), "but nothing broke today")
        with self.assertRaisesRegex(UserError, "sent from that day on"):
            run.action_execute()
        # a run of today still holds the promised invoice
        self.assertNotIn(self.inv1, self._line(self._run(partners=self.be_b2b), self.be_b2b).statement_item_ids.move_id)

    def test_broken_promise_text_in_the_customer_language(self):
        expected = {
            "nl_NL": "U hebt beloofd",
            "nl_BE": "U hebt beloofd",
            "fr_BE": "Vous aviez promis de payer",
            "de_DE": "Sie hatten uns versprochen",
        }
        for code in expected:
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(list(expected), overwrite=True)
        promise = self._request(self.inv1, 2)
        self._run(on_date=self.RUN_DATE + timedelta(days=6), partners=self.be_b2b)
        self.assertEqual(promise.state, "broken")
        for code, text in expected.items():
            with self.subTest(lang=code):
                self.be_b2b.lang = code
                run = self._run(on_date=self.RUN_DATE + timedelta(days=6), partners=self.be_b2b)
                self.assertIn(text, self._line(run, self.be_b2b).broken_promise_text)

    def test_kept_on_payment(self):
        promise = self._request(self.inv1 | self.inv2, 10)
        self._register_payment(self.inv1 | self.inv2)
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.date_resolved, self.RUN_DATE)

    def test_partial_payment_keeps_the_rest_promised(self):
        promise = self._request(self.inv1 | self.inv2, 10)
        self._register_payment(self.inv1)
        self._register_payment(self.inv2, amount=100)
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.amount_residual, 500.0)
        run = self._run(on_date=self.RUN_DATE + timedelta(days=12), partners=self.be_b2b)
        self.assertFalse(run.line_ids, "the rest stays promised until the date")
        self._register_payment(self.inv2)
        self.assertEqual(promise.state, "kept")

    def test_promises_kept_kpi(self):
        kept = self._request(self.inv1, 5)
        self._register_payment(self.inv1)
        broken = self._request(self.inv2, 2)
        self._run(on_date=self.RUN_DATE + timedelta(days=6), partners=self.be_b2b)
        self.assertEqual((kept.state, broken.state), ("kept", "broken"))
        kpis = self.env["ar.dunning.kpi"].with_company(self.company)._refresh(self.RUN_DATE + timedelta(days=6))
        by_scope = {(k.scope, k.partner_id): k for k in kpis}
        self.assertEqual(by_scope[("partner", self.be_b2b)].promise_kept_share, 50.0)
        self.assertEqual(by_scope[("company", self.env["res.partner"])].promise_count, 2)

    # ------------------------------------------------------------------ access

    def test_access(self):
        promise = self._request(self.inv1, 5)
        portal = new_test_user(self.env, login="promise_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            promise.with_user(portal).read(["amount"])
        other_company = self.setup_other_company()["company"]
        outsider = new_test_user(
            self.env, login="promise_outsider", groups="account.group_account_invoice", company_id=other_company.id
        )
        self.assertFalse(self.env["ar.dunning.promise"].with_user(outsider).search([]))
        self.assertFalse(self.env["ar.dunning.promise.line"].with_user(outsider).search([]))
