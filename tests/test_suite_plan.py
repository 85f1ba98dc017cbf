import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlparse

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.ar_customer_centric.tests.test_portal_common import ArPortalCommon
from odoo.addons.ar_dunning.tests.common import on_day

XSS = "<script>alert('ar-xss')</script><img src=x onerror=\"alert('ar-xss')\">"


@tagged("post_install", "-at_install")
class TestSuitePlanPortal(ArPortalCommon):
    """Issue 16, second slice, the buyer's side: a payment plan proposed in the portal or from the
    reminder's link, followed and paid instalment by instalment; dunning holds the invoices back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("ar_customer_centric.guest_rate_limit", 100000)
        policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        if not policy:
            cls.company._ar_dunning_create_default_policy()
            policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        policy.write({"is_default": True, "plan_grace_days": 3})
        policy.plan_rule_ids.unlink()
        cls.rule = cls.env["ar.dunning.plan.rule"].create(
            {"policy_id": policy.id, "max_instalments": 6, "max_months": 6, "auto_accept": True}
        )
        cls.policy = policy
        cls.today = fields.Date.today()
        # buyer A: inv_a3 15 days overdue (250), inv_a1 10 days overdue (100), inv_a2 not yet due (200)
        cls.inv_a3 = cls._ar_invoice(cls.buyer_a, 250.0, cls.today - timedelta(days=15))

    def _run(self, on_date, execute=False):
        with on_day(on_date):  # a run is made and sent on its date
            return self.env["ar.dunning.run"]._run_batch(
                date=on_date, policy_ids=self.policy.ids, partner_ids=self.buyer_a.ids, execute=execute
            )

    def _reminded(self, run):
        """The invoices the run reminds (its draft lines' items)."""
        return run.line_ids.statement_item_ids.move_id

    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    @staticmethod
    def _error(response):
        """The form's error message, for the assertion messages."""
        match = re.search(r'o_ar_plan_error"[^>]*>([^<]*)<', response.text)
        return unescape(match.group(1)) if match else ""

    def _plans(self, partner=None):
        return self.env["ar.dunning.plan"].search([("partner_id", "=", (partner or self.buyer_a).id)])

    def _form(self, **extra):
        return {
            "invoice_ids": str(self.inv_a1.id),
            "instalment_count": "3",
            "frequency": "monthly",
            "first_date": self.today.isoformat(),
            **extra,
        }

    def _propose(self, moves, **kw):
        plan = self.env["ar.dunning.plan"]._ar_propose(moves, 3, "monthly", self.today, **kw)
        self.assertEqual(plan.state, "active")
        return plan

    # ------------------------------------------------------------------
    # The two journeys of the issue
    # ------------------------------------------------------------------

    def test_tour_guest_plans_from_the_reminder_link_and_pays_the_first_instalment(self):
        run = self._run(self.today, execute=True)
        self.assertGreaterEqual(self._reminded(run), self.inv_a1 | self.inv_a3, "both overdue invoices are reminded")
        body = str(run.line_ids.mail_id.body_html)
        link = re.search(r'href="([^"]*/my/pay-all/[^"]+)"', body)
        self.assertTrue(link, "the reminder links to the pay-all page")
        self.start_tour(urlparse(unescape(link.group(1))).path, "ar_plan_guest_tour")
        plan = self._plans()
        self.assertEqual(plan.state, "active", "three monthly instalments are within the policy: accepted at once")
        self.assertEqual((plan.source, plan.collect_mode), ("guest", "manual"))
        self.assertEqual(plan.move_ids, self.inv_a1 | self.inv_a3, "the invoice not yet due was left out")
        self.assertEqual(plan.note, "Our season starts in March.")
        self.assertEqual(plan.amount_total, 350.0)
        first, second, third = plan.instalment_ids.sorted("number")
        self.assertEqual(first.date, self.today)
        self.assertEqual(third.date, self.today + relativedelta(months=2))
        self.assertEqual(first.amount, 116.66)
        self.assertEqual((first.amount_residual, first.state), (0.0, "paid"), "paid in the tour")
        self.assertEqual(second.amount_residual, second.amount)
        self.assertAlmostEqual(plan.amount_paid, 116.66)
        # paid through Odoo's payment flow, for the instalment's amount only
        tx = self.env["payment.transaction"].search([("invoice_ids", "in", plan.move_ids.ids)])
        self.assertEqual(tx.amount, 116.66)
        self.assertEqual(tx.state, "done")
        # the next dunning runs skip the invoices under the plan
        for days in (1, 20):
            run = self._run(self.today + timedelta(days=days))
            self.assertFalse(self._reminded(run) & plan.move_ids, f"day {days}: the plan holds the invoices")

    def test_tour_missed_instalment_and_the_run_resumes(self):
        plan = self._propose(self.inv_a1 | self.inv_a3, source="portal", requester=self.contact_a, user=self.portal_a)
        self.assertFalse(self._reminded(self._run(self.today + timedelta(days=1))) & plan.move_ids)
        # the first instalment is not paid on its date: the plan is late (inside the grace days)
        plan._ar_update_states(on_date=self.today + timedelta(days=2))
        self.assertEqual(plan.state, "late")
        self.start_tour("/my", "ar_plan_missed_tour", login="portal_a")
        self.assertFalse(self._reminded(self._run(self.today + timedelta(days=2))) & plan.move_ids, "late: held")
        # grace passed: the plan is broken and the next run reminds the invoices again
        broken_on = self.today + timedelta(days=plan.grace_days + 1)
        run = self._run(broken_on)
        self.assertEqual(plan.state, "broken")
        self.assertEqual(self._reminded(run) & plan.move_ids, plan.move_ids, "the dunning resumes")
        self.authenticate("portal_a", "portal_a")
        page = self.url_open(f"/my/plans/{plan.id}").text
        self.assertIn("o_ar_plan_broken", page)
        self.assertNotIn("o_payment_form", page, "nothing to pay on a broken plan: the invoices are due in full")

    # ------------------------------------------------------------------
    # Logged in, from the invoice page
    # ------------------------------------------------------------------

    def test_logged_in_buyer_proposes_a_longer_plan_for_review(self):
        self.authenticate("portal_a", "portal_a")
        self.assertIn(
            f"/my/invoices/plan?invoice_ids={self.inv_a1.id}", self.url_open(f"/my/invoices/{self.inv_a1.id}").text
        )
        self.assertNotIn("/my/invoices/plan?invoice_ids", self.url_open(f"/my/invoices/{self.inv_a2.id}").text)
        self.assertIn("o_ar_plan_button", self.url_open("/my/invoices").text)
        url = f"/my/invoices/plan?invoice_ids={self.inv_a1.id}&instalment_count=10&frequency=monthly"
        form = self.url_open(url).text
        self.assertIn("o_ar_plan_breadcrumb", form)
        self.assertIn(self.inv_a3.name, form, "the other invoices are offered")
        self.assertIn("o_ar_plan_decision_review", form, "more than 6 instalments: reviewed")
        self.assertEqual(form.count("o_ar_plan_schedule_row"), 10)
        self.assertIn("o_ar_plan_limits", form)
        self.assertNotIn("ar_plan_collect", form, "no autopay: nothing to collect automatically")
        response = self.url_open(
            "/my/invoices/plan",
            data={**self._form(instalment_count="10", note="Seasonal business"), "csrf_token": self._csrf(url)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        plan = self._plans()
        self.assertEqual((plan.state, plan.source, plan.instalment_count), ("proposed", "portal", 10))
        self.assertEqual(plan.requested_user_id, self.portal_a)
        self.assertTrue(plan.activity_ids, "the accountant has an activity")
        self.assertTrue(response.headers["Location"].endswith(f"/my/plans/{plan.id}?ar_plan=proposed"))
        page = self.url_open(response.headers["Location"]).text
        self.assertIn("o_ar_plan_proposed", page)
        self.assertNotIn("o_payment_form", page, "nothing to pay before the plan is accepted")
        listing = self.url_open("/my/plans").text
        self.assertEqual(listing.count("o_ar_plan_list_row"), 1)
        self.assertIn("o_ar_plan_state_proposed", listing)
        counters = self._json("/my/counters", {"counters": ["ar_plan_count"]})[0]
        self.assertEqual(counters["ar_plan_count"], 1)
        self.assertNotIn("o_ar_planned", self.url_open("/my/invoices").text, "a proposal is no plan yet")
        # accepted by the accountant: booked, the first instalment can be paid
        plan.action_accept()
        listing = self.url_open("/my/invoices").text
        self.assertEqual(listing.count("o_ar_planned"), 1)
        row = listing[listing.index(self.inv_a1.name) :]
        self.assertLess(row.index(f"/my/plans/{plan.id}"), row.index("</tr>"), "on the planned invoice's row")
        page = self.url_open(f"/my/plans/{plan.id}").text
        self.assertIn("o_payment_form", page)
        self.assertEqual(page.count("o_ar_plan_instalment_row"), 10)
        # the same invoice cannot be planned twice (nor offered again)
        self.assertNotIn("o_ar_plan_submit_form", self.url_open(url).text)
        response = self.url_open(
            "/my/invoices/plan",
            data={**self._form(), "csrf_token": self._csrf("/my/invoices/plan")},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ar_plan_error", response.text)
        self.assertEqual(len(self._plans()), 1)

    def test_buyer_told_that_interest_runs_and_what_ran_so_far(self):
        self.rule.interest = True
        self.authenticate("portal_a", "portal_a")
        url = (
            f"/my/invoices/plan?invoice_ids={self.inv_a1.id}&instalment_count=3&frequency=monthly"
            f"&first_date={self.today.isoformat()}"
        )
        form = unescape(self.url_open(url).text)
        self.assertIn("o_ar_plan_interest_note", form)
        self.assertIn("it is invoiced once the plan is paid", form)
        plan = self._propose(self.inv_a1)
        self.assertTrue(plan.interest)
        page = self.url_open(f"/my/plans/{plan.id}").text
        self.assertIn('class="o_ar_plan_interest"', page)
        self.assertIn("Interest accrued so far", page)
        # without the rule's interest: nothing about interest
        self.rule.interest = False
        self.assertNotIn(
            "o_ar_plan_interest_note", self.url_open(url.replace(str(self.inv_a1.id), str(self.inv_a3.id))).text
        )
        other = self._propose(self.inv_a3)
        self.assertNotIn('class="o_ar_plan_interest"', self.url_open(f"/my/plans/{other.id}").text)

    def test_autopay_buyer_chooses_automatic_collection(self):
        mandate = self.env["ar.sepa.mandate"].create(
            {
                "partner_id": self.buyer_a.id,
                "iban": "BE68 5390 0754 7034",
                "account_holder": self.buyer_a.name,
                "consent": True,
                "state": "active",
            }
        )
        self.buyer_a.with_company(self.company).write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        self.rule.require_mandate = True
        self.authenticate("portal_a", "portal_a")
        url = "/my/invoices/plan"
        form = self.url_open(url).text
        self.assertIn("ar_plan_collect", form)
        self.assertIn("o_ar_plan_decision_review", form, "a mandate is required: without collecting, reviewed")
        self.assertIn("o_ar_plan_decision_accept", self.url_open(f"{url}?collect=1").text)
        response = self.url_open(
            url,
            data={**self._form(collect="1"), "csrf_token": self._csrf(url)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        plan = self._plans()
        self.assertEqual((plan.state, plan.collect_mode), ("active", "autopay"))
        self.assertIn("o_ar_plan_autopay", self.url_open(f"/my/plans/{plan.id}").text)

    # ------------------------------------------------------------------
    # Security: own invoices and plans only, the server's amounts, escaped notes
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")
    def test_guest_link_grants_its_own_invoices_and_plans_only(self):
        token = self.buyer_a._ar_get_pay_all_token()
        url = f"/my/pay-all/{token}/plan"
        for foreign in (self.inv_b.id, 999999999):
            response = self.url_open(url, data={**self._form(invoice_ids=str(foreign)), "csrf_token": self._csrf(url)})
            self.assertEqual(response.status_code, 404, foreign)
            self.assertEqual(self.url_open(f"{url}?invoice_ids={foreign}").status_code, 404)
        response = self.url_open(url, data={**self._form(invoice_ids="x"), "csrf_token": self._csrf(url)})
        self.assertIn("o_ar_plan_error", response.text, "no invoice selected")
        # the amounts are the server's: whatever the form adds is ignored
        response = self.url_open(
            url,
            data={**self._form(), "amount": "0.01", "amount_total": "1", "csrf_token": self._csrf(url)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        plan = self._plans()
        self.assertEqual((plan.source, plan.amount_total), ("guest", 100.0))
        self.assertTrue(response.headers["Location"].endswith(f"/my/pay-all/{token}/plans/{plan.id}?ar_plan=accepted"))
        plan_b = self._propose(self.inv_b)
        self.assertEqual(self.url_open(f"/my/pay-all/{token}/plans/{plan.id}").status_code, 200)
        self.assertEqual(self.url_open(f"/my/pay-all/{token}/plans/{plan_b.id}").status_code, 404)
        # the transaction is for the next instalment's amount, never the client's
        params = self._tx_params(amount=0.01)
        result, error = self._json(f"/my/pay-all/{token}/plans/{plan_b.id}/transaction", params)
        self.assertIsNone(result)
        self.assertIn("no instalment to pay", error)
        result, error = self._json(f"/my/pay-all/{token}/plans/{plan.id}/transaction", params)
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, plan.instalment_ids.sorted("number")[0].amount)
        self.assertEqual(tx.invoice_ids, self.inv_a1)
        self.assertEqual(tx.partner_id, self.buyer_a)
        # an expired link opens nothing
        expired = self.buyer_a._ar_get_pay_all_token(expiry=int(fields.Datetime.now().timestamp()) - 60)
        for path in ("plan", f"plans/{plan.id}"):
            self.assertEqual(self.url_open(f"/my/pay-all/{expired}/{path}").status_code, 404, path)
        result, error = self._json(f"/my/pay-all/{expired}/plans/{plan.id}/transaction", params)
        self.assertIsNone(result)
        # a logged-in buyer sees their own plans only
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self.url_open(f"/my/plans/{plan.id}").status_code, 404)
        self.assertNotIn(self.buyer_a.name, self.url_open("/my/plans").text)
        result, error = self._json(f"/my/plans/{plan.id}/transaction", params)
        self.assertIsNone(result)
        self.assertIn(f"/my/plans/{plan_b.id}", self.url_open("/my/plans").text)

    # ------------------------------------------------------------------
    # The invoice's own link (Odoo's invoice e-mail), opened without an account
    # ------------------------------------------------------------------

    def _autopay_a(self):
        """Buyer A collects by direct debit: a usable mandate, autopay on."""
        mandate = self.env["ar.sepa.mandate"].create(
            {
                "partner_id": self.buyer_a.id,
                "iban": "BE68 5390 0754 7034",
                "account_holder": self.buyer_a.name,
                "consent": True,
                "state": "active",
            }
        )
        self.buyer_a.with_company(self.company).write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        self.assertTrue(self.env["ar.dunning.plan"]._ar_plan_has_mandate(self.buyer_a, self.company))

    def test_guest_plans_the_invoice_of_its_link_only(self):
        self._autopay_a()
        token = self.inv_a1._portal_ensure_token()
        url = f"/my/invoices/{self.inv_a1.id}/plan?access_token={token}"
        self.assertIn(url, self.url_open(self.inv_a1.get_portal_url()).text, "the invoice's page offers it")
        form = self.url_open(f"{url}&instalment_count=3&collect=1").text
        self.assertIn(self.inv_a1.name, form)
        self.assertNotIn(self.inv_a3.name, form, "the link grants its invoice, not the customer's others")
        self.assertNotIn("o_ar_plan_check", form, "nothing to choose: the invoice of the link")
        self.assertNotIn("ar_plan_collect", form, "the customer's mandate is not the link holder's to use")
        self.assertNotIn("o_ar_plan_collect_chosen", form)
        self.assertIn("o_ar_plan_decision_accept", form)
        self.assertIn(f'name="access_token" value="{token}"', form, "the schedule's form keeps the token")
        # other ids, automatic collection and amounts in the form are ignored
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/plan",
            data={
                **self._form(invoice_ids=[str(self.inv_a3.id), str(self.inv_b.id)], collect="1", amount="0.01"),
                "access_token": token,
                "csrf_token": self._csrf(url),
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        plan = self._plans()
        self.assertEqual((plan.state, plan.source, plan.collect_mode), ("active", "guest", "manual"))
        self.assertEqual(plan.move_ids, self.inv_a1, "the invoice of the link only")
        self.assertEqual(plan.amount_total, 100.0)
        self.assertFalse(plan.requested_user_id)
        self.assertFalse(self._plans(self.buyer_b))
        location = response.headers["Location"]
        self.assertIn(f"/my/invoices/{self.inv_a1.id}?access_token={token}", location)
        page = self.url_open(location).text
        self.assertIn("o_ar_plan_accepted", page, "the link's own page confirms it")
        self.assertNotIn("o_ar_plan_button", page, "planned: nothing more to plan")

    def test_guest_cannot_propose_a_plan_that_needs_a_mandate(self):
        self._autopay_a()
        self.rule.require_mandate = True
        token = self.inv_a1._portal_ensure_token()
        url = f"/my/invoices/{self.inv_a1.id}/plan?access_token={token}"
        form = self.url_open(url).text
        self.assertIn("o_ar_plan_login_required", form)
        self.assertIn("log in to your customer portal or use the link in our payment reminder", form)
        self.assertNotIn("o_ar_plan_submit_form", form)
        self.assertNotIn("ar_plan_collect", form)
        pay_all = f"/my/pay-all/{self.buyer_a._ar_get_pay_all_token()}/plan"
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/plan",
            data={**self._form(collect="1"), "access_token": token, "csrf_token": self._csrf(pay_all)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("log in to your customer portal", self._error(response))
        self.assertFalse(self._plans(), "nothing proposed, not even for review")
        # the reminder's link may: the customer's own autopay collects the instalments
        response = self.url_open(
            pay_all, data={**self._form(collect="1"), "csrf_token": self._csrf(pay_all)}, allow_redirects=False
        )
        self.assertEqual(response.status_code, 303, self._error(response))
        self.assertEqual((self._plans().state, self._plans().collect_mode), ("active", "autopay"))

    @mute_logger("odoo.http")
    def test_invoice_link_plan_needs_the_invoice_token(self):
        token = self.inv_a1._portal_ensure_token()
        csrf = self._csrf(f"/my/invoices/{self.inv_a1.id}/plan?access_token={token}")
        data = {**self._form(), "csrf_token": csrf}
        for access_token in (None, "", token[:-4] + "0000", self.inv_b._portal_ensure_token()):
            url = f"/my/invoices/{self.inv_a1.id}/plan"
            if access_token is not None:
                url += f"?access_token={access_token}"
            self.assertEqual(self.url_open(url).status_code, 404, access_token)
            self.assertEqual(self.url_open(url, data=data).status_code, 404, access_token)
        for invoice_id in (self.inv_b.id, 999999999):
            url = f"/my/invoices/{invoice_id}/plan?access_token={token}"
            self.assertEqual(self.url_open(url).status_code, 404, invoice_id)
            self.assertEqual(self.url_open(url, data=data).status_code, 404, invoice_id)
        url = f"/my/invoices/{self.inv_a1.id}/plan?access_token={token}"
        self.assertEqual(self.url_open(url, data=self._form()).status_code, 400, "no CSRF token")
        self.assertFalse(self.env["ar.dunning.plan"].search([("move_ids", "in", (self.inv_a1 | self.inv_b).ids)]))

    def test_note_is_escaped(self):
        token = self.buyer_a._ar_get_pay_all_token()
        url = f"/my/pay-all/{token}/plan"
        self.url_open(url, data={**self._form(instalment_count="12", note=XSS), "csrf_token": self._csrf(url)})
        plan = self._plans()
        self.assertEqual(plan.note, XSS, "stored as typed, escaped when shown")
        htmls = [str(m.body) for m in plan.message_ids] + [str(a.note) for a in plan.activity_ids]
        for html in htmls:
            self.assertNotIn("<script>alert", html)
            self.assertNotIn("<img src=x onerror", html)
        # the form shown again with an error escapes it too
        response = self.url_open(url, data={**self._form(note=XSS), "csrf_token": self._csrf(url)})
        self.assertIn("o_ar_plan_error", response.text)
        self.assertNotIn("<script>alert('ar-xss')", response.text)
