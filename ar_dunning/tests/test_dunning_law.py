"""Every rule of the late-payment engine on real runs: missing rate, BE clause, NL WIK, DE default."""

import re
from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import format_amount, format_date, html2plaintext

from .common import ArDunningCommon


@tagged("post_install", "-at_install")
class TestDunningLaw(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rate = cls.env["ar.dunning.interest.rate"]
        cls.de = cls.env.ref("base.de")

    def _level1_sent(self, partner, on_date):
        """Send the first reminder (e-mail) on ``on_date``; returns its line."""
        run = self._run(on_date=on_date, partners=partner, execute=True)
        line = run.line_ids.filtered(lambda x: x.state == "done")
        self.assertEqual(line.level_id, self.level1)
        return line

    def test_missing_rate_blocks_preview_and_execute(self):
        self.company.ar_dunning_de_agreed_date = True
        self.Rate.search([("country_id", "=", self.de.id), ("date_from", ">=", date(2026, 7, 1))]).unlink()
        on_date = date(2026, 9, 15)
        invoice = self._invoice(self.de_b2b, 1000, on_date - timedelta(days=20))
        invoice.ar_dunning_level_id = self.level1
        run = self._run(on_date=on_date, partners=self.de_b2b)
        line = run.line_ids
        self.assertEqual(line.level_id, self.level2)
        self.assertTrue(line.blocked)
        self.assertIn("Germany", line.rate_missing)
        self.assertIn("H2-2026", line.rate_missing)
        self.assertEqual(line.interest_total, 0.0)
        self.assertEqual(run.blocked_count, 1)
        self.assertIn("H2-2026", run.rate_warning)
        with self.assertRaisesRegex(UserError, "H2-2026"):
            run.action_execute()
        self.assertEqual(line.state, "draft", "nothing was sent")
        # the accountant enters the rate: the preview computes it and the run can go out
        self.Rate.create(
            {
                "country_id": self.de.id,
                "customer_type": "b2b",
                "date_from": date(2026, 7, 1),
                "date_to": date(2026, 12, 31),
                "rate": 10.27,
            }
        )
        run.action_preview()
        line = run.line_ids
        self.assertFalse(line.blocked)
        self.assertEqual(line.interest_total, round(1000 * 0.1027 * 20 / 365, 2))
        run.action_execute()
        self.assertEqual(line.state, "done")

    def test_belgian_consumer_without_clause(self):
        invoice = self._invoice(self.be_b2c, 300, self._days(5))
        first = self._level1_sent(self.be_b2c, self.RUN_DATE)
        self.assertTrue(first.first_notice)
        # e-mail on Monday 2 March: the 14 days run 3 to 16 March
        self.assertEqual(first.notice_end, date(2026, 3, 16))
        self.assertEqual(first.payment_deadline, date(2026, 3, 16))
        self.assertEqual(first.fee_announced, 0.0, "no clause: no damages to announce")
        self.assertIn("free of charge", first.body_html)
        # still inside the period: nothing may be claimed
        run = self._run(on_date=date(2026, 3, 16), partners=self.be_b2c)
        self.assertEqual((run.line_ids.fee_total, run.line_ids.interest_total), (0.0, 0.0))
        # ten days after the period: legal interest rate (4.5 % in 2026), no damages
        run = self._run(on_date=date(2026, 3, 26), partners=self.be_b2c)
        line = run.line_ids
        self.assertEqual(line.level_id, self.level2)
        self.assertEqual(line.fee_total, 0.0)
        self.assertEqual(line.interest_total, round(300 * 0.045 * 10 / 365, 2))
        self.assertFalse(line.first_notice)
        self.assertEqual(invoice.ar_dunning_level_id, self.level1)

    def test_belgian_consumer_with_clause(self):
        self.company.write({"ar_dunning_be_b2c_clause": True, "ar_dunning_be_b2c_clause_rate": 12.0})
        self._invoice(self.be_b2c, 250, self._days(5))
        self._invoice(self.be_b2c, 150, self._days(4))
        first = self._level1_sent(self.be_b2c, self.RUN_DATE)
        # damages announced on the amount due of the reminder (400), not per invoice
        self.assertEqual(first.fee_announced, 55.0)
        run = self._run(on_date=date(2026, 3, 26), partners=self.be_b2c)
        line = run.line_ids
        self.assertEqual(line.fee_total, 55.0)
        # the clause's 12 % is capped by the late-payment rate of the Law of 2 Aug 2002 (10.5 %)
        self.assertEqual(line.interest_total, round(250 * 0.105 * 10 / 365, 2) + round(150 * 0.105 * 10 / 365, 2))

    def test_dutch_business_wik_on_total_principal(self):
        nl_b2b = self.env["res.partner"].create(
            {
                "name": "Bakkerij Jansen BV",
                "is_company": True,
                "country_id": self.env.ref("base.nl").id,
                "email": "admin@jansen.example",
            }
        )
        nl_b2b.with_company(self.company).ar_dunning_governing_law_id = self.env.ref(
            "base.nl"
        )  # chosen in the contract
        for amount in (100, 150):
            self._invoice(nl_b2b, amount, self._days(20)).ar_dunning_level_id = self.level1
        run = self._run(partners=nl_b2b)
        line = run.line_ids
        self.assertEqual(line.level_id, self.level2)
        # WIK on 250 = 37.50 -> the EUR 40 minimum once, not EUR 40 per invoice
        self.assertEqual(line.fee_total, 40.0)
        self.assertEqual(sum(line.item_ids.mapped("fee")), 40.0)
        # another agreed rule replaces the scale
        self.company.ar_dunning_nl_b2b_fee_rule_id = self.env.ref("ar_dunning.fee_b2b_eu")
        run = self._run(partners=nl_b2b)
        self.assertEqual(run.line_ids.fee_total, 80.0)

    def test_business_customer_abroad_follows_the_sellers_law(self):
        """Rome I art. 4(1)(a)/(b): without a chosen law, the Belgian seller's law governs a Dutch buyer's contract."""
        be, nl = self.env.ref("base.be"), self.env.ref("base.nl")
        nl_b2b = self.env["res.partner"].create(
            {"name": "Bakkerij Jansen BV", "is_company": True, "country_id": nl.id, "email": "admin@jansen.example"}
        )
        for amount in (100, 150):
            self._invoice(nl_b2b, amount, self._days(20)).ar_dunning_level_id = self.level1
        line = self._run(partners=nl_b2b).line_ids
        self.assertEqual(line.law_country_id, be)
        # Belgian law (art. 6 Law of 2 Aug 2002): EUR 40 per late invoice, not the Dutch WIK scale's EUR 40 once
        self.assertEqual(line.fee_total, 80.0)
        # and its rate: 10.5 % in H1 2026 (art. 5 Law of 2 Aug 2002), 20 days from the day after the due date
        self.assertEqual(line.interest_total, round(100 * 0.105 * 20 / 365, 2) + round(150 * 0.105 * 20 / 365, 2))
        self.assertNotIn("6:119a", line.legal_text or "")
        # the contract chose Dutch law: the WIK scale on the total principal and art. 6:119a BW
        nl_b2b.with_company(self.company).ar_dunning_governing_law_id = nl
        line = self._run(partners=nl_b2b).line_ids
        self.assertEqual(line.law_country_id, nl)
        self.assertEqual(line.fee_total, 40.0)
        self.assertIn("6:119a", line.legal_text)

    def test_consumer_abroad_keeps_own_law(self):
        """Rome I art. 6: a consumer keeps the protective rules of their own country, whatever the terms chose."""
        self.nl_b2c.with_company(self.company).ar_dunning_governing_law_id = self.env.ref("base.be")
        self._invoice(self.nl_b2c, 1000, self._days(5))
        line = self._run(partners=self.nl_b2c).line_ids
        self.assertEqual(line.law_country_id, self.env.ref("base.nl"))
        self.assertEqual(line.legal_regime, "nl_b2c")

    def test_dutch_consumer_costs_capped_by_the_letter(self):
        self._invoice(self.nl_b2c, 1000, self._days(5))
        letter = self._level1_sent(self.nl_b2c, self.RUN_DATE)
        self.assertEqual(letter.fee_announced, 150.0)
        # e-mail on 2 March: received on 3 March, the 14 days end on 17 March
        self.assertEqual(letter.notice_end, date(2026, 3, 17))
        run = self._run(on_date=date(2026, 3, 17), partners=self.nl_b2c)
        self.assertEqual(run.line_ids.fee_total, 0.0, "not before the 14 days ended")
        # a new invoice raises the principal: the claim stays at what the letter announced
        self._invoice(self.nl_b2c, 1000, date(2026, 3, 1))
        run = self._run(on_date=date(2026, 3, 18), partners=self.nl_b2c)
        self.assertEqual(run.line_ids.fee_total, 150.0)
        # art. 6:119 BW interest from the due date, at 4 % (H1-2026)
        item = run.line_ids.item_ids.sorted("date_maturity")[0]
        self.assertEqual(item.interest, round(1000 * 0.04 * 21 / 365, 2))

    def test_dutch_14_day_letter_states_one_amount_and_one_term(self):
        """Art. 6:96(6) BW: the 14-day letter states one total to pay, the exact last day of the 14 days and the
        exact collection costs due after it: no second amount, no range, no "vanaf" (every level and tone)."""
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["nl_NL"])
        self.nl_b2c.lang = "nl_NL"
        # a policy may charge interest from the first reminder on (art. 6:119 BW: from the due date)
        self.level1.apply_interest = True
        self._invoice(self.nl_b2c, 1000, self._days(20))
        letter = self._level1_sent(self.nl_b2c, self.RUN_DATE)
        self.assertTrue(letter.first_notice, "the first reminder is the 14-day letter")
        self.assertEqual(letter.fee_announced, 150.0)
        self.assertTrue(letter.interest_total, "statutory interest runs from the due date")
        # e-mail on 2 March: received on 3 March, the 14 days end on 17 March
        self.assertEqual(letter.notice_end, date(2026, 3, 17))

        def norm(text):
            return re.sub(r"\s+", " ", text.replace("\xa0", " "))

        total = norm(format_amount(self.env, letter.amount_claimed, letter.currency_id, lang_code="nl_NL"))
        costs = norm(format_amount(self.env, 150.0, letter.currency_id, lang_code="nl_NL"))
        end = format_date(self.env, date(2026, 3, 17), lang_code="nl_NL")
        templates = self.env["mail.template"].search([("model", "=", "ar.dunning.line")])
        self.assertEqual(len(templates), 9)
        for template in templates:
            with self.subTest(template=template.name):
                body = str(template._generate_template(letter.ids, ["body_html"])[letter.id]["body_html"])
                self.assertIn("Geachte heer, mevrouw,", body, "rendered in Netherlands Dutch")
                # what the letter says below the statement table: the request to pay and its consequences
                text = norm(html2plaintext(body.split("</table>", 1)[1]))
                # the pay link's token holds digits and dashes too: dates and amounts are read in
                # the words of the letter, not in its links
                text = re.sub(r"https?://\S+", "<link>", text)
                amounts = set(re.findall(r"€ ?[\d.]+,\d{2}|[\d.]+,\d{2} ?€", text))
                self.assertEqual(amounts, {total, costs}, f"one total to pay and the exact costs only: {text}")
                self.assertEqual(set(re.findall(r"\d{2}-\d{2}-\d{4}", text)), {end}, text)
                self.assertIn("veertiendagenbrief", text)
                self.assertNotRegex(text, r"(?i)\b(vanaf|minimaal|ten minste|maximaal|tussen)\b")

    def test_dutch_consumer_without_letter_owes_no_costs(self):
        invoice = self._invoice(self.nl_b2c, 1000, self._days(20))
        invoice.ar_dunning_level_id = self.level1  # a reminder without the 14-day letter
        run = self._run(partners=self.nl_b2c)
        self.assertEqual(run.line_ids.fee_total, 0.0)

    def test_german_default_agreed_or_not(self):
        invoice = self._invoice(self.de_b2b, 10000, date(2026, 1, 31), post=False)
        invoice.write({"invoice_date": date(2026, 1, 20), "invoice_date_due": date(2026, 1, 31)})
        invoice.action_post()
        # not agreed (the default): in default on receipt of the first reminder
        self._level1_sent(self.de_b2b, date(2026, 2, 3))
        run = self._run(on_date=date(2026, 2, 17), partners=self.de_b2b)
        line = run.line_ids
        self.assertEqual(line.level_id, self.level2)
        # e-mail of 3 Feb received 4 Feb: interest 5 to 17 Feb (13 days) at 10.27 %, and the Verzugspauschale
        self.assertEqual(line.interest_total, round(10000 * 0.1027 * 13 / 365, 2))
        self.assertEqual(line.fee_total, 40.0)
        # the first reminder is a friendly Zahlungserinnerung: it claims no default; the second level, the
        # real Mahnung, states it and its ground
        first = self.env["ar.dunning.line"].search([("partner_id", "=", self.de_b2b.id), ("state", "=", "done")])
        self.assertTrue(first.first_notice)
        self.assertNotIn("default", first.body_html)
        self.assertNotIn("§ 286", first.body_html)
        self.assertIn("in default of payment since the receipt of our first reminder (§ 286(1) BGB)", line.legal_text)
        self.assertNotIn("without a further reminder", line.legal_text)
        # agreed payment date for this customer: from the day after the due date (17 days)
        self.de_b2b.with_company(self.company).ar_dunning_de_agreed_date = "agreed"
        run = self._run(on_date=date(2026, 2, 17), partners=self.de_b2b)
        self.assertEqual(run.line_ids.interest_total, round(10000 * 0.1027 * 17 / 365, 2))
        self.assertIn("without a further reminder", run.line_ids.legal_text)

    def test_german_consumer_notice_on_invoice(self):
        de_b2c = self.env["res.partner"].create(
            {"name": "Lena Schmidt", "country_id": self.de.id, "email": "lena@schmidt.example"}
        )
        invoice = self._invoice(de_b2c, 500, self._days(40))
        self.assertTrue(invoice.ar_dunning_de_notice, "the § 286(3) BGB notice is printed on the invoice")
        self.assertFalse(self._invoice(self.de_b2b, 500, self._days(40)).ar_dunning_de_notice)

    def test_fees_already_invoiced_not_charged_again(self):
        self.company.ar_dunning_de_agreed_date = True
        self.level2.invoice_charges = True
        invoice = self._invoice(self.de_b2b, 1000, self._days(20))
        invoice.ar_dunning_level_id = self.level1
        run = self._run(partners=self.de_b2b, execute=True)
        line2 = run.line_ids
        self.assertEqual(line2.fee_total, 40.0)
        self.assertTrue(line2.charge_move_ids)
        run = self._run(on_date=self.RUN_DATE + timedelta(days=14), partners=self.de_b2b)
        line3 = run.line_ids
        self.assertEqual(line3.level_id, self.level3)
        self.assertEqual(line3.fee_total, 0.0, "the EUR 40 was invoiced at level 2")
        total = round(1000 * 0.1027 * 34 / 365, 2)
        self.assertAlmostEqual(line3.interest_total, round(total - line2.interest_total, 2))

    def test_rate_reminder_activity(self):
        self.Rate.search([("date_from", ">=", date(2027, 1, 1))]).unlink()
        with freeze_time("2026-03-01"):
            self.Rate._cron_remind_next_rates()  # not yet: the reminder starts mid-June / mid-December
        de_rates = self.Rate.search([("country_id", "=", self.de.id), ("customer_type", "=", "b2b")])
        self.assertFalse(de_rates.activity_ids)
        with freeze_time("2026-12-20"):
            self.Rate._cron_remind_next_rates()
            self.Rate._cron_remind_next_rates()  # once
        activity = de_rates.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("H1-2027", activity.summary)
