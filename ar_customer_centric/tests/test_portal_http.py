import re
import time
from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_portal_common import ArPortalCommon


def _no_csrf(html):
    return re.sub(r'csrf_token: "[^"]*"', 'csrf_token: ""', html)


@tagged("post_install", "-at_install")
class TestPortalHttp(ArPortalCommon):
    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    def _pay_all_path(self, partner, **kw):
        return "/my/pay-all/" + partner._ar_get_pay_all_token(**kw)

    # ------------------------------------------------------------------
    # One-click pay
    # ------------------------------------------------------------------

    def test_pay_url_opens_payment_dialog_for_guest(self):
        response = self.url_open(self.inv_a1._ar_get_pay_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="portal_pay" data-payment="True"', response.text)
        self.assertIn('id="pay_with"', response.text)
        self.assertIn(self.inv_a1.name, response.text)
        # a forged token gives the answer of a missing invoice
        forged = self.url_open(f"/my/invoices/{self.inv_a1.id}?access_token=forged&payment=True")
        missing = self.url_open("/my/invoices/999999?access_token=forged&payment=True")
        self.assertEqual(forged.url, missing.url)
        self.assertNotIn(self.inv_a1.name, forged.text)

    def test_invoice_transaction_never_charges_more_than_due(self):
        token = self.inv_a1._portal_ensure_token()
        result, error = self._json(
            f"/invoice/transaction/{self.inv_a1.id}", self._tx_params(access_token=token, amount=5000.0)
        )
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 100.0)
        # the demo provider confirms: the invoice is reconciled
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertIn(self.inv_a1.payment_state, ("paid", "in_payment"))
        self.assertTrue(tx.payment_id)

    # ------------------------------------------------------------------
    # Guest pay-all
    # ------------------------------------------------------------------

    def test_pay_all_page_lists_only_the_partner_open_invoices(self):
        self.inv_a2.ar_dispute_ids = [
            (0, 0, {"reason": "quality", "description": "Scratched", "raised_by_id": self.contact_a.id})
        ]
        response = self.url_open(self._pay_all_path(self.contact_a))
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.inv_a1.name, response.text)
        self.assertIn(self.inv_a2.name, response.text)
        self.assertNotIn(self.inv_b.name, response.text)
        # disputed invoices are listed but not selected by default
        self.assertRegex(response.text, rf'value="{self.inv_a1.id}"\s+checked')
        self.assertNotRegex(response.text, rf'value="{self.inv_a2.id}"\s+checked')
        self.assertIn("o_payment_form", response.text)

    @mute_logger("odoo.http")
    def test_pay_all_bad_tokens_are_not_found(self):
        good = self.buyer_a._ar_get_pay_all_token()
        pid, cid, expiry, sig = good.split("-", 3)
        bad_tokens = [
            f"{pid}-{cid}-{int(expiry) + 1}-{sig}",  # tampered expiry
            f"{self.buyer_b.id}-{cid}-{expiry}-{sig}",  # someone else's partner
            f"999999-{cid}-{expiry}-{sig}",  # missing partner
            f"{pid}-999999-{expiry}-{sig}",  # missing company
            f"{pid}-{expiry}-{sig}",  # the format before links were bound to a company
            self.buyer_a._ar_get_pay_all_token(expiry=int(time.time()) - 60),  # expired
            "not-a-token",
        ]
        missing = self.url_open("/my/pay-all/999999-1-x")
        self.assertEqual(missing.status_code, 404)
        for token in bad_tokens:
            with self.subTest(token=token):
                response = self.url_open(f"/my/pay-all/{token}")
                self.assertEqual(response.status_code, 404)
                # the same page as a missing record (the CSRF token in it changes every second)
                self.assertEqual(_no_csrf(response.text), _no_csrf(missing.text))
                result, error = self._json(f"/my/pay-all/{token}/transaction/all", self._tx_params(amount=1.0))
                self.assertIsNone(result)
                self.assertIn("invalid or has expired", error)
                response = self.url_open(f"/my/pay-all/{token}/invoice/{self.inv_a1.id}")
                self.assertEqual(response.status_code, 404)
        # revoked: the partner's e-mail changed after the link was sent
        self.buyer_a.email = "new-ap@buyer-a.example.com"
        self.assertEqual(self.url_open(f"/my/pay-all/{good}").status_code, 404)

    def test_pay_all_transaction_recomputes_amount_and_selection(self):
        token = self.buyer_a._ar_get_pay_all_token()
        # the client claims 1.00 and slips in buyer B's invoice: both are ignored
        selection = f"{self.inv_a1.id}-{self.inv_a2.id}-{self.inv_b.id}"
        result, error = self._json(f"/my/pay-all/{token}/transaction/{selection}", self._tx_params(amount=1.0))
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 300.0)
        self.assertEqual(tx.invoice_ids, self.inv_a1 | self.inv_a2)
        self.assertEqual(tx.partner_id, self.buyer_a)
        tx._process("demo", {"reference": tx.reference, "simulated_state": "done"})
        tx._post_process()
        self.assertTrue(all(m.payment_state in ("paid", "in_payment") for m in self.inv_a1 | self.inv_a2))
        self.assertEqual(self.inv_b.payment_state, "not_paid")

    @mute_logger("odoo.http")
    def test_pay_all_subset_and_foreign_selection(self):
        token = self.buyer_a._ar_get_pay_all_token()
        response = self.url_open(f"/my/pay-all/{token}?select=1&invoice_ids={self.inv_a2.id}")
        self.assertIn(f"/transaction/{self.inv_a2.id}", response.text)
        # everything unticked: nothing to pay, no payment form
        response = self.url_open(f"/my/pay-all/{token}?select=1")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("o_payment_form", response.text)
        self.assertNotRegex(response.text, r'class="form-check-input o_ar_pay_all_check"\s+value="\d+"\s+checked')
        result, error = self._json(f"/my/pay-all/{token}/transaction/{self.inv_b.id}", self._tx_params())
        self.assertIsNone(result)
        self.assertTrue(error)
        self.assertFalse(self.inv_b.transaction_ids)

    @mute_logger("odoo.http")
    def test_guest_endpoints_are_throttled(self):
        self.env["ir.config_parameter"].sudo().set_param("ar_customer_centric.guest_rate_limit", 3)
        path = self._pay_all_path(self.buyer_a)
        codes = [self.url_open(path).status_code for _i in range(4)]
        self.assertEqual(codes, [200, 200, 200, 429])

    def test_logged_in_pay_all_uses_own_partner(self):
        self.authenticate("portal_b", "portal_b")
        response = self.url_open("/my/invoices/pay-all")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.inv_b.name, response.text)
        self.assertNotIn(self.inv_a1.name, response.text)

    # ------------------------------------------------------------------
    # History
    # ------------------------------------------------------------------

    def test_my_invoices_status_filters_and_search(self):
        self.env["ar.dispute"]._ar_log_dispute(self.inv_a2, "other", "Wrong PO number", self.contact_a)
        self.authenticate("portal_a", "portal_a")
        response = self.url_open("/my/invoices")
        self.assertIn(self.inv_a1.name, response.text)
        self.assertNotIn(self.inv_b.name, response.text)
        self.assertIn("o_ar_disputed", response.text)
        self.assertIn("/my/invoices/pay-all", response.text)
        disputed = self.url_open("/my/invoices?filterby=ar_disputed").text
        self.assertIn(self.inv_a2.name, disputed)
        self.assertNotIn(f">{self.inv_a1.name}<", disputed)
        searched = self.url_open(f"/my/invoices?search={self.inv_a1.name}&search_in=name").text
        self.assertIn(self.inv_a1.name, searched)
        self.assertNotIn(f">{self.inv_a2.name}<", searched)

    def test_my_payments_lists_settled_invoices_of_own_partner_only(self):
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=self.inv_a1.ids)
            .create({})
            ._create_payments()
        )
        self.authenticate("portal_a", "portal_a")
        response = self.url_open("/my/payments")
        self.assertEqual(response.status_code, 200)
        self.assertIn(payment.name, response.text)
        self.assertIn(self.inv_a1.name, response.text)
        self.authenticate("portal_b", "portal_b")
        self.assertNotIn(payment.name, self.url_open("/my/payments").text)

    @mute_logger("odoo.http")
    def test_ubl_download_needs_access(self):
        response = self.url_open(f"/my/invoices/{self.inv_a1.id}/ubl?access_token=forged")
        self.assertEqual(response.status_code, 404)
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self.url_open(f"/my/invoices/{self.inv_a1.id}/ubl").status_code, 404)

    # ------------------------------------------------------------------
    # Disputes
    # ------------------------------------------------------------------

    def test_guest_dispute_with_attachment(self):
        token = self.inv_a1._portal_ensure_token()
        url = f"/my/invoices/{self.inv_a1.id}/dispute?access_token={token}"
        csrf = self._csrf(url)
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/dispute",
            data={"csrf_token": csrf, "access_token": token, "reason": "not_delivered", "message": "Never arrived"},
            files={"attachments": ("delivery-note.txt", b"no signature", "text/plain")},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_ar_dispute_sent", response.text)
        dispute = self.inv_a1.ar_dispute_ids
        self.assertEqual(dispute.reason, "not_delivered")
        self.assertEqual(self.inv_a1.ar_dispute_state, "open")
        self.assertTrue(self.inv_a1.no_followup)
        message = self.inv_a1.message_ids.filtered(lambda m: "Never arrived" in (m.body or ""))
        self.assertEqual(message.attachment_ids.mapped("name"), ["delivery-note.txt"])
        self.assertTrue(dispute.activity_ids)

    @mute_logger("odoo.http")
    def test_dispute_access(self):
        # forged token and missing invoice: same 404
        forged = self.url_open(f"/my/invoices/{self.inv_a1.id}/dispute?access_token=forged")
        missing = self.url_open("/my/invoices/999999/dispute?access_token=forged")
        self.assertEqual((forged.status_code, missing.status_code), (404, 404))
        # buyer B cannot dispute buyer A's invoice, even with a CSRF token of their own
        self.authenticate("portal_b", "portal_b")
        csrf = self._csrf(f"/my/invoices/{self.inv_b.id}/dispute")
        response = self.url_open(
            f"/my/invoices/{self.inv_a1.id}/dispute",
            data={"csrf_token": csrf, "reason": "other", "message": "mine now"},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.inv_a1.ar_dispute_ids)
        # no CSRF token: refused
        response = self.url_open(
            f"/my/invoices/{self.inv_b.id}/dispute", data={"reason": "other", "message": "no csrf"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.inv_b.ar_dispute_ids)

    def test_portal_dispute_visible_to_own_buyer_only(self):
        dispute = self.env["ar.dispute"]._ar_log_dispute(self.inv_a1, "wrong_amount", "Price", self.contact_a)
        self.authenticate("portal_a", "portal_a")
        self.assertIn(self.inv_a1.name, self.url_open("/my/disputes").text)
        self.assertEqual(dispute.with_user(self.portal_a).read(["state"])[0]["state"], "open")
        self.authenticate("portal_b", "portal_b")
        self.assertNotIn(self.inv_a1.name, self.url_open("/my/disputes").text)
        self.assertFalse(self.env["ar.dispute"].with_user(self.portal_b).search([]))

    # ------------------------------------------------------------------
    # Autopay and mandates
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")
    def test_mandate_signup_and_revoke(self):
        self.authenticate("portal_a", "portal_a")
        csrf = self._csrf("/my/autopay/mandate")
        values = {
            "csrf_token": csrf,
            "account_holder": "Buyer A NV",
            "iban": "BE00 0000 0000 0000",
            "scheme": "CORE",
            "consent": "1",
        }
        response = self.url_open("/my/autopay/mandate", data=values)
        self.assertIn("o_ar_mandate_error", response.text)
        self.assertFalse(self.env["ar.sepa.mandate"].search([("partner_id", "=", self.buyer_a.id)]))
        response = self.url_open("/my/autopay/mandate", data=dict(values, iban="BE68 5390 0754 7034", consent=""))
        self.assertIn("o_ar_mandate_error", response.text)
        response = self.url_open("/my/autopay/mandate", data=dict(values, iban="BE68 5390 0754 7034"))
        self.assertIn("o_ar_autopay_saved", response.text)
        mandate = self.env["ar.sepa.mandate"].search([("partner_id", "=", self.buyer_a.id)])
        self.assertEqual(mandate.state, "active")
        self.assertEqual(mandate.iban, "BE68539007547034")
        self.assertTrue(self.buyer_a.ar_autopay)
        self.assertEqual(self.buyer_a.ar_autopay_mandate_id, mandate)
        # buyer B can neither use nor revoke A's mandate
        self.authenticate("portal_b", "portal_b")
        csrf_b = self._csrf("/my/autopay")
        response = self.url_open("/my/autopay", data={"csrf_token": csrf_b, "autopay_method": f"mandate-{mandate.id}"})
        self.assertEqual(response.status_code, 404)
        response = self.url_open(f"/my/autopay/mandate/{mandate.id}/revoke", data={"csrf_token": csrf_b})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(mandate.state, "active")
        # A revokes it
        self.authenticate("portal_a", "portal_a")
        csrf = self._csrf("/my/autopay")
        self.url_open(f"/my/autopay/mandate/{mandate.id}/revoke", data={"csrf_token": csrf})
        self.assertEqual(mandate.state, "revoked")
        self.assertFalse(self.buyer_a.ar_autopay_mandate_id)

    def test_autopay_token_choice(self):
        token = self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.payment_method.id,
                "partner_id": self.contact_a.id,
                "payment_details": "4242",
                "provider_ref": "demo-ref",
            }
        )
        self.authenticate("portal_a", "portal_a")
        csrf = self._csrf("/my/autopay")
        self.url_open("/my/autopay", data={"csrf_token": csrf, "autopay_method": f"token-{token.id}"})
        self.assertTrue(self.buyer_a.ar_autopay)
        self.assertEqual(self.buyer_a.ar_autopay_token_id, token)
        self.url_open("/my/autopay", data={"csrf_token": csrf, "autopay_method": "off"})
        self.assertFalse(self.buyer_a.ar_autopay)
        self.assertTrue(self.buyer_a.message_ids.filtered(lambda m: "Autopay turned off" in (m.body or "")))

    # ------------------------------------------------------------------
    # Preferences
    # ------------------------------------------------------------------

    def test_preferences_page_edits_whitelisted_fields(self):
        self.authenticate("portal_a", "portal_a")
        csrf = self._csrf("/my/preferences")
        data = {
            "csrf_token": csrf,
            "name": "Hacked Name",
            "credit_limit": "99999",
            "ar_email_pdf_only": "1",
            "invoice_sending_method": "ar_cxml",  # needs the accountant's set-up: not offered
            "ar_invoice_contact_ids": [str(self.contact_a.id), str(self.contact_b.id)],
        }
        response = self.url_open("/my/preferences", data=data)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.buyer_a.name, "Buyer A NV")
        self.assertTrue(self.buyer_a.ar_email_pdf_only)
        self.assertNotEqual(self.buyer_a.invoice_sending_method, "ar_cxml")
        self.assertEqual(self.buyer_a.ar_invoice_contact_ids, self.contact_a, "another customer's contact is dropped")
        message = self.buyer_a.message_ids.filtered(lambda m: "Preferences changed in the portal" in (m.body or ""))
        self.assertEqual(len(message), 1)

    # ------------------------------------------------------------------
    # Statements
    # ------------------------------------------------------------------

    @mute_logger("odoo.http")
    def test_statements_of_own_partner_only(self):
        today = self.inv_a1.invoice_date_due
        statement = self.env["ar.customer.statement"]._ar_create_for_period(
            self.buyer_a, self.company, today.replace(day=1) - timedelta(days=62), today + timedelta(days=31)
        )
        statement.state = "sent"
        url = f"/my/statements/{statement.id}?report_type=html"
        self.authenticate("portal_a", "portal_a")
        self.assertIn(statement.name, self.url_open("/my/statements").text)
        self.assertEqual(self.url_open(url).status_code, 200)
        self.authenticate("portal_b", "portal_b")
        self.assertNotIn(statement.name, self.url_open("/my/statements").text)
        self.assertEqual(self.url_open(url).status_code, 404)
        self.authenticate(None, None)
        self.assertEqual(self.url_open(url + "&access_token=forged").status_code, 404)
        token = statement._portal_ensure_token()
        self.assertEqual(self.url_open(f"{url}&access_token={token}").status_code, 200)
