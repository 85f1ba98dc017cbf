import hashlib
import hmac
import json

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestWebhookHttp(HttpCase):
    """The webhook route, called as the access point calls it (signed POST, no session)."""

    def test_storecove_webhook(self):
        company = self.env.company
        connector = self.env["ar.peppol.connector"].create(
            {
                "name": "Storecove",
                "provider": "storecove",
                "base_url": "http://127.0.0.1:9",
                "webhook_secret": "s3cret",
                "company_id": company.id,
            }
        )
        partner = self.env["res.partner"].create({"name": "Buyer"})
        move = self.env["account.move"].create({"move_type": "out_invoice", "partner_id": partner.id})
        move.write(
            {"ar_peppol_state": "sent", "ar_peppol_message_id": "guid-42", "ar_peppol_connector_id": connector.id}
        )
        url = f"/ar_peppol_edi/webhook/{connector.id}/{connector.webhook_token}"
        body = json.dumps(
            {
                "event_type": "invoice_response",
                "body": json.dumps({"guid": "guid-42", "response_code": "RE", "response_reason": "Wrong PO"}),
            }
        ).encode()
        signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()

        response = self.url_open(url, data=body, headers={"X-Storecove-Signature": "forged"})
        self.assertEqual(response.status_code, 401)
        response = self.url_open(f"/ar_peppol_edi/webhook/{connector.id}/wrong-token", data=body)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(move.ar_peppol_state, "sent")

        response = self.url_open(url, data=body, headers={"X-Storecove-Signature": signature})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"applied": 1})
        move.invalidate_recordset()
        self.assertEqual(move.ar_peppol_state, "rejected")
        self.assertEqual(move.ar_peppol_response_reason, "Wrong PO")
