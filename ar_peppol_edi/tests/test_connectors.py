import base64
import json

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.ar_peppol_edi.models.ar_peppol_connector import PeppolConnectorError
from odoo.addons.ar_peppol_edi.tools.peppol_ids import BIS3_CREDIT_NOTE_DOCTYPE, BIS3_INVOICE_DOCTYPE, BIS3_PROCESS

from .common import FakeAccessPoint, PeppolCommon


@tagged("post_install", "-at_install")
class TestConnectors(PeppolCommon):
    """Storecove and Billit connectors against a local server implementing their documented API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap = FakeAccessPoint()
        cls.addClassCleanup(cls.ap.close)
        Connector = cls.env["ar.peppol.connector"]
        cls.storecove = Connector.create(
            {
                "name": "Storecove",
                "provider": "storecove",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "123",
                "timeout": 10.0,
            }
        )
        cls.billit = Connector.create(
            {
                "name": "Billit",
                "provider": "billit",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "42",
                "timeout": 10.0,
                "webhook_secret": "b-secret",
            }
        )
        cls.move = cls._invoice(cls.partner_be, [{}])
        cls.xml = cls.move._ar_peppol_export()[0]

    def setUp(self):
        super().setUp()
        self.ap.mode = "ok"

    def _submit(self, connector, key="key-1"):
        return connector._submit(self.move, self.xml, "invoice.xml", key)

    def test_success_and_idempotency(self):
        key = "5f0c8f9e-2d7b-4c1a-9a51-7f3e4f1b2c01"
        first = self._submit(self.storecove, key=key)
        self.assertTrue(first["message_id"])
        _key, body = self.ap.transmissions[-1]
        payload = json.loads(body)
        # the submission as Storecove's DocumentSubmission/RawDocumentData document it
        self.assertEqual(payload["routing"]["eIdentifiers"], [{"scheme": "BE:EN", "id": "0477472701"}])
        self.assertEqual(payload["legalEntityId"], 123)
        self.assertEqual(payload["idempotencyGuid"], key)
        raw = payload["document"]["rawDocumentData"]
        self.assertEqual(
            (raw["parse"], raw["documentTypeId"], raw["processId"]), (False, BIS3_INVOICE_DOCTYPE, BIS3_PROCESS)
        )
        self.assertEqual(base64.b64decode(raw["document"]), self.xml)
        # the same key again: Storecove's documented 422, which means "already taken", not "refused"
        before = len(self.ap.transmissions)
        again = self._submit(self.storecove, key=key)
        self.assertEqual(again["replayed"], True)
        self.assertFalse(again["message_id"])
        self.assertEqual(len(self.ap.transmissions), before)
        # Billit answers the first OrderID again
        first = self._submit(self.billit, key="billit-same")
        again = self._submit(self.billit, key="billit-same")
        self.assertEqual(first["message_id"], again["message_id"])
        self.assertEqual(len(self.ap.transmissions), before + 1)

    def test_storecove_credit_note_and_unknown_scheme(self):
        credit_note = self._invoice(self.partner_be, [{}], move_type="out_refund")
        xml = credit_note._ar_peppol_export()[0]
        self.storecove._submit(credit_note, xml, "cn.xml", "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
        raw = json.loads(self.ap.transmissions[-1][1])["document"]["rawDocumentData"]
        self.assertEqual(raw["documentTypeId"], BIS3_CREDIT_NOTE_DOCTYPE)
        # GLN (0088) goes as Storecove's "GLN"; an EAS Storecove does not name is refused before
        # anything is sent
        move = self._invoice(self.partner_us, [{}])
        self.storecove._submit(move, self.xml, "x.xml", "7b2e3d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e")
        routing = json.loads(self.ap.transmissions[-1][1])["routing"]["eIdentifiers"]
        self.assertEqual(routing, [{"scheme": "GLN", "id": "5430003732007"}])
        before = len(self.ap.requests)
        self.partner_us.write({"peppol_eas": "0130", "peppol_endpoint": "123456789"})
        with self.assertRaises(PeppolConnectorError) as caught:
            self.storecove._submit(move, self.xml, "x.xml", "8c3f4e5d-6a7b-4c8d-9e0f-1a2b3c4d5e6f")
        self.assertEqual(caught.exception.kind, "refused")
        self.assertEqual(len(self.ap.requests), before)

    def test_errors(self):
        expected = {
            "refuse": ("refused", False),
            "unauthorized": ("auth", False),
            "rate_limited": ("rate_limited", True),
            "server_error": ("server", True),
            "timeout": ("timeout", True),
            "malformed": ("malformed", True),
        }
        for connector in (self.storecove, self.billit):
            for mode, (kind, retryable) in expected.items():
                with self.subTest(provider=connector.provider, mode=mode):
                    self.ap.mode = mode
                    with self.assertRaises(PeppolConnectorError) as caught:
                        self._submit(connector, key=f"{connector.provider}-{mode}")
                    self.assertEqual(caught.exception.kind, kind)
                    self.assertEqual(caught.exception.retryable, retryable)
                    if mode == "rate_limited":
                        self.assertEqual(caught.exception.retry_after, 7)
                    if mode == "refuse":
                        self.assertTrue(caught.exception.answer)

    def test_wrong_credentials(self):
        self.storecove.api_key = "bad"
        with self.assertRaises(PeppolConnectorError) as caught:
            self._submit(self.storecove)
        self.assertEqual(caught.exception.kind, "auth")

    def test_cron_backoff_and_refusal(self):
        move = self._invoice(self.partner_be, [{}])
        move.ubl_cii_xml_file = base64.b64encode(self.xml)
        move._ar_peppol_queue(self.billit)
        self.ap.mode = "rate_limited"
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "queued")
        self.assertEqual(move.ar_peppol_attempts, 1)
        self.assertGreater(move.ar_peppol_next_try, move.ar_peppol_queued_at)
        # not due yet: the cron leaves it alone
        self.ap.mode = "ok"
        self.assertEqual(self.env["account.move"]._cron_ar_peppol_transmit(), 0)
        move.ar_peppol_next_try = move.ar_peppol_queued_at
        self.ap.mode = "refuse"
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "error")
        self.assertTrue(move.activity_ids)
        self.assertIn("PeppolValidation", move.ar_peppol_answer)

    def test_status_polling(self):
        for connector in (self.storecove, self.billit):
            with self.subTest(provider=connector.provider):
                move = self._invoice(self.partner_be, [{}])
                move.ubl_cii_xml_file = base64.b64encode(self.xml)
                move._ar_peppol_queue(connector)
                self.env["account.move"]._cron_ar_peppol_transmit()
                self.assertEqual(move.ar_peppol_state, "sent")
                # no evidence yet (Storecove answers 404, Billit "In Queue"): still sent, not "malformed"
                self.env["account.move"]._cron_ar_peppol_fetch_status()
                self.assertEqual(move.ar_peppol_state, "sent")
                self.ap.status[
                    move.ar_peppol_message_id if connector.provider == "storecove" else int(move.ar_peppol_message_id)
                ] = "delivered"
                self.env["account.move"]._cron_ar_peppol_fetch_status()
                self.assertEqual(move.ar_peppol_state, "delivered")
                self.assertTrue(move.ar_peppol_delivered_at)

    def test_credentials_for_administrators_only(self):
        user = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "peppol_accountant",
                "group_ids": [(6, 0, self.env.ref("account.group_account_manager").ids)],
            }
        )
        connector = self.storecove.with_user(user)
        self.assertEqual(connector.name, "Storecove")
        with self.assertRaises(AccessError):
            connector.read(["api_key"])

    def test_provider_and_address_for_administrators_only(self):
        user = self.env["res.users"].create(
            {
                "name": "Accounting manager",
                "login": "peppol_manager",
                "group_ids": [(6, 0, self.env.ref("account.group_account_manager").ids)],
            }
        )
        connector = self.storecove.with_user(user)
        connector.timeout = 20.0  # other settings stay theirs
        with self.assertRaises(AccessError):
            connector.base_url = "https://attacker.example"
        with self.assertRaises(AccessError):
            connector.provider = "billit"
        with self.assertRaises(AccessError):
            self.env["ar.peppol.connector"].with_user(user).create(
                {"name": "Mine", "provider": "storecove", "base_url": "https://attacker.example"}
            )
        self.storecove.base_url = self.ap.url  # unchanged value: allowed
        self.assertEqual(self.storecove.base_url, self.ap.url)

    def test_signed_webhooks_need_their_secret(self):
        with self.assertRaises(ValidationError):
            self.env["ar.peppol.connector"].create({"name": "Billit", "provider": "billit", "base_url": self.ap.url})
        with self.assertRaises(ValidationError):
            self.billit.webhook_secret = False
