"""Security suite that grows with the routes (issue 10 point 6).

Every route the four modules register is driven through ``security_matrix.MATRIX`` as the
owner, another customer, a guest and with valid, forged, expired and revoked tokens; plus
CSRF on every POST, stored-XSS payloads in every buyer text field and oversized input.
"""

import re
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.ar_customer_centric.controllers.rate_limit import THROTTLE
from odoo.addons.ar_customer_centric.tests.test_portal_common import ArPortalCommon

from .security_matrix import ACTORS, CSRF_EXEMPT, ERROR, MATRIX, OK

SUITE_MODULES = ("ar_suite", "ar_customer_centric", "ar_peppol_edi", "ar_dunning")
XSS = "<script>alert('ar-xss')</script><img src=x onerror=\"alert('ar-xss')\">"
XSS_RAW = ("<script>alert('ar-xss')", "<img src=x onerror")  # unescaped tags; escaped text is harmless


def suite_routes(env):
    """{rule: (routing, 'module.Class.method')} of every route a suite module defines or overrides."""
    routes = {}
    for rule in env["ir.http"].routing_map().iter_rules():
        endpoint = rule.endpoint
        name = endpoint.__name__
        controller = getattr(endpoint.func, "__self__", None)
        if controller is None:
            continue
        for cls in type(controller).mro():
            parts = cls.__module__.split(".")
            if name in cls.__dict__ and parts[:2] == ["odoo", "addons"] and parts[2] in SUITE_MODULES:
                routes[rule.rule] = (endpoint.routing, f"{cls.__module__}.{cls.__name__}.{name}")
                break
    return routes


class ArSecurityCommon(ArPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("ar_customer_centric.guest_rate_limit", 100000)
        cls.buyer_a.write(
            {
                "country_id": cls.env.ref("base.be").id,
                "street": "Rue Neuve 1",
                "city": "Bruxelles",
                "zip": "1000",
                "vat": "BE0477472701",
            }
        )
        # complete seller address: the e-invoice builder (UBL download) requires it
        cls.company.partner_id.write({"street": "Kerkstraat 1", "city": "Gent", "zip": "9000"})
        today = cls.inv_a1.invoice_date_due
        Statement = cls.env["ar.customer.statement"]
        cls.statements = {}
        for key, buyer in (("a", cls.buyer_a), ("b", cls.buyer_b)):
            statement = Statement._ar_create_for_period(
                buyer, cls.company, today - timedelta(days=62), today + timedelta(days=31)
            )
            statement.state = "sent"
            cls.statements[key] = statement
        Mandate = cls.env["ar.sepa.mandate"]
        cls.mandates = {
            key: Mandate.create(
                {
                    "partner_id": buyer.id,
                    "iban": "BE68 5390 0754 7034",
                    "account_holder": buyer.name,
                    "consent": True,
                    "state": "active",
                }
            )
            for key, buyer in (("a", cls.buyer_a), ("b", cls.buyer_b))
        }
        Connector = cls.env["ar.peppol.connector"]
        cls.connector = Connector.create({"name": "AP", "provider": "storecove", "webhook_secret": "s3cret"})
        cls.other_connector = Connector.create({"name": "AP 2", "provider": "storecove", "webhook_secret": "x"})

        # the invoice e-mail's link (issue 16): an overdue invoice of A to promise and one to plan by their
        # own access tokens
        cls.inv_a_link_promise = cls._ar_invoice(cls.buyer_a, 70.0, fields.Date.today() - timedelta(days=8))
        cls.inv_a_link_plan = cls._ar_invoice(cls.buyer_a, 60.0, fields.Date.today() - timedelta(days=9))
        # tokens sent earlier and revoked since: the e-mail changed, the document tokens were renewed
        cls.revoked = {
            "pay_all": cls.buyer_a._ar_get_pay_all_token(),
            "access_token": cls.inv_a1._portal_ensure_token(),
            "link_promise_token": cls.inv_a_link_promise._portal_ensure_token(),
            "link_plan_token": cls.inv_a_link_plan._portal_ensure_token(),
            "statement_token": cls.statements["a"]._portal_ensure_token(),
            "webhook_token": cls.connector.webhook_token,
        }
        cls.buyer_a.email = "new-ap@buyer-a.example.com"
        (cls.inv_a1 | cls.inv_a_link_promise | cls.inv_a_link_plan).access_token = False
        cls.statements["a"].access_token = False
        cls.connector.webhook_token = cls.connector._default_webhook_token()
        cls.valid = {
            "pay_all": cls.buyer_a._ar_get_pay_all_token(),
            "access_token": cls.inv_a1._portal_ensure_token(),
            "link_promise_token": cls.inv_a_link_promise._portal_ensure_token(),
            "link_plan_token": cls.inv_a_link_plan._portal_ensure_token(),
            "statement_token": cls.statements["a"]._portal_ensure_token(),
            "webhook_token": cls.connector.webhook_token,
        }
        # payment plans: A's running plan, and another overdue invoice of A the matrix proposes a plan for
        cls.inv_a_planned = cls._ar_invoice(cls.buyer_a, 300.0, fields.Date.today() - timedelta(days=20))
        cls.inv_a_plan = cls._ar_invoice(cls.buyer_a, 90.0, fields.Date.today() - timedelta(days=12))
        cls.plan_a = cls.env["ar.dunning.plan"]._ar_propose(cls.inv_a_planned, 3, "monthly", fields.Date.today())
        if cls.plan_a.state == "proposed":
            cls.plan_a.action_accept()
        cls.markers = {
            "a": [cls.buyer_a.name, cls.contact_a.name, cls.inv_a1.name, cls.inv_a2.name],
            "b": [cls.buyer_b.name, cls.contact_b.name, cls.inv_b.name],
        }

    @classmethod
    def _ar_invoice(cls, partner, amount, due, post=True):
        # EXTENDS ArPortalCommon: as a real invoice, every line carries its VAT. Without a tax on
        # its lines the e-invoice builder refuses the invoice (EN 16931: a VAT category per line;
        # "Each invoice line should have at least one tax."), and the UBL download has nothing to give.
        invoice = super()._ar_invoice(partner, amount, due, post=False)
        invoice.invoice_line_ids.tax_ids = cls.company_data["default_tax_sale"]
        if post:
            invoice.action_post()
        return invoice

    def setUp(self):
        super().setUp()
        THROTTLE.reset()

    def _values(self, actor):
        """The placeholder values each actor holds (always aimed at buyer A's records)."""
        forged = {k: v[:-4] + ("0000" if not v.endswith("0000") else "1111") for k, v in self.valid.items()}
        values = {
            "invoice": self.inv_a1.id,
            "statement": self.statements["a"].id,
            "mandate": self.mandates["a"].id,
            "connector": self.connector.id,
            "plan": self.plan_a.id,
            "plan_invoice": self.inv_a_plan.id,
            "link_promise_invoice": self.inv_a_link_promise.id,
            "link_plan_invoice": self.inv_a_link_plan.id,
            **{k: "" for k in self.valid},
            "pay_all": "no-link",
            "webhook_token": "none",
        }
        if actor == "owner":
            values |= {"pay_all": self.valid["pay_all"], "webhook_token": self.valid["webhook_token"]}
        elif actor == "other":
            values |= {
                "pay_all": self.buyer_b._ar_get_pay_all_token(),
                "access_token": self.inv_b._portal_ensure_token(),
                "link_promise_token": self.inv_b._portal_ensure_token(),
                "link_plan_token": self.inv_b._portal_ensure_token(),
                "statement_token": self.statements["b"]._portal_ensure_token(),
                "webhook_token": self.other_connector.webhook_token,
            }
        elif actor == "token":
            values |= self.valid
        elif actor == "forged":
            values |= forged
        elif actor == "expired":
            values |= {"pay_all": self.buyer_a._ar_get_pay_all_token(expiry=int(time.time()) - 60)}
        elif actor == "revoked":
            values |= self.revoked
        return values

    def _login(self, actor):
        if actor == "owner":
            self.authenticate("portal_a", "portal_a")
        elif actor == "other":
            self.authenticate("portal_b", "portal_b")
        else:
            self.authenticate(None, None)

    def _csrf_token(self):
        response = self.url_open("/my/pay-all/no-link")
        match = re.search(r'csrf_token: "([^"]+)"', response.text) or re.search(
            r'name="csrf_token" value="([^"]+)"', response.text
        )
        self.assertTrue(match, "no CSRF token on the 404 page")
        return match.group(1)

    def _call(self, case, values, csrf=True):
        """(status or OK/ERROR, body text, Location header) of one case."""
        url = case.url.format(**values)
        data = {k: v.format(**values) if isinstance(v, str) else v for k, v in case.data.items()}
        if case.method == "JSON":
            params = self._tx_params(**data)
            response = self.url_open(url, json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
            payload = response.json() if response.status_code == 200 else {}
            status = ERROR if "error" in payload or response.status_code != 200 else OK
            return status, response.text, ""
        if case.method == "RAW":
            response = self.url_open(url, data=b"{}", headers={"Content-Type": "application/json"})
        elif case.method == "POST":
            if csrf:
                data["csrf_token"] = self._csrf_token()
            response = self.url_open(url, data=data, allow_redirects=False)
        else:
            response = self.url_open(url, allow_redirects=False)
        return response.status_code, response.text, response.headers.get("Location", "")

    def _assert_no_foreign_data(self, actor, route, body):
        allowed = {"owner": {"a"}, "token": {"a"}, "other": {"b"}}.get(actor, set())
        for who, markers in self.markers.items():
            if who in allowed:
                continue
            for marker in markers:
                self.assertNotIn(marker, body, f"{route} as {actor}: shows {marker!r} of buyer {who.upper()}")


@tagged("post_install", "-at_install")
class TestSuiteSecurityMatrix(ArSecurityCommon):
    def test_every_route_of_the_suite_is_in_the_matrix(self):
        routes = suite_routes(self.env)
        self.assertIn("/my/pay-all/<string:token>", routes, "the routing map was not read")
        missing = sorted(set(routes) - set(MATRIX))
        self.assertFalse(
            missing,
            "Route(s) without an entry in the security matrix:\n"
            + "\n".join(f"  {rule}  (defined by {routes[rule][1]})" for rule in missing)
            + '\nAdd MATRIX["<rule>"] = [Case(url, method, data, expect)] to ar_suite/tests/security_matrix.py '
            "(see its docstring: the expected status for owner, other customer, guest and valid, forged, "
            "expired and revoked tokens); a form POST route without CSRF also needs CSRF_EXEMPT[rule] = why.",
        )
        stale = sorted(set(MATRIX) - set(routes))
        self.assertFalse(stale, f"Matrix entries of routes that no longer exist (remove them): {stale}")
        for rule, cases in MATRIX.items():
            for case in cases:
                self.assertEqual(set(case.expect), set(ACTORS), f"{rule}: expect needs every actor")
                if None in case.expect.values():
                    self.assertTrue(case.why, f"{rule} {case.url}: say in why= why an actor does not apply")

    @mute_logger("odoo.http", "odoo.addons.ar_peppol_edi.controllers.webhook")
    def test_matrix(self):
        failures = []
        for cases in MATRIX.values():
            for case in cases:
                for actor in ACTORS:
                    expected = case.expect[actor]
                    if expected is None:
                        continue
                    THROTTLE.reset()
                    self._login(actor)
                    status, body, location = self._call(case, self._values(actor))
                    if status != expected:
                        failures.append(f"{case.method} {case.url} as {actor}: {status}, expected {expected}")
                    self._assert_no_foreign_data(actor, f"{case.method} {case.url}", body + location)
        self.assertFalse(failures, "\n".join(failures))

    def test_ubl_download(self):
        """The owner and a forwarded link get the invoice's UBL; an invoice the builder cannot turn
        into UBL answers 404 to everyone, never a 500."""
        url = f"/my/invoices/{self.inv_a1.id}/ubl?access_token={self.valid['access_token']}"
        for actor in ("token", "owner"):
            self._login(actor)
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, actor)
            self.assertEqual(response.headers["Content-Type"], "application/xml")
            self.assertIn(self.inv_a1.name, response.text)
            self.assertIn("BE0477472701", response.text)
        builder = type(self.env["account.edi.xml.ubl_bis3"])
        refused = UserError("Tax 'VAT' is invalid: the distribution lines do not add up.")
        with patch.object(builder, "_export_invoice", side_effect=refused), mute_logger("odoo.http"):
            for actor in ("token", "owner"):
                self._login(actor)
                self.assertEqual(self.url_open(url).status_code, 404, actor)

    @mute_logger("odoo.http")
    def test_csrf_on_every_post(self):
        routes = suite_routes(self.env)
        disputes, mandates = self.env["ar.dispute"].search_count([]), self.env["ar.sepa.mandate"].search_count([])
        self.authenticate("portal_a", "portal_a")
        checked = []
        for rule, (routing, where) in routes.items():
            methods = routing.get("methods") or ["GET", "POST"]
            if routing["type"] != "http" or "POST" not in methods:
                continue
            if routing.get("csrf") is False:
                self.assertIn(rule, CSRF_EXEMPT, f"{rule} ({where}) accepts POST without CSRF: say why in CSRF_EXEMPT")
                continue
            case = MATRIX[rule][0]
            values = self._values("owner")
            data = {k: v.format(**values) if isinstance(v, str) else v for k, v in case.data.items()}
            THROTTLE.reset()
            response = self.url_open(case.url.format(**values), data=data or {"x": "1"}, allow_redirects=False)
            self.assertEqual(response.status_code, 400, f"POST {rule} without CSRF token")
            checked.append(rule)
        self.assertIn("/my/invoices/<int:invoice_id>/dispute", checked)
        self.assertIn("/my/autopay/mandate/<int:mandate_id>/revoke", checked)
        self.assertEqual(
            (self.env["ar.dispute"].search_count([]), self.env["ar.sepa.mandate"].search_count([])),
            (disputes, mandates),
        )
        self.assertEqual(self.mandates["a"].state, "active")
        # JSON-RPC routes: a cross-site "simple" request (text/plain) never reaches the route
        txs = self.env["payment.transaction"].search_count([])
        for rule, (routing, _where) in routes.items():
            if routing["type"] != "jsonrpc":
                continue
            url = MATRIX[rule][0].url.format(**self._values("owner"))
            response = self.url_open(url, data=b'{"params": {}}', headers={"Content-Type": "text/plain"})
            self.assertNotEqual(response.status_code, 200, f"{rule} answered a text/plain POST")
        self.assertEqual(self.env["payment.transaction"].search_count([]), txs)


@tagged("post_install", "-at_install")
class TestSuiteBuyerInput(ArSecurityCommon):
    """Stored XSS in every buyer text field; oversized input gets a clear error, never a 500."""

    def _post(self, url, data, files=None):
        data = dict(data, csrf_token=self._csrf_token())
        return self.url_open(url, data=data, files=files)

    def _assert_escaped(self, where, html):
        for raw in XSS_RAW:
            self.assertNotIn(raw, html, f"{where}: the buyer's text is not escaped")

    def test_stored_xss_in_dispute_message_and_attachment_name(self):
        token = self.valid["access_token"]
        response = self._post(
            f"/my/invoices/{self.inv_a1.id}/dispute",
            {"access_token": token, "reason": "other", "message": XSS},
            files={"attachments": (f"{XSS}.txt", b"evidence", "text/plain")},
        )
        self.assertEqual(response.status_code, 200)
        dispute = self.inv_a1.ar_dispute_ids
        self.assertEqual(dispute.description, XSS, "stored as typed, escaped when shown")
        for message in self.inv_a1.message_ids | dispute.message_ids:
            self._assert_escaped(f"chatter message {message.id}", str(message.body))
        for mail in self.env["mail.mail"].search([("model", "in", ("account.move", "ar.dispute"))]):
            self._assert_escaped(f"e-mail {mail.id}", str(mail.body_html))
        self._assert_escaped("invoice page (guest)", self.url_open(self.inv_a1.get_portal_url()).text)
        self.authenticate("portal_a", "portal_a")
        self._assert_escaped("/my/disputes", self.url_open("/my/disputes").text)
        self._assert_escaped("invoice page (buyer)", self.url_open(f"/my/invoices/{self.inv_a1.id}").text)

    def test_stored_xss_in_mandate_fields(self):
        self.authenticate("portal_a", "portal_a")
        self._post(
            "/my/autopay/mandate",
            {
                "account_holder": XSS[:70],
                "iban": "BE71 0961 2345 6769",
                "bic": "GKCCBEBB",
                "scheme": "CORE",
                "consent": "1",
            },
        )
        mandate = self.env["ar.sepa.mandate"].search([("iban", "=", "BE71096123456769")])
        self.assertEqual(mandate.account_holder, XSS[:70])
        self._assert_escaped("/my/autopay", self.url_open("/my/autopay").text)
        for message in mandate.message_ids:
            self._assert_escaped(f"mandate message {message.id}", str(message.body))

    def test_reflected_search_is_escaped(self):
        self.authenticate("portal_a", "portal_a")
        response = self.url_open(f"/my/invoices?search={XSS}&search_in=all")
        self.assertEqual(response.status_code, 200)
        self._assert_escaped("/my/invoices search", response.text)

    @mute_logger("odoo.http")
    def test_oversized_input_gets_a_clear_error(self):
        token = self.valid["access_token"]
        url = f"/my/invoices/{self.inv_a1.id}/dispute"
        response = self._post(url, {"access_token": token, "reason": "other", "message": "x" * 200000})
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ar_dispute_error", response.text)
        self.assertFalse(self.inv_a1.ar_dispute_ids)
        self.authenticate("portal_a", "portal_a")
        base = {"account_holder": "Buyer A NV", "iban": "BE71 0961 2345 6769", "scheme": "CORE", "consent": "1"}
        for field, value in (("account_holder", "N" * 500), ("bic", "B" * 500), ("iban", "BE" + "9" * 500)):
            with self.subTest(field=field):
                response = self._post("/my/autopay/mandate", {**base, field: value})
                self.assertEqual(response.status_code, 200)
                self.assertIn("o_ar_mandate_error", response.text)
        mandates = self.env["ar.sepa.mandate"].search([("partner_id", "=", self.buyer_a.id)])
        self.assertEqual(mandates, self.mandates["a"], "nothing half-signed")
        response = self._post("/my/preferences", {"ar_statement_day": "9" * 40})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Statement Day", response.text)
        response = self.url_open(f"/my/invoices?search={'z' * 5000}")
        self.assertEqual(response.status_code, 200)
        token = self.valid["pay_all"]
        selection = "-".join(str(i) for i in range(100000, 101000))
        result, error = self._json(f"/my/pay-all/{token}/transaction/{selection}", self._tx_params())
        self.assertIsNone(result)
        self.assertIn("Select open", error)
