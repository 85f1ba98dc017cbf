import hashlib
import hmac
import json
import time

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import billit_webhook, storecove_webhook


@tagged("post_install", "-at_install")
class TestWebhookHttp(HttpCase):
    """The webhook route, called as the access points call it (POST, no session): it fails
    closed, refuses replays and only touches invoices sent through its own connector."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        Connector = cls.env["ar.peppol.connector"]
        cls.storecove = Connector.create(
            {"name": "Storecove", "provider": "storecove", "base_url": "http://127.0.0.1:9", "company_id": company.id}
        )
        cls.billit = Connector.create(
            {
                "name": "Billit",
                "provider": "billit",
                "base_url": "http://127.0.0.1:9",
                "webhook_secret": "b-secret",
                "company_id": company.id,
            }
        )
        partner = cls.env["res.partner"].create({"name": "Buyer"})
        cls.move = cls.env["account.move"].create({"move_type": "out_invoice", "partner_id": partner.id})
        cls.move.write(
            {"ar_peppol_state": "sent", "ar_peppol_message_id": "guid-42", "ar_peppol_connector_id": cls.storecove.id}
        )
        cls.billit_move = cls.env["account.move"].create({"move_type": "out_invoice", "partner_id": partner.id})
        cls.billit_move.write(
            {"ar_peppol_state": "sent", "ar_peppol_message_id": "1001", "ar_peppol_connector_id": cls.billit.id}
        )

    def _post(self, connector, body, headers=None, token=None):
        url = f"/ar_peppol_edi/webhook/{connector.id}/{token or connector.webhook_token}"
        return self.url_open(url, data=body, headers=dict(headers or {}, **{"Content-Type": "application/json"}))

    def test_storecove_webhook(self):
        body = storecove_webhook("guid-42", "succeeded", instance="instance-1")
        self.assertEqual(self._post(self.storecove, body, token="wrong-token").status_code, 404)
        self.assertEqual(self._post(self.storecove, b"{not json").status_code, 400)
        self.move.invalidate_recordset()
        self.assertEqual(self.move.ar_peppol_state, "sent")
        response = self._post(self.storecove, body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"applied": 1, "replayed": 0})
        self.move.invalidate_recordset()
        self.assertEqual(self.move.ar_peppol_state, "delivered")
        # the same event again is refused
        self.assertEqual(self._post(self.storecove, body).json(), {"applied": 0, "replayed": 1})
        # an event of another connector's invoice: the Billit invoice's OrderID as a guid
        self.assertEqual(self._post(self.storecove, storecove_webhook("1001", "failed")).json()["applied"], 0)
        self.billit_move.invalidate_recordset()
        self.assertEqual(self.billit_move.ar_peppol_state, "sent")

    def test_billit_webhook_fails_closed(self):
        body, headers = billit_webhook(1001, "Refused", "No Valid VAT")
        for bad in (
            {},
            {"Billit-Signature": "garbage"},
            {"Billit-Signature": "t=x,s=y"},
            {"Billit-Signature": "t=1,s=" + "0" * 64},
        ):
            with self.subTest(headers=bad):
                self.assertEqual(self._post(self.billit, body, bad).status_code, 401)
        self.billit_move.invalidate_recordset()
        self.assertEqual(self.billit_move.ar_peppol_state, "sent")
        response = self._post(self.billit, body, headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"applied": 1, "replayed": 0})
        self.billit_move.invalidate_recordset()
        self.assertEqual(self.billit_move.ar_peppol_state, "rejected")
        self.assertEqual(self.billit_move.ar_peppol_response_reason, "No Valid VAT")
        # a replay of the same signed call is refused
        self.assertEqual(self._post(self.billit, body, headers).json(), {"applied": 0, "replayed": 1})
        # an Order webhook carries no status: accepted, nothing applied
        order = json.dumps({"UpdatedEntityID": 1001, "UpdatedEntityType": "Order"}).encode()
        _body, signed = billit_webhook(1001, "Sent")
        self.assertEqual(self._post(self.billit, order, signed).status_code, 401, "the signature covers the body")

    @mute_logger("odoo.http")
    def test_unrecognizable_body_is_refused(self):
        """A valid URL token with a body that is not an event of the provider: 400 with a JSON
        error, nothing claimed in the replay register, nothing applied."""
        Event = self.env["ar.peppol.webhook.event"]
        before = Event.search_count([])
        unsigned = (
            b"{}",
            b"[]",
            b'"x"',
            json.dumps({"event_type": "document_submission", "event": "succeeded", "guid": "guid-42"}).encode(),
            json.dumps({"guid": "", "body": json.dumps({"event_type": "document_submission"})}).encode(),
            json.dumps({"guid": "inst-9", "body": json.dumps({"event": "succeeded", "guid": "guid-42"})}).encode(),
        )
        for body in unsigned:
            with self.subTest(provider="storecove", body=body):
                response = self._post(self.storecove, body)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertIn("not a Storecove webhook", response.json()["error"])
        stamp = str(int(time.time()))
        for body in (b"{}", json.dumps({"UpdatedEntityID": 1, "UpdatedEntityType": "Invoice"}).encode()):
            signature = hmac.new(b"b-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            with self.subTest(provider="billit", body=body):
                response = self._post(self.billit, body, {"Billit-Signature": f"t={stamp},s={signature}"})
                self.assertEqual(response.status_code, 400, response.text)
                self.assertIn("not a Billit webhook", response.json()["error"])
        # a signed Order webhook is a Billit event without a delivery status: accepted, nothing applied
        order = json.dumps({"UpdatedEntityID": 1001, "UpdatedEntityType": "Order", "WebhookUpdateTypeTC": "U"})
        signature = hmac.new(b"b-secret", f"{stamp}.{order}".encode(), hashlib.sha256).hexdigest()
        response = self._post(self.billit, order.encode(), {"Billit-Signature": f"t={stamp},s={signature}"})
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 0, "replayed": 0}))
        self.assertEqual(Event.search_count([]), before)
        (self.move | self.billit_move).invalidate_recordset()
        self.assertEqual((self.move | self.billit_move).mapped("ar_peppol_state"), ["sent", "sent"])
