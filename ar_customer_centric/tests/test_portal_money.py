"""Money and access holes of issue 10 (points 1-5): each test failed on the code before the fix."""

import re

from odoo.fields import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.ar_customer_centric.controllers.rate_limit import MAX_KEYS, _Throttle

from .test_portal_common import ArPortalCommon


@tagged("post_install", "-at_install")
class TestPortalMoney(ArPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.token_a = cls._ar_saved_card(cls.buyer_a, "4242")
        cls.token_b = cls._ar_saved_card(cls.buyer_b, "1881")

    @classmethod
    def _ar_saved_card(cls, partner, digits):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.payment_method.id,
                "partner_id": partner.id,
                "payment_details": digits,
                "provider_ref": f"demo-{digits}",
            }
        )

    def _pay_all(self, partner=None, **kw):
        return (partner or self.buyer_a)._ar_get_pay_all_token(**kw)

    def _txs(self):
        return self.env["payment.transaction"].search([("invoice_ids", "in", (self.inv_a1 | self.inv_a2).ids)])

    # ------------------------------------------------------------------
    # 1. A forwarded pay-all link never charges the saved card
    # ------------------------------------------------------------------

    def test_guest_pay_all_page_offers_no_saved_card_and_no_tokenization(self):
        response = self.url_open(f"/my/pay-all/{self._pay_all()}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_payment_form", response.text)
        self.assertNotIn('data-payment-option-type="token"', response.text)
        self.assertNotIn("o_payment_tokenize_checkbox", response.text)
        # the one-click link of one invoice is forwarded just as well
        response = self.url_open(self.inv_a1._ar_get_pay_url())
        self.assertIn('id="portal_pay"', response.text)
        self.assertNotIn('data-payment-option-type="token"', response.text)
        self.assertNotIn("o_payment_tokenize_checkbox", response.text)

    def test_guest_cannot_pay_with_saved_card_or_save_one(self):
        token = self._pay_all()
        path = f"/my/pay-all/{token}/transaction/{self.inv_a1.id}"
        params = self._tx_params(flow="token", token_id=self.token_a.id, payment_method_id=None)
        result, error = self._json(path, params)
        self.assertIsNone(result)
        self.assertIn("log in", error)
        result, error = self._json(
            f"/invoice/transaction/{self.inv_a1.id}",
            self._tx_params(
                flow="token",
                token_id=self.token_a.id,
                payment_method_id=None,
                access_token=self.inv_a1._portal_ensure_token(),
            ),
        )
        self.assertIsNone(result)
        self.assertIn("log in", error)
        self.assertFalse(self._txs())
        result, error = self._json(path, self._tx_params(tokenization_requested=True))
        self.assertFalse(error)
        self.assertFalse(self._txs().tokenize)

    def test_disputed_invoice_is_never_in_the_pay_all_selection(self):
        self.env["ar.dispute"]._ar_log_dispute(self.inv_a2, "quality", "Scratched", self.contact_a)
        token = self._pay_all()
        response = self.url_open(f"/my/pay-all/{token}?select=1&invoice_ids={self.inv_a2.id}")
        self.assertNotIn("o_payment_form", response.text)
        result, error = self._json(
            f"/my/pay-all/{token}/transaction/{self.inv_a1.id}-{self.inv_a2.id}", self._tx_params()
        )
        self.assertFalse(error)
        self.assertEqual(self._txs().invoice_ids, self.inv_a1)
        result, error = self._json(f"/my/pay-all/{token}/transaction/{self.inv_a2.id}", self._tx_params())
        self.assertIsNone(result)

    def test_logged_in_buyer_pays_with_own_saved_card_only(self):
        self.authenticate("portal_a", "portal_a")
        card_alice = self._ar_saved_card(self.contact_a, "1111")
        response = self.url_open("/my/invoices/pay-all")
        self.assertIn(f'data-payment-option-id="{card_alice.id}"', response.text)
        self.assertNotIn(f'data-payment-option-id="{self.token_b.id}"', response.text)
        token = self._pay_all()
        params = self._tx_params(flow="token", payment_method_id=None)
        path = f"/my/pay-all/{token}/transaction/{self.inv_a1.id}"
        result, error = self._json(path, dict(params, token_id=self.token_b.id))
        self.assertIsNone(result)
        result, error = self._json(path, dict(params, token_id=card_alice.id))
        self.assertFalse(error)
        self.assertEqual(self._txs().token_id, card_alice)

    # ------------------------------------------------------------------
    # 3. /my/payments: own invoices only, linked without a token
    # ------------------------------------------------------------------

    def test_my_payments_never_links_another_customer_invoice(self):
        payment = self.env["account.payment"].create(
            {"partner_id": self.buyer_a.id, "partner_type": "customer", "payment_type": "inbound", "amount": 400.0}
        )
        payment.action_post()
        receivable = payment.move_id.line_ids.filtered(lambda x: x.account_id.account_type == "asset_receivable")
        # the accountant matched buyer A's payment with buyer B's invoice (and A's own)
        for invoice in self.inv_b | self.inv_a1:
            (receivable | invoice.line_ids.filtered(lambda x: x.account_id == receivable.account_id)).reconcile()
        self.assertIn(self.inv_b, payment.reconciled_invoice_ids)
        self.authenticate("portal_a", "portal_a")
        response = self.url_open("/my/payments")
        self.assertIn(payment.name, response.text)
        self.assertIn(self.inv_a1.name, response.text)
        self.assertNotIn(self.inv_b.name, response.text)
        self.assertNotIn("access_token", response.text)
        self.assertNotIn(self.inv_b.access_token or "no token minted", response.text)

    # ------------------------------------------------------------------
    # 4. Pay-all hands out nothing that outlives the link
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")
    def test_pay_all_never_hands_out_an_invoice_access_token(self):
        paid = self._ar_invoice(self.buyer_a, 40.0, self.inv_a1.invoice_date_due)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {}
        )._create_payments()
        token = self._pay_all()
        (self.inv_a1 | paid).access_token = False
        response = self.url_open(f"/my/pay-all/{token}/invoice/{paid.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        response = self.url_open(f"/my/pay-all/{token}/invoice/{self.inv_a1.id}?report_type=html")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.inv_a1.name, response.text)
        response = self.url_open(f"/my/pay-all/{token}/invoice/{self.inv_a1.id}?dispute=1")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ar_dispute_form", response.text)
        self.assertEqual((self.inv_a1 | paid).mapped("access_token"), [False, False], "no permanent token minted")
        # revoked link: the invoice and its dispute form are gone with it
        self.buyer_a.email = "other-ap@buyer-a.example.com"
        for suffix in ("", "?dispute=1"):
            self.assertEqual(self.url_open(f"/my/pay-all/{token}/invoice/{self.inv_a1.id}{suffix}").status_code, 404)

    def test_guest_dispute_through_the_pay_all_link(self):
        token = self._pay_all()
        url = f"/my/pay-all/{token}/invoice/{self.inv_a1.id}?dispute=1"
        csrf = self._csrf(url)
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/dispute",
            data={"csrf_token": csrf, "pay_all_token": token, "reason": "other", "message": "Wrong PO"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.inv_a1.ar_dispute_state, "open")
        self.assertIn(f"/my/pay-all/{token}", response.url)
        # a pay-all link of buyer A never opens buyer B's invoice
        response = self.url_open(
            f"/my/invoices/{self.inv_b.id}/dispute",
            data={"csrf_token": csrf, "pay_all_token": token, "reason": "other", "message": "Not mine"},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.inv_b.ar_dispute_ids)

    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    # ------------------------------------------------------------------
    # 5. Smaller holes
    # ------------------------------------------------------------------

    def test_rate_limiter_memory_is_bounded(self):
        throttle = _Throttle()
        for i in range(MAX_KEYS + 500):
            self.assertTrue(throttle.hit(("pay_all", f"10.0.{i // 250}.{i % 250}"), 5))
        self.assertLessEqual(len(throttle._hits), MAX_KEYS)
        # the limit still holds for an active client
        for _i in range(4):
            throttle.hit(("pay_all", "192.0.2.1"), 5)
        self.assertTrue(throttle.hit(("pay_all", "192.0.2.1"), 5))
        self.assertFalse(throttle.hit(("pay_all", "192.0.2.1"), 5))

    @mute_logger("odoo.http")
    def test_non_ascii_signature_is_an_invalid_link(self):
        good = self._pay_all()
        head, _sig = good.rsplit("-", 1)
        for token in (f"{head}-é", f"{head}-{'ü' * 43}"):
            self.assertFalse(self.env["res.partner"]._ar_check_pay_all_token(token))
            response = self.url_open(f"/my/pay-all/{token}")
            self.assertEqual(response.status_code, 404)

    def test_pay_all_link_is_bound_to_its_company(self):
        other_company = self.setup_other_company()["company"]
        foreign = (
            self.env["account.move"]
            .with_company(other_company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.buyer_a.id,
                    "company_id": other_company.id,
                    "invoice_line_ids": [
                        Command.create({"name": "Elsewhere", "quantity": 1, "price_unit": 999.0, "tax_ids": False})
                    ],
                }
            )
        )
        foreign.action_post()
        token = self._pay_all(company=self.company)
        self.assertEqual(self.env["res.partner"]._ar_parse_pay_all_token(token), (self.buyer_a, self.company))
        response = self.url_open(f"/my/pay-all/{token}")
        self.assertIn(self.inv_a1.name, response.text)
        # (the other company's numbering may repeat A's invoice numbers: compare ids)
        self.assertIn(f"/my/pay-all/{token}/invoice/{self.inv_a1.id}", response.text)
        self.assertNotIn(f"/my/pay-all/{token}/invoice/{foreign.id}", response.text)
        result, _error = self._json(f"/my/pay-all/{token}/transaction/{foreign.id}", self._tx_params())
        self.assertIsNone(result)
        # the company is signed: swapping it voids the link
        pid, _cid, rest = token.split("-", 2)
        forged = f"{pid}-{other_company.id}-{rest}"
        self.assertFalse(self.env["res.partner"]._ar_check_pay_all_token(forged))
        self.assertTrue(self.env["res.partner"]._ar_check_pay_all_token(self._pay_all(company=other_company)))

    @mute_logger("odoo.http")
    def test_autopay_offers_and_takes_own_mandates_only(self):
        """An internal user who is also a buyer's contact sees and picks only that buyer's mandates."""
        mandates = self.env["ar.sepa.mandate"]
        for partner in (self.buyer_a, self.buyer_b):
            mandates |= self.env["ar.sepa.mandate"].create(
                {
                    "partner_id": partner.id,
                    "iban": "BE68 5390 0754 7034",
                    "account_holder": partner.name,
                    "consent": True,
                    "state": "active",
                }
            )
        mandate_a, mandate_b = mandates
        clerk_partner = self.env["res.partner"].create({"name": "Clerk of A", "parent_id": self.buyer_a.id})
        new_test_user(
            self.env,
            login="clerk_a",
            groups="account.group_account_invoice",
            partner_id=clerk_partner.id,
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.authenticate("clerk_a", "clerk_a")
        response = self.url_open("/my/autopay")
        self.assertIn(mandate_a.name, response.text)
        self.assertNotIn(mandate_b.name, response.text)
        csrf = self._csrf("/my/autopay")
        response = self.url_open("/my/autopay", data={"csrf_token": csrf, "autopay_method": f"mandate-{mandate_b.id}"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.buyer_a.ar_autopay_mandate_id)
        response = self.url_open(f"/my/autopay/mandate/{mandate_b.id}/revoke", data={"csrf_token": csrf})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(mandate_b.state, "active")
        self.url_open("/my/autopay", data={"csrf_token": csrf, "autopay_method": f"mandate-{mandate_a.id}"})
        self.assertEqual(self.buyer_a.ar_autopay_mandate_id, mandate_a)
