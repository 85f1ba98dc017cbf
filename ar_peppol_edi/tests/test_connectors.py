import base64
import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.ar_peppol_edi.models.ar_peppol_connector import PeppolConnectorError

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
        for connector in (self.storecove, self.billit):
            with self.subTest(provider=connector.provider):
                before = len(self.ap.transmissions)
                first = self._submit(connector, key=f"{connector.provider}-same")
                again = self._submit(connector, key=f"{connector.provider}-same")
                self.assertTrue(first["message_id"])
                self.assertEqual(first["message_id"], again["message_id"])
                self.assertEqual(len(self.ap.transmissions), before + 1)
        _key, body = self.ap.transmissions[0]
        payload = json.loads(body)
        self.assertEqual(payload["routing"]["eIdentifiers"][0], {"scheme": "0208", "id": "0477472701"})
        self.assertEqual(payload["legalEntityId"], 123)

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
