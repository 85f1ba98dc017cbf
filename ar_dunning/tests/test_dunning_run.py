from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, sql_db
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningRun(ArDunningCommon):
    def test_level_boundaries(self):
        due_today = self._invoice(self.be_b2b, 100, self.RUN_DATE)
        two_days = self._invoice(self.de_b2b, 100, self._days(2))
        run = self._run(partners=self.be_b2b | self.de_b2b)
        self.assertFalse(run.line_ids, "due today or 2 days late: level 1 (3 days) not reached")
        # exactly 3 days (due Friday, run on Monday: the weekend counts)
        self.assertEqual(self._days(3).weekday(), 4)
        exactly = self._invoice(self.be_b2b, 100, self._days(3))
        run = self._run(partners=self.be_b2b | self.de_b2b)
        line = self._line(run, self.be_b2b)
        self.assertEqual(line.level_id, self.level1)
        self.assertEqual(line.item_ids.filtered("level_id").move_id, exactly)
        self.assertNotIn(due_today, line.statement_item_ids.move_id, "not overdue: not in the statement")
        self.assertFalse(self._line(run, self.de_b2b))
        self.assertTrue(two_days)

    def test_one_level_at_a_time(self):
        move = self._invoice(self.be_b2c, 300, self._days(60))
        run = self._run(partners=self.be_b2c, execute=True)
        self.assertEqual(self._line(run, self.be_b2c).level_id, self.level1, "a first reminder comes first")
        self.assertEqual(move.ar_dunning_level_id, self.level1)
        # next day: level 2 reached (60 > 17) and a reminder was sent -> level 2
        run2 = self._run(on_date=self.RUN_DATE + timedelta(days=1), partners=self.be_b2c)
        self.assertEqual(self._line(run2, self.be_b2c).level_id, self.level2)

    def test_exclusions(self):
        excluded = {}
        p_nofollow = self.env["res.partner"].create({"name": "No Follow", "email": "nf@x.example", "is_company": True})
        inv = self._invoice(p_nofollow, 500, self._days(10))
        inv.no_followup = True
        p_hold = self.env["res.partner"].create({"name": "On Hold", "email": "h@x.example", "is_company": True})
        self._invoice(p_hold, 500, self._days(10))
        p_hold.with_company(self.company).ar_dunning_on_hold = True
        p_promise = self.env["res.partner"].create({"name": "Promise", "email": "p@x.example", "is_company": True})
        self._invoice(p_promise, 500, self._days(10))
        self.env["ar.dunning.promise"].create(
            {"partner_id": p_promise.id, "promise_date": self.RUN_DATE + timedelta(days=3), "amount": 500}
        )
        p_paying = self.env["res.partner"].create({"name": "Paying", "email": "py@x.example", "is_company": True})
        paying = self._invoice(p_paying, 500, self._days(10))
        paying.payment_state = "in_payment"
        p_credit = self.env["res.partner"].create({"name": "Credited", "email": "c@x.example", "is_company": True})
        self._invoice(p_credit, 500, self._days(10))
        self._invoice(p_credit, 500, self._days(5), move_type="out_refund")
        p_small = self.env["res.partner"].create({"name": "Small", "email": "s@x.example", "is_company": True})
        self._invoice(p_small, 5, self._days(10))
        self.level1.min_amount = 10
        p_agency = self.env["res.partner"].create({"name": "Agency", "email": "a@x.example", "is_company": True})
        self._invoice(p_agency, 500, self._days(10)).ar_dunning_handed_over = True
        p_ok = self.env["res.partner"].create({"name": "Normal", "email": "n@x.example", "is_company": True})
        self._invoice(p_ok, 500, self._days(10))
        partners = p_nofollow | p_hold | p_promise | p_paying | p_credit | p_small | p_agency | p_ok
        run = self._run(partners=partners)
        for line in run.line_ids:
            excluded[line.partner_id.name] = line.exclusion_reason
        self.assertEqual(
            excluded,
            {
                "On Hold": "on_hold",
                "Promise": "promise",
                "Credited": "net_balance",
                "Small": "threshold",
                "Normal": False,
            },
        )
        # invoice-level exclusions produce no reminder at all
        self.assertFalse(self._line(run, p_nofollow) | self._line(run, p_paying) | self._line(run, p_agency))
        # a promise past its date and the policy's grace days (3) is broken and no longer protects
        promise = p_promise.ar_dunning_promise_ids
        run = self._run(on_date=self.RUN_DATE + timedelta(days=6), partners=p_promise)
        self.assertEqual(promise.state, "open", "within the grace days")
        run = self._run(on_date=self.RUN_DATE + timedelta(days=7), partners=p_promise)
        self.assertEqual(promise.state, "broken")
        self.assertFalse(self._line(run, p_promise).exclusion_reason)

    def test_pending_transaction(self):
        """An invoice with a pending online payment is not chased (only when the payment module is installed)."""
        inv = self._invoice(self.be_b2b, 500, self._days(10))
        Move = self.env["account.move"]
        if "transaction_ids" not in Move._fields:
            self.assertEqual(Move._ar_dunning_pending_tx_move_ids(inv), set())
            return
        # sudo: test set-up of a payment provider and transaction (not accounting data)
        provider = (
            self.env.ref("payment.payment_provider_demo").sudo().copy({"company_id": self.company.id, "state": "test"})
        )
        method = (
            self.env["payment.method"].sudo().with_context(active_test=False).search([("code", "=", "demo")], limit=1)
        )
        self.env["payment.transaction"].sudo().create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "amount": 500,
                "currency_id": inv.currency_id.id,
                "partner_id": self.be_b2b.id,
                "reference": "AR-DUN-TX-1",
                "state": "pending",
                "invoice_ids": [Command.set(inv.ids)],
            }
        )
        run = self._run(partners=self.be_b2b)
        self.assertFalse(run.line_ids, "the only overdue invoice is being paid")
        self.assertEqual(Move._ar_dunning_pending_tx_move_ids(inv), set(inv.ids))

    def test_disputed_label(self):
        """With ar_customer_centric installed, an open dispute is labelled 'disputed' (no_followup otherwise)."""
        inv = self._invoice(self.be_b2b, 500, self._days(10))
        ok = self._invoice(self.be_b2b, 200, self._days(10))
        inv.no_followup = True
        run = self._run(partners=self.be_b2b)
        item = run.line_ids.item_ids.filtered(lambda i: i.move_id == inv)
        expected = (
            "disputed" if inv._fields.get("ar_dispute_state") and inv.ar_dispute_state == "open" else "no_followup"
        )
        self.assertEqual(item.exclusion_reason, expected)
        self.assertEqual(run.line_ids.statement_item_ids.move_id, ok)
        self.assertEqual(run.line_ids.amount_overdue, 200)

    def test_tone(self):
        self._invoice(self.be_b2b, 500, self._days(10))
        self._invoice(self.de_b2b, 500, self._days(10))
        self.de_b2b.with_company(self.company).trust = "bad"
        self.be_b2b.with_company(self.company).trust = "good"
        # a history of late payment for de_b2b: paid 40 days late
        late = self._invoice(self.de_b2b, 100, self._days(100))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=late.ids).create(
            {"payment_date": self._days(60)}
        )._create_payments()
        run = self._run(partners=self.be_b2b | self.de_b2b)
        self.assertEqual(self._line(run, self.be_b2b).tone, "friendly")
        de_line = self._line(run, self.de_b2b)
        self.assertEqual(de_line.tone, "firm")
        self.assertIn("Average days late: 40.0", de_line.tone_explanation)
        self.be_b2b.with_company(self.company).ar_dunning_tone_override = "firm"
        run = self._run(partners=self.be_b2b)
        self.assertEqual(run.line_ids.tone, "firm")
        self.assertIn("Overridden", run.line_ids.tone_explanation)
        self.assertEqual(self.be_b2b.with_company(self.company).ar_dunning_tone, "firm")

    def test_fees_and_interest(self):
        """B2B: EUR 40 per invoice and §288 BGB interest at level 2; BE consumer: first reminder free."""
        self.company.ar_dunning_de_agreed_date = True  # § 286(2) BGB: default from the due date
        inv1 = self._invoice(self.de_b2b, 10000, self._days(30))
        inv2 = self._invoice(self.de_b2b, 200, self._days(30))
        (inv1 | inv2).write({"ar_dunning_level_id": self.level1.id, "ar_dunning_first_date": self._days(20)})
        run = self._run(partners=self.de_b2b)
        line = run.line_ids
        self.assertEqual(line.level_id, self.level2)
        item1 = line.item_ids.filtered(lambda i: i.move_id == inv1)
        self.assertEqual(item1.fee, 40.0)
        self.assertEqual(item1.interest, 84.41)  # 10,000 x 10.27% x 30/365
        self.assertEqual(line.fee_total, 80.0)
        # Belgian consumer: level 1 is free
        self._invoice(self.be_b2c, 300, self._days(20))
        run = self._run(partners=self.be_b2c, execute=True)
        line = run.line_ids
        self.assertEqual((line.level_id, line.fee_total, line.legal_regime), (self.level1, 0.0, "be_b2c"))
        self.assertIn("free of charge", line.body_html)
        # Dutch consumer: the 14-day letter announces the WIK costs without charging them
        self._invoice(self.nl_b2c, 1000, self._days(20))
        run = self._run(partners=self.nl_b2c)
        self.assertEqual((run.line_ids.fee_total, run.line_ids.fee_announced), (0.0, 150.0))

    def test_templates_address_the_dunning_contact(self):
        """Used by hand from the composer, a reminder template writes to the dunning contact (its partner_to),
        not to what Odoo 19 takes by default (use_default_to: the record's partner, here the customer)."""
        contact = self.env["res.partner"].create(
            {"name": "Accounts", "type": "invoice", "parent_id": self.be_b2b.id, "email": "ap@vandamme.example"}
        )
        self._invoice(self.be_b2b, 100, self._days(5))
        line = self._line(self._run(partners=self.be_b2b), self.be_b2b)
        self.assertEqual(line.contact_id, contact)
        templates = self.env["mail.template"].search([("model", "=", "ar.dunning.line")])
        self.assertGreaterEqual(len(templates), 3)
        for template in templates:
            values = template._generate_template(line.ids, ("partner_to",))[line.id]
            self.assertEqual(values.get("partner_ids"), contact.ids, template.name)

    def test_execute_actions(self):
        inv = self._invoice(self.de_b2b, 1000, self._days(40))
        inv.write({"ar_dunning_level_id": self.level2.id, "ar_dunning_first_date": self._days(30)})
        self.level3.invoice_charges = True
        run = self._run(partners=self.de_b2b, execute=True)
        line = run.line_ids
        self.assertEqual((run.state, line.state, line.level_id), ("done", "done", self.level3))
        self.assertEqual(line.mail_id.recipient_ids, self.de_b2b)
        self.assertEqual(line.mail_id.attachment_ids, line.pdf_id)
        self.assertTrue(line.pdf_id.raw.startswith(b"%PDF"))
        self.assertTrue(run.letter_attachment_id.raw.startswith(b"%PDF"))
        self.assertEqual(inv.ar_dunning_level_id, self.level3)
        self.assertTrue(self.de_b2b.with_company(self.company).ar_dunning_credit_hold)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.de_b2b.id)]
        )
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        charges = line.charge_move_ids
        self.assertEqual(charges.state, "posted")
        self.assertAlmostEqual(charges.amount_total, line.interest_total + line.fee_total)
        with self.assertRaisesRegex(UserError, "credit hold"):
            self._invoice(self.de_b2b, 50, self.RUN_DATE)
        # the dunning contact gets the e-mail
        contact = self.env["res.partner"].create(
            {"name": "Accounts", "type": "invoice", "parent_id": self.be_b2b.id, "email": "invoices@vandamme.example"}
        )
        self._invoice(self.be_b2b, 100, self._days(5))
        run = self._run(partners=self.be_b2b, execute=True)
        self.assertEqual(run.line_ids.mail_id.recipient_ids, contact)

    def test_rerun_sends_nothing_again(self):
        # a crash mid-run followed by a rerun is tested with real processes and SIGKILL in
        # repo_tests/test_exactly_once.py; here: executing again never sends again
        partners = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "email": f"c{i}@x.example", "is_company": True} for i in range(5)]
        )
        for partner in partners:
            self._invoice(partner, 100, self._days(5))
        mails_before = self.env["mail.mail"].search_count([])
        run = self._run(partners=partners)
        self.assertEqual(len(run.line_ids), 5)
        run._execute(batch_size=2)
        self.assertEqual((run.state, run.done_count), ("done", 5))
        self.assertEqual(self.env["mail.mail"].search_count([]) - mails_before, 5)
        run._execute(batch_size=2)  # a second call sends nothing
        self.assertEqual(self.env["mail.mail"].search_count([]) - mails_before, 5)
        # another run the same day does not remind again at the same level
        run2 = self._run(partners=partners, execute=True)
        self.assertFalse(run2.line_ids)
        self.assertEqual(self.env["mail.mail"].search_count([]) - mails_before, 5)

    def test_untick_and_include(self):
        self._invoice(self.be_b2b, 100, self._days(5))
        self._invoice(self.de_b2b, 100, self._days(5))
        self.de_b2b.with_company(self.company).ar_dunning_on_hold = True
        run = self._run(partners=self.be_b2b | self.de_b2b)
        self._line(run, self.be_b2b).selected = False
        self._line(run, self.de_b2b).action_include()
        run.action_execute()
        self.assertEqual(self._line(run, self.be_b2b).state, "excluded")
        self.assertEqual(self._line(run, self.be_b2b).exclusion_reason, "manual")
        self.assertEqual(self._line(run, self.de_b2b).state, "done")

    def test_handover_dossier(self):
        agency = self.env["res.partner"].create({"name": "Incasso Partners BV", "is_company": True})
        self.policy.collection_agency_id = agency
        self.level3.action_handover = True
        inv = self._invoice(self.be_b2b, 700, self._days(40))
        inv.write({"ar_dunning_level_id": self.level2.id, "ar_dunning_first_date": self._days(30)})
        run = self._run(partners=self.be_b2b, execute=True)
        self.assertTrue(inv.ar_dunning_handed_over)
        csv_text = run.handover_csv_id.raw.decode()
        self.assertIn("Incasso Partners BV", csv_text)
        self.assertIn(inv.name, csv_text)
        self.assertIn("Final notice", csv_text)
        self.assertTrue(run.handover_pdf_id.raw.startswith(b"%PDF"))
        run = self._run(on_date=self.RUN_DATE + timedelta(days=30), partners=self.be_b2b)
        self.assertFalse(run.line_ids, "handed-over invoices get no more reminders")

    def test_cron_resumes_crashed_automatic_run(self):
        self.policy.automatic = True
        partners = self.env["res.partner"].create(
            [{"name": f"Auto {i}", "email": f"auto{i}@x.example", "is_company": True} for i in range(3)]
        )
        for partner in partners:
            self._invoice(partner, 100, self._days(5))
        mails_before = self.env["mail.mail"].search_count([])
        run = self._run(partners=partners)
        # what a worker killed after its first batch leaves behind: a running run, one line sent
        run.write({"automatic": True, "state": "running"})
        run.line_ids.sorted("id")[:1]._execute_batch()
        self.assertEqual((run.state, run.done_count), ("running", 1))
        # the cron wakes up the same day (a later day would rightly start a run of its own)
        with freeze_time(self.RUN_DATE):
            self.env["ar.dunning.run"]._cron_run_automatic()
        self.assertEqual((run.state, run.done_count), ("done", 3))
        self.assertEqual(self.env["mail.mail"].search_count([]) - mails_before, 3)

    def test_cron_automatic_and_kpis(self):
        self.policy.automatic = True
        self._invoice(self.be_b2b, 100, self.RUN_DATE - timedelta(days=5))
        self._invoice(self.be_b2b, 300, self.RUN_DATE + timedelta(days=5))
        self.env["ar.dunning.run"]._cron_run_automatic()
        run = self.env["ar.dunning.run"].search([("automatic", "=", True), ("company_id", "=", self.company.id)])
        self.assertTrue(run)
        self.assertEqual(run.state, "done")
        kpis = self.env["ar.dunning.kpi"].with_company(self.company)._refresh(on_date=self.RUN_DATE)
        row = kpis.filtered(lambda k: k.partner_id == self.be_b2b)
        self.assertEqual((row.receivable, row.overdue, row.not_due, row.d1_30), (400.0, 100.0, 300.0, 100.0))
        self.assertTrue(kpis.filtered(lambda k: k.scope == "company"))
        self.assertGreater(row.dso, 0)

    def test_queries_bounded(self):
        """Preview cost does not grow with the number of customers."""

        def make(n, tag):
            partners = self.env["res.partner"].create(
                [{"name": f"{tag} {i}", "email": f"{tag}{i}@x.example", "is_company": True} for i in range(n)]
            )
            self.env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": p.id,
                        "invoice_date": self._days(10),
                        "invoice_date_due": self._days(10),
                        "invoice_line_ids": [Command.create({"name": "x", "price_unit": 100, "tax_ids": []})],
                    }
                    for p in partners
                ]
            ).action_post()
            return partners

        small, big = make(3, "small"), make(30, "big")
        self.env.invalidate_all()
        q0 = sql_db.sql_counter
        self._run(partners=small)
        q_small = sql_db.sql_counter - q0
        self.env.invalidate_all()
        q0 = sql_db.sql_counter
        self._run(partners=big)
        q_big = sql_db.sql_counter - q0
        self.assertLess(q_big, q_small + 15, f"preview queries grow with customers: {q_small} -> {q_big}")
