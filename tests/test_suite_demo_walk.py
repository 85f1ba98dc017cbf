from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("ar_demo_walk", "-standard", "-at_install", "post_install")
class TestDemoWalk(HttpCase):
    """The demo as a newcomer walks it, as the buyer and as the accountant.

    Runs on a copy of the database `make run` builds (``make test`` builds it once per
    version of the modules and runs this class there with ``--test-tags ar_demo_walk``):
    the demo data is what is tested.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = cls.env.ref("ar_suite.user_buyer_demo")
        cls.accountant = cls.env.ref("ar_suite.user_accountant_demo")
        cls.commercial = cls.buyer.partner_id.commercial_partner_id
        cls.company = cls.accountant.company_id

    def test_every_invoice_went_through_delivery(self):
        invoices = self.env["account.move"].search(
            [("company_id", "=", self.company.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
        self.assertGreater(len(invoices), 150)
        # Peppol invoices wait (not sent, no PDF kept) when the official rules are not at hand or
        # block them (their findings are on the invoice): the product refusing, as it should
        waiting = invoices.filtered(lambda m: m.ar_peppol_state in ("to_validate", "invalid"))
        # customers who asked for no delivery ("manual": the accountant downloads the PDF)
        manual = invoices.filtered(
            lambda m: m.commercial_partner_id.with_company(self.company).invoice_sending_method == "manual"
        )
        self.assertTrue(manual, "the demo has customers who asked for no delivery")
        self.assertFalse(manual.ar_delivery_log_ids, "nothing is sent to them")
        undelivered = (invoices - waiting - manual).filtered(lambda m: not m.ar_delivery_log_ids)
        self.assertFalse(undelivered[:5].mapped("name"), "every demo invoice has a delivery record")
        no_pdf = (invoices - waiting - manual).filtered(lambda m: not m.invoice_pdf_report_id)
        self.assertFalse(no_pdf[:5].mapped("name"), "every delivered invoice keeps its PDF")
        channels = set(invoices.ar_delivery_log_ids.mapped("channel"))
        self.assertLessEqual({"email", "ar_portal", "ar_letter", "ar_peppol", "ar_cxml"}, channels)
        # the cXML customers' invoices went to the demo's AP endpoint (http on 127.0.0.1), not to e-mail
        cxml = invoices.filtered(
            lambda m: m.commercial_partner_id.with_company(self.company).invoice_sending_method == "ar_cxml"
        )
        self.assertTrue(cxml, "the demo has cXML customers")
        cxml_logs = cxml.ar_delivery_log_ids
        self.assertFalse(cxml_logs.filtered("is_fallback")[:5].mapped("move_id.name"), "no fallback to e-mail")
        not_by_cxml = cxml.filtered(
            lambda m: not m.ar_delivery_log_ids.filtered(lambda log: log.channel == "ar_cxml" and log.state == "sent")
        )
        self.assertFalse(not_by_cxml[:5].mapped("name"), "every cXML customer's invoice accepted by its AP network")
        self.assertTrue(
            all(
                (log.destination or "").startswith("http://127.0.0.1:")
                for log in cxml_logs.filtered(lambda log: log.channel == "ar_cxml")
            ),
            "the demo's local AP endpoint",
        )
        self.assertTrue(invoices.filtered(lambda m: m.ar_delivery_state == "held"), "statement customers")
        self.assertTrue(self.env["ar.customer.statement"].search_count([("state", "=", "sent")]))
        self.assertTrue(self.env["ar.dunning.line"].search_count([("state", "=", "done")]), "executed reminders")
        runs = self.env["ar.dunning.run"].search([("company_id", "=", self.company.id)], order="date")
        self.assertEqual(runs.mapped("state"), ["done"] * 5 + ["preview"], "the past runs were executed")
        # an invoice e-mailed on its own (statement customers get theirs in the statement's mail)
        sent_by = invoices.ar_delivery_log_ids.filtered(
            lambda log: (
                log.channel == "email"
                and log.state == "sent"
                # the demo book's invoices (Odoo's own demo invoices keep their salesperson)
                and log.move_id.invoice_user_id == self.accountant
                and log.move_id.message_ids.filtered(lambda m: m.message_type == "comment" and m.attachment_ids)
            )
        )[:1]
        self.assertTrue(sent_by)
        chatter = sent_by.move_id.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(chatter[:1].author_id, self.accountant.partner_id, "the accountant sent it, not OdooBot")

    def test_people_and_languages(self):
        self.assertEqual(self.buyer.lang, "nl_BE")
        self.assertEqual(self.commercial.lang, "nl_BE")
        self.assertTrue(self.company.logo)
        customers = self.env["res.partner"].search(
            [("customer_rank", ">", 0), ("is_company", "=", True), ("country_id.code", "in", ["NL", "DE", "FR"])]
        )
        expected = {"NL": "nl_NL", "DE": "de_DE", "FR": "fr_FR"}
        for partner in customers:
            self.assertEqual(partner.lang, expected[partner.country_id.code], partner.name)
            for contact in partner.child_ids:
                self.assertEqual(contact.lang, partner.lang, contact.name)
        invoice = self.env["account.move"].search([("commercial_partner_id", "=", self.commercial.id)], limit=1)
        self.assertEqual(invoice.invoice_user_id, self.accountant)

    def test_buyer_portal(self):
        self.start_tour("/my/invoices", "ar_demo_walk_buyer_list", login="buyer")
        invoice = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.commercial.id),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "=", "not_paid"),
                ("ar_dispute_state", "!=", "open"),
            ],
            order="invoice_date desc",
            limit=1,
        )
        self.assertTrue(invoice.invoice_pdf_report_id)
        self.authenticate("buyer", "buyer")
        page = self.url_open(f"/my/invoices/{invoice.id}?report_type=html")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Proforma", page.text)
        self.start_tour(f"/my/invoices/{invoice.id}", "ar_demo_walk_buyer_invoice", login="buyer")

    def test_accountant_deliveries_and_dashboard(self):
        self.start_tour(
            "/odoo/action-ar_customer_centric.ar_delivery_log_action", "ar_demo_walk_deliveries", login="accountant"
        )
        dashboard = self.env["ar.suite.dashboard"].with_user(self.accountant).with_company(self.company)
        figures = dashboard.create({"company_id": self.company.id})
        self.assertGreater(figures.amount_open, 0)
        self.assertGreater(figures.amount_overdue, 0)
        self.assertGreater(figures.dso_days, 0)
        self.start_tour("/odoo/action-ar_suite.ar_suite_dashboard_action", "ar_demo_walk_dashboard", login="accountant")

    def test_credit_monitoring(self):
        """Odoo's credit limits are set on the demo customers and the nightly assessment ran: some are over
        their limit (with an alert each), some close to it, the others within it."""
        self.assertTrue(self.company.account_use_credit_limit, "Settings: Sales Credit Limit")
        Risk = self.env["ar.credit.risk"].with_user(self.accountant).with_company(self.company)
        risks = Risk.search([("company_id", "=", self.company.id)])
        self.assertGreater(len(risks), 30)
        limited = risks.filtered("credit_limit")
        self.assertGreater(len(limited), 30, "the limit column is filled in")
        over = limited.filtered("over_limit")
        near = limited.filtered(lambda r: not r.over_limit and r.exposure >= 0.8 * r.credit_limit)
        within = limited - over - near
        self.assertTrue(over and near and within, (len(over), len(near), len(within)))
        self.assertGreater(len(set(risks.mapped("grade"))), 2, "grades from the customers' payment behaviour")
        for risk in over:
            self.assertEqual(
                risk.credit_limit, risk.partner_id.with_company(self.company).credit_limit, "Odoo's own limit"
            )
        # one alert per customer over its limit, for its follow-up user
        crossed = risks.history_ids.filtered("limit_crossed")
        self.assertEqual(crossed.partner_id, over.partner_id)
        self.assertEqual(len(crossed.activity_id), len(over))
        self.assertTrue(all(over.mapped("reasons")))
        dashboard = self.env["ar.suite.dashboard"].with_user(self.accountant).with_company(self.company)
        figures = dashboard.create({"company_id": self.company.id})
        self.assertEqual(figures.credit_over_limit_count, len(over))

    # Payment plans: the policy's rules, and the plans the demo made through the plan API on their days (the
    # buyers' proposals, the accountant's acceptance, payments registered on the instalments' dates, the dunning
    # runs in between): one completed, one broken (today's run resumes its reminders), the portal buyer's on
    # schedule with its first instalment paid, one late within the grace days, a private customer's accepted at
    # once today and one waiting for the accountant's review.
    def _plans(self):
        Plan = self.env["ar.dunning.plan"].with_user(self.accountant).with_company(self.company)
        return Plan.search([("company_id", "=", self.company.id)])

    def _plan(self, state, **where):
        plans = self._plans()
        found = plans.filtered(lambda p: p.state == state and all(p[k] == v for k, v in where.items()))
        self.assertEqual(len(found), 1, (state, where, plans.mapped("state")))
        return found

    def _todays_run(self):
        return self.env["ar.dunning.run"].search(
            [("company_id", "=", self.company.id), ("state", "=", "preview"), ("date", "=", self.today)], limit=1
        )

    @property
    def today(self):
        return fields.Date.context_today(self.accountant)

    def test_payment_plan_rules_and_states(self):
        rules = self.commercial._ar_dunning_policy(self.company).plan_rule_ids
        self.assertTrue(rules.filtered(lambda r: r.auto_accept and not r.tone), "plans within the limits: accepted")
        self.assertTrue(rules.filtered(lambda r: r.tone == "firm" and not r.auto_accept), "late payers: reviewed")
        self.assertFalse(rules.filtered(lambda r: r.segment == "small").interest, "private customers: no interest")
        plans = self._plans()
        self.assertEqual(
            sorted(plans.mapped("state")), ["active", "active", "broken", "completed", "late", "proposed"], plans
        )
        self.assertEqual(len(plans.partner_id), len(plans), "one customer per story")
        # completed: both instalments paid by registered payments, the invoices paid
        completed = self._plan("completed")
        self.assertEqual(set(completed.instalment_ids.mapped("state")), {"paid"})
        self.assertTrue(all(m.payment_state in ("paid", "in_payment") for m in completed.move_ids))
        self.assertEqual(completed.amount_paid, completed.amount_total)
        # accepted at once by the rules (from a reminder's signed link, as a guest), a private customer's today
        consumer = self._plan("active", consumer=True)
        self.assertEqual((consumer.source, consumer.date_accepted, consumer.date), ("guest", self.today, self.today))
        self.assertFalse(consumer.interest)
        self.assertLessEqual(consumer.instalment_ids.sorted("number")[-1].date, self.today + relativedelta(months=3))
        self.assertTrue(plans.filtered(lambda p: p.source == "guest" and p.date_accepted == p.date < self.today))
        # waiting for review: the reasons, and the accountant's To-Do
        proposed = self._plan("proposed")
        self.assertTrue(proposed.review_reason)
        self.assertEqual(proposed.activity_ids.user_id, self.accountant)
        self.assertFalse(proposed.instalment_ids.line_ids, "nothing booked before it is accepted")

    def test_payment_plan_broken_and_late_in_todays_run(self):
        run = self._todays_run()
        # broken: the second instalment still open past the grace days; today's run resumes the reminders
        broken = self._plan("broken")
        self.assertEqual(broken.instalment_ids.sorted("number")[0].state, "paid")
        self.assertIn("late", broken.instalment_ids.mapped("state"))
        resumed = run.line_ids.filtered(lambda line: broken in line.broken_plan_ids)
        self.assertTrue(resumed, "today's run says the plan ended and resumes the reminders")
        self.assertTrue(resumed.statement_item_ids.filtered(lambda i: i.move_id in broken.move_ids))
        # late: its first instalment missed, within the grace days: no reminder for its invoices
        late = self._plan("late")
        self.assertEqual(late.instalment_ids.sorted("number")[0].state, "late")
        chased = run.line_ids.item_ids.filtered(lambda i: i.move_id in late.move_ids and not i.exclusion_reason)
        self.assertFalse(chased, "a plan within its grace days is not chased")

    def test_payment_plan_of_the_portal_buyer(self):
        """Proposed in the portal, reviewed (firm tone), accepted by the accountant, first instalment paid; the
        buyer's /my/plans lists it (and no other customer's), its page shows the schedule."""
        mine = self._plan("active", partner_id=self.commercial)
        self.assertEqual((mine.source, mine.requested_user_id), ("portal", self.buyer))
        self.assertGreater(mine.date_accepted, mine.date, "accepted after review, the day after")
        self.assertFalse(mine.activity_ids, "the review's To-Do is done")
        first, *rest = mine.instalment_ids.sorted("number")
        self.assertEqual(first.state, "paid")
        self.assertLess(first.date, self.today)
        self.assertEqual({i.state for i in rest}, {"planned"})
        self.assertEqual(mine.amount_paid, first.amount)
        # the instalments are due lines of the invoice's receivable, as Odoo's multi-line payment terms
        terms = mine.move_ids.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(sorted(terms.mapped("date_maturity")), mine.instalment_ids.sorted("number").mapped("date"))
        self.assertEqual(mine.move_ids.payment_state, "partial")
        self.authenticate("buyer", "buyer")
        page = self.url_open("/my/plans")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count("o_ar_plan_list_row"), 1)
        self.assertIn(f'href="/my/plans/{mine.id}"', page.text)
        self.assertIn("o_ar_plan_state_active", page.text)
        for other in self._plans() - mine:
            self.assertNotIn(f"/my/plans/{other.id}", page.text)
        detail = self.url_open(f"/my/plans/{mine.id}")
        self.assertEqual(detail.status_code, 200)
        self.assertIn(mine.move_ids.name, detail.text)
        self.assertEqual(self.url_open(f"/my/plans/{self._plan('broken').id}").status_code, 404)
