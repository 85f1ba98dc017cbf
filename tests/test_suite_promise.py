import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlparse

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.ar_customer_centric.tests.test_portal_common import ArPortalCommon
from odoo.addons.ar_dunning.tests.common import on_day

XSS = "<script>alert('ar-xss')</script><img src=x onerror=\"alert('ar-xss')\">"


@tagged("post_install", "-at_install")
class TestSuitePromise(ArPortalCommon):
    """Issue 16, first slice: the buyer promises to pay in the portal or from the reminder's link;
    dunning holds the promised invoices back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("ar_customer_centric.guest_rate_limit", 100000)
        policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        if not policy:
            cls.company._ar_dunning_create_default_policy()
            policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        policy.write({"is_default": True, "promise_max_days": 30, "promise_grace_days": 3})
        cls.policy = policy
        cls.today = fields.Date.today()
        # buyer A: inv_a1 10 days overdue, inv_a3 15 days overdue, inv_a2 not yet due
        cls.inv_a3 = cls._ar_invoice(cls.buyer_a, 250.0, cls.today - timedelta(days=15))

    def _run(self, on_date, execute=False):
        with on_day(on_date):  # a run is made and sent on its date
            return self.env["ar.dunning.run"]._run_batch(
                date=on_date, policy_ids=self.policy.ids, partner_ids=self.buyer_a.ids, execute=execute
            )

    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    def _promises(self):
        return self.env["ar.dunning.promise"].search([("partner_id", "=", self.buyer_a.id)])

    def test_tour_guest_promises_from_the_reminder_link(self):
        # the reminder goes out with the guest pay-all link
        run = self._run(self.today, execute=True)
        body = str(run.line_ids.mail_id.body_html)
        link = re.search(r'href="([^"]*/my/pay-all/[^"]+)"', body)
        self.assertTrue(link, "the reminder links to the pay-all page")
        self.start_tour(urlparse(unescape(link.group(1))).path, "ar_promise_guest_tour")
        promise = self._promises()
        self.assertEqual(promise.state, "open", "a week is within the policy: accepted at once")
        self.assertEqual(promise.move_ids, self.inv_a1 | self.inv_a3)
        self.assertEqual(promise.amount, 350.0)
        self.assertEqual(promise.source, "guest")
        self.assertEqual(promise.note, "Our own customer pays us next week.")
        self.assertEqual(promise.promise_date, self.today + timedelta(days=7))
        mail = self.env["mail.mail"].search(
            [("model", "=", "ar.dunning.promise"), ("res_id", "=", promise.id), ("recipient_ids", "!=", False)]
        )
        self.assertIn("We confirm your promise to pay", str(mail.body_html))
        # the next dunning run skips the promised invoices
        run = self._run(self.today + timedelta(days=1))
        self.assertFalse(run.line_ids.statement_item_ids.move_id & (self.inv_a1 | self.inv_a3))
        self.assertFalse(run.line_ids.filtered(lambda x: x.state == "draft"), "nothing to remind")

    def test_logged_in_buyer_asks_for_a_later_date_from_the_invoice_page(self):
        self.authenticate("portal_a", "portal_a")
        page = self.url_open(f"/my/invoices/{self.inv_a1.id}")
        self.assertIn(f"/my/invoices/promise?invoice_ids={self.inv_a1.id}", page.text)
        self.assertNotIn("/my/invoices/promise?invoice_ids", self.url_open(f"/my/invoices/{self.inv_a2.id}").text)
        self.assertIn("o_ar_promise_button", self.url_open("/my/invoices").text)
        self.assertNotIn("o_ar_promised", self.url_open("/my/invoices").text)
        url = f"/my/invoices/promise?invoice_ids={self.inv_a1.id}"
        form = self.url_open(url)
        self.assertIn("o_ar_promise_breadcrumb", form.text, "the way back to the invoices")
        self.assertIn(self.inv_a3.name, form.text, "the other overdue invoice is offered")
        self.assertNotIn(self.inv_a2.name, form.text, "an invoice not yet due is not")
        response = self.url_open(
            "/my/invoices/promise",
            data={
                "csrf_token": self._csrf(url),
                "invoice_ids": str(self.inv_a1.id),
                "promise_date": (self.today + timedelta(days=45)).isoformat(),
                "note": "Seasonal business",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertIn("ar_promise=requested", response.headers["Location"])
        promise = self._promises()
        self.assertEqual((promise.state, promise.source), ("requested", "portal"))
        self.assertEqual(promise.move_ids, self.inv_a1)
        self.assertEqual(promise.requested_user_id, self.portal_a)
        self.assertEqual(promise.notify_partner_id, self.contact_a)
        self.assertTrue(promise.activity_ids, "the accountant has an activity")
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "ar.dunning.promise"),
                ("res_id", "=", promise.id),
                ("recipient_ids", "in", self.contact_a.ids),
            ]
        )
        self.assertIn("received your request", str(mail.body_html), "the contact who asked is told, not the company")
        self.assertIn("o_ar_promise_requested", self.url_open(response.headers["Location"]).text)
        # the same invoice cannot be promised twice
        response = self.url_open(
            "/my/invoices/promise",
            data={
                "csrf_token": self._csrf(url),
                "invoice_ids": str(self.inv_a1.id),
                "promise_date": (self.today + timedelta(days=5)).isoformat(),
            },
        )
        self.assertIn("o_ar_promise_error", response.text)
        self.assertEqual(len(self._promises()), 1)
        # accepted, the promise shows in the buyer's list on its invoice only
        self.assertNotIn("o_ar_promised", self.url_open("/my/invoices").text, "a request is no promise yet")
        promise.action_accept()
        listing = self.url_open("/my/invoices").text
        self.assertEqual(listing.count("o_ar_promised"), 1)
        row = listing[listing.index(self.inv_a1.name) :]
        self.assertLess(row.index("o_ar_promised"), row.index("</tr>"), "on the promised invoice's row")

    @mute_logger("odoo.http")
    def test_guest_link_grants_its_own_invoices_only(self):
        token = self.buyer_a._ar_get_pay_all_token()
        url = f"/my/pay-all/{token}/promise"
        data = {"promise_date": (self.today + timedelta(days=5)).isoformat()}
        for foreign in (self.inv_b.id, 999999999, "x"):
            response = self.url_open(url, data={**data, "csrf_token": self._csrf(url), "invoice_ids": str(foreign)})
            self.assertEqual(response.status_code, 404 if foreign != "x" else 200, foreign)
        self.assertIn("o_ar_promise_error", response.text, "no invoice selected")
        # the amount is the server's: whatever the form adds is ignored
        response = self.url_open(
            url,
            data={**data, "csrf_token": self._csrf(url), "invoice_ids": str(self.inv_a1.id), "amount": "0.01"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._promises().amount, 100.0)
        expired = self.buyer_a._ar_get_pay_all_token(expiry=int(fields.Datetime.now().timestamp()) - 60)
        self.assertEqual(self.url_open(f"/my/pay-all/{expired}/promise").status_code, 404)
        self.assertFalse(self.env["ar.dunning.promise"].search([("partner_id", "=", self.buyer_b.id)]))

    # ------------------------------------------------------------------
    # The invoice's own link (Odoo's invoice e-mail), opened without an account
    # ------------------------------------------------------------------

    def test_tour_guest_promises_from_the_invoice_link(self):
        url = self.inv_a1.get_portal_url()
        self.start_tour(url, "ar_promise_invoice_link_tour")
        promise = self._promises()
        self.assertEqual(promise.state, "open", "ten days are within the policy: accepted at once")
        self.assertEqual(promise.move_ids, self.inv_a1, "the invoice of the link, not the other overdue one")
        self.assertEqual((promise.source, promise.amount), ("guest", 100.0))
        self.assertEqual(promise.promise_date, self.today + timedelta(days=10))
        self.assertFalse(promise.requested_user_id)
        self.assertEqual(promise.notify_partner_id, self.buyer_a._ar_dunning_get_contact(), "the customer is told")

    def test_invoice_link_shows_both_buttons_to_whoever_holds_it(self):
        token = self.inv_a1._portal_ensure_token()
        promise_url = f"/my/invoices/{self.inv_a1.id}/promise?access_token={token}"
        plan_url = f"/my/invoices/{self.inv_a1.id}/plan?access_token={token}"
        page = self.url_open(self.inv_a1.get_portal_url()).text
        self.assertIn(promise_url, page, "a guest with the invoice's link may promise a date")
        self.assertIn(plan_url, page, "and propose instalments")
        self.assertIn("Promise a payment date", page)
        # not yet due: nothing to promise or plan from its page
        page = self.url_open(self.inv_a2.get_portal_url()).text
        self.assertNotIn("o_ar_promise_button", page)
        self.assertNotIn("o_ar_plan_button", page)
        # a user of another customer holding the link acts by the link, not by their own portal forms
        self.authenticate("portal_b", "portal_b")
        page = self.url_open(self.inv_a1.get_portal_url()).text
        self.assertIn(promise_url, page)
        self.assertNotIn("/my/invoices/promise?invoice_ids", page)
        # the buyer, logged in, gets their own portal forms
        self.authenticate("portal_a", "portal_a")
        page = self.url_open(f"/my/invoices/{self.inv_a1.id}").text
        self.assertIn(f"/my/invoices/promise?invoice_ids={self.inv_a1.id}", page)
        self.assertNotIn(f"/my/invoices/{self.inv_a1.id}/promise", page)

    def test_guest_promises_the_invoice_of_the_link_only(self):
        token = self.inv_a1._portal_ensure_token()
        url = f"/my/invoices/{self.inv_a1.id}/promise?access_token={token}"
        form = self.url_open(url)
        self.assertEqual(form.status_code, 200)
        self.assertIn(self.inv_a1.name, form.text)
        self.assertNotIn(self.inv_a3.name, form.text, "the link grants its invoice, not the customer's others")
        self.assertNotIn("o_ar_promise_check", form.text, "nothing to choose: the invoice of the link")
        self.assertNotIn("o_ar_promise_breadcrumb", form.text, "a guest has no portal to go back to")
        # other ids and an amount in the form are ignored: the invoice of the link, its open amount
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/promise",
            data={
                "csrf_token": self._csrf(url),
                "access_token": token,
                "invoice_ids": [str(self.inv_a3.id), str(self.inv_b.id)],
                "promise_date": (self.today + timedelta(days=5)).isoformat(),
                "amount": "0.01",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertIn(f"/my/invoices/{self.inv_a1.id}?access_token={token}", location)
        self.assertIn("ar_promise=accepted", location)
        promise = self._promises()
        self.assertEqual((promise.state, promise.source, promise.amount), ("open", "guest", 100.0))
        self.assertEqual(promise.move_ids, self.inv_a1)
        self.assertFalse(self.env["ar.dunning.promise"].search([("partner_id", "=", self.buyer_b.id)]))
        page = self.url_open(location).text
        self.assertIn("o_ar_promise_accepted", page, "the link's own page confirms it")
        self.assertNotIn("o_ar_promise_button", page, "promised: nothing more to promise")
        # beyond the policy's maximum: requested, the accountant decides
        token3 = self.inv_a3._portal_ensure_token()
        url3 = f"/my/invoices/{self.inv_a3.id}/promise?access_token={token3}"
        response = self.url_open(
            url3,
            data={"csrf_token": self._csrf(url3), "promise_date": (self.today + timedelta(days=45)).isoformat()},
            allow_redirects=False,
        )
        self.assertIn("ar_promise=requested", response.headers["Location"])
        self.assertEqual(self._promises().filtered(lambda p: p.move_ids == self.inv_a3).state, "requested")

    @mute_logger("odoo.http")
    def test_invoice_link_needs_the_invoice_token(self):
        promises = self.env["ar.dunning.promise"].search_count([])
        token = self.inv_a1._portal_ensure_token()
        csrf = self._csrf(f"/my/invoices/{self.inv_a1.id}/promise?access_token={token}")
        data = {"csrf_token": csrf, "promise_date": (self.today + timedelta(days=5)).isoformat()}
        wrong = (None, "", token[:-4] + "0000", self.inv_b._portal_ensure_token())
        for access_token in wrong:
            url = f"/my/invoices/{self.inv_a1.id}/promise"
            if access_token is not None:
                url += f"?access_token={access_token}"
            self.assertEqual(self.url_open(url).status_code, 404, access_token)
            self.assertEqual(self.url_open(url, data=data).status_code, 404, access_token)
        # another customer's invoice with this token, a made-up invoice
        for invoice_id in (self.inv_b.id, 999999999):
            url = f"/my/invoices/{invoice_id}/promise?access_token={token}"
            self.assertEqual(self.url_open(url).status_code, 404, invoice_id)
            self.assertEqual(self.url_open(url, data=data).status_code, 404, invoice_id)
        # the right token without a CSRF token
        url = f"/my/invoices/{self.inv_a1.id}/promise?access_token={token}"
        response = self.url_open(url, data={"promise_date": data["promise_date"]})
        self.assertEqual(response.status_code, 400)
        # another customer's user with their own session: their login grants nothing on A's invoice
        self.authenticate("portal_b", "portal_b")
        url = f"/my/invoices/{self.inv_a1.id}/promise"
        self.assertEqual(self.url_open(url).status_code, 404)
        data["csrf_token"] = self._csrf("/my/invoices/promise")
        self.assertEqual(self.url_open(url, data=data).status_code, 404)
        self.assertEqual(self.env["ar.dunning.promise"].search_count([]), promises, "nothing was promised")

    def test_note_is_escaped(self):
        token = self.buyer_a._ar_get_pay_all_token()
        url = f"/my/pay-all/{token}/promise"
        self.url_open(
            url,
            data={
                "csrf_token": self._csrf(url),
                "invoice_ids": str(self.inv_a1.id),
                "promise_date": (self.today + timedelta(days=60)).isoformat(),
                "note": XSS,
            },
        )
        promise = self._promises()
        self.assertEqual(promise.note, XSS, "stored as typed, escaped when shown")
        htmls = [str(m.body) for m in promise.message_ids] + [str(a.note) for a in promise.activity_ids]
        for html in htmls:
            self.assertNotIn("<script>alert", html)
            self.assertNotIn("<img src=x onerror", html)
        # and the form shown again with an error escapes it too
        response = self.url_open(
            url, data={"csrf_token": self._csrf(url), "invoice_ids": str(self.inv_a3.id), "note": XSS}
        )
        self.assertIn("o_ar_promise_error", response.text)
        self.assertNotIn("<script>alert('ar-xss')", response.text)

    def test_dashboard_shows_amounts_under_promise(self):
        self.env["ar.dunning.promise"]._ar_request(self.inv_a1 | self.inv_a3, self.today + timedelta(days=5))
        dashboard = self.env["ar.suite.dashboard"].create({"company_id": self.company.id})
        self.assertEqual(dashboard.promise_open_count, 1)
        self.assertEqual(dashboard.amount_promised, 350.0)
        # no promise kept or broken yet: no "0 % kept" shown (the share is hidden without resolved promises)
        self.assertEqual((dashboard.promise_resolved_count, dashboard.promise_kept_share), (0, 0.0))
        action = dashboard.action_open_promises()
        self.assertEqual(action["res_model"], "ar.dunning.promise")
