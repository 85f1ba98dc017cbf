import base64
import hashlib
import hmac
import json
import os
import time
import zipfile
from unittest.mock import patch

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.ar_peppol_edi.models.ar_peppol_connector import PeppolConnectorError
from odoo.addons.ar_peppol_edi.tools.peppol_ids import BIS3_INVOICE_DOCTYPE

from .common import RULES as RULES_PATH
from .common import FakeAccessPoint, PeppolCommon
from .test_lookup import FakeSmp


class SimulatedCrash(Exception):
    """The worker dies (killed, out of memory) after the access point took a document."""


@tagged("post_install", "-at_install")
class TestTransmission(PeppolCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap = FakeAccessPoint()
        cls.addClassCleanup(cls.ap.close)
        cls.smp = FakeSmp({"0208:0477472701": [BIS3_INVOICE_DOCTYPE]})
        cls.addClassCleanup(cls.smp.close)
        cls.env["ir.config_parameter"].set_param("ar_peppol_edi.smp_url", cls.smp.url)
        cls.storecove = cls.env["ar.peppol.connector"].create(
            {
                "name": "Storecove",
                "provider": "storecove",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "123",
                "timeout": 1.0,
                "webhook_secret": "s3cret",
            }
        )
        cls.sandbox = cls.env["ar.peppol.connector"].create({"name": "Sandbox", "provider": "sandbox"})
        cls.company.ar_peppol_connector_id = cls.sandbox
        cls.partner_be.with_company(cls.company).invoice_sending_method = "ar_peppol"

    def _send(self, moves):
        return self.env["account.move.send"]._generate_and_send_invoices(
            moves, sending_methods={"ar_peppol"}, allow_raising=False
        )

    def test_send_validate_queue_and_sandbox_lifecycle(self):
        move = self._invoice(self.partner_be, [{}, {"taxes": self.tax_6, "price_unit": 33.33}])
        self.assertIn("ar_peppol", self.env["account.move.send"]._get_default_sending_methods(move))
        self._send(move)
        self.assertEqual(move.ar_peppol_state, "queued", move.ar_peppol_finding_ids.mapped("official_text"))
        self.assertTrue(move.ar_peppol_idempotency_key)
        self.assertEqual(move.ar_peppol_fatal_count, 0)
        # the document sent is the validated one, with the invoice PDF embedded
        root = etree.fromstring(move.ubl_cii_xml_id.raw)
        embedded = root.findall(".//{*}AdditionalDocumentReference/{*}Attachment/{*}EmbeddedDocumentBinaryObject")
        self.assertTrue(embedded)
        self.assertEqual(embedded[-1].get("mimeCode"), "application/pdf")

        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "sent")
        self.assertTrue(move.ar_peppol_message_id.startswith("sandbox-"))
        self.env["account.move"]._cron_ar_peppol_fetch_status()
        self.assertEqual(move.ar_peppol_state, "delivered")
        self.env["account.move"]._cron_ar_peppol_fetch_status()
        self.assertEqual(move.ar_peppol_state, "accepted")
        self.assertEqual(move.ar_peppol_response_code, "AP")
        # already sent: the channel does not apply a second time
        self.assertFalse(self.env["account.move.send"]._is_applicable_to_move("ar_peppol", move))

    def test_fatal_finding_blocks_sending(self):
        # a "standard rate" VAT category at 0 % breaks BR-S-05: only the official rules see it
        tax_s0 = self.tax_21.copy({"name": "0% S", "amount": 0.0, "ubl_cii_tax_category_code": "S"})
        move = self._invoice(self.partner_be, [{"taxes": tax_s0}])
        self._send(move)
        self.assertEqual(move.ar_peppol_state, "invalid")
        self.assertIn("does not pass the Peppol rules", move.message_ids[:1].body)
        self.assertFalse(move.ar_peppol_idempotency_key)
        self.assertIn("BR-S-05", move.ar_peppol_finding_ids.filtered(lambda f: f.flag == "fatal").mapped("rule"))

    def test_rules_unavailable_fails_closed(self):
        self.company.ar_peppol_rules_path = "/nonexistent/peppol-rules"
        move = self._invoice(self.partner_be, [{}])
        with self.assertLogs("odoo.addons.ar_peppol_edi.models.account_move", level="WARNING"):
            move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "to_validate")
        self.assertEqual(move.ar_peppol_finding_ids.rule, "NOT-VALIDATED")
        with self.assertLogs("odoo.addons.ar_peppol_edi.models.account_move", level="WARNING"):
            self._send(move)
        self.assertEqual(move.ar_peppol_state, "to_validate")
        self.assertIn("not validated", move.message_ids[:1].body)
        self.assertFalse(move.ar_peppol_idempotency_key)

    def test_rules_from_zip(self):
        import io
        import tempfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in os.listdir(RULES_PATH):
                archive.write(os.path.join(RULES_PATH, name), f"rules/{name}")
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as handle:
            handle.write(buffer.getvalue())
        self.addCleanup(os.unlink, handle.name)
        self.company.ar_peppol_rules_path = handle.name
        move = self._invoice(self.partner_be, [{}])
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "ready", move.ar_peppol_finding_ids.mapped("official_text"))

    def test_crash_and_rerun_transmits_each_invoice_once(self):
        moves = self.env["account.move"]
        for index in range(5):
            move = self._invoice(self.partner_be, [{"price_unit": 100 + index}])
            move.ubl_cii_xml_file = base64.b64encode(move._ar_peppol_export()[0])
            moves |= move
        moves._ar_peppol_queue(self.storecove)
        keys = set(moves.mapped("ar_peppol_idempotency_key"))
        self.assertEqual(len(keys), 5)

        Move = self.registry["account.move"]
        original = Move._ar_peppol_transmit
        calls = []

        def transmit_then_die(record):
            original(record)
            calls.append(record.id)
            if len(calls) == 3:
                raise SimulatedCrash()

        with patch.object(Move, "_ar_peppol_transmit", transmit_then_die):
            with self.assertRaises(SimulatedCrash), self.env.cr.savepoint():
                self.env["account.move"]._cron_ar_peppol_transmit()
        self.env.invalidate_all()
        self.assertEqual(len(self.ap.transmissions), 3)
        self.assertEqual(set(moves.mapped("ar_peppol_state")), {"queued"}, "the crashed run left nothing committed")

        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(set(moves.mapped("ar_peppol_state")), {"sent"})
        posts = [r for r in self.ap.requests if r == ("POST", "/document_submissions")]
        self.assertEqual(len(posts), 8, "the three documents of the crashed run were offered again")
        transmitted = [key for key, _body in self.ap.transmissions]
        self.assertEqual(sorted(transmitted), sorted(keys), "each invoice transmitted exactly once")
        self.assertEqual(len(set(moves.mapped("ar_peppol_message_id"))), 5)
        # a third run has nothing left to do
        self.assertEqual(self.env["account.move"]._cron_ar_peppol_transmit(), 0)

    def test_invoice_responses(self):
        move = self._invoice(self.partner_be, [{}])
        move.write(
            {"ar_peppol_state": "sent", "ar_peppol_message_id": "m-1", "ar_peppol_connector_id": self.storecove.id}
        )
        move._ar_peppol_apply_event({"response_code": "AB"})
        self.assertEqual(move.ar_peppol_state, "delivered")
        move._ar_peppol_apply_event({"response_code": "IP"})
        move._ar_peppol_apply_event({"response_code": "UQ", "reason": "Which PO?"})
        self.assertEqual(move.ar_peppol_state, "delivered")
        self.assertEqual(len(move.activity_ids), 1)
        move._ar_peppol_apply_event({"response_code": "RE", "reason": "Wrong VAT rate"})
        self.assertEqual(move.ar_peppol_state, "rejected")
        self.assertIn("Wrong VAT rate", " ".join(move.activity_ids.mapped("note")))
        other = self._invoice(self.partner_be, [{}])
        other.write({"ar_peppol_state": "sent", "ar_peppol_message_id": "m-2"})
        other._ar_peppol_apply_event({"response_code": "CA", "reason": "ok if delivered by Friday"})
        self.assertEqual(other.ar_peppol_state, "accepted")
        other._ar_peppol_apply_event({"response_code": "AP"})
        other._ar_peppol_apply_event({"response_code": "PD"})
        self.assertEqual(other.ar_peppol_state, "paid")
        self.assertIn("PD", other.message_ids[:1].body)

    def test_webhooks(self):
        move = self._invoice(self.partner_be, [{}])
        move.write(
            {"ar_peppol_state": "sent", "ar_peppol_message_id": "guid-7", "ar_peppol_connector_id": self.storecove.id}
        )
        body = json.dumps(
            {
                "event_type": "invoice_response",
                "guid": "evt",
                "body": json.dumps({"guid": "guid-7", "response_code": "RE", "response_reason": "Duplicate"}),
            }
        ).encode()
        signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        events = self.storecove._parse_webhook({"X-Storecove-Signature": signature}, body)
        self.assertEqual(events[0]["response_code"], "RE")
        with self.assertRaises(PeppolConnectorError):
            self.storecove._parse_webhook({"X-Storecove-Signature": "forged"}, body)
        billit = self.env["ar.peppol.connector"].create(
            {
                "name": "Billit",
                "provider": "billit",
                "base_url": self.ap.url,
                "api_key": "k",
                "webhook_secret": "b-secret",
            }
        )
        body = json.dumps({"OrderID": 1001, "ResponseCode": "PD"}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(b"b-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        events = billit._parse_webhook({"Billit-Signature": f"t={stamp},s={signature}"}, body)
        self.assertEqual(
            events, [{"message_id": "1001", "answer": body.decode(), "response_code": "PD", "reason": None}]
        )


@tagged("post_install", "-at_install")
class TestFetchRules(PeppolCommon):
    """'Download the rules' against a local server serving a ZIP of the validation artefacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import io
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in os.listdir(RULES_PATH):
                archive.write(os.path.join(RULES_PATH, name), f"peppol-bis-3/xslt/{name}")
        files = {"/rules.zip": buffer.getvalue(), "/not-a-zip": b"<html>oops</html>"}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cls.addClassCleanup(server.server_close)
        cls.addClassCleanup(server.shutdown)
        cls.rules_url = f"http://127.0.0.1:{server.server_address[1]}"

    def test_fetch_rules(self):
        settings = self.env["res.config.settings"].create({})
        self.company.ar_peppol_rules_url = f"{self.rules_url}/not-a-zip"
        with self.assertRaises(UserError):
            self.company._ar_peppol_fetch_rules()
        self.company.ar_peppol_rules_url = f"{self.rules_url}/missing.zip"
        with self.assertRaises(UserError):
            self.company._ar_peppol_fetch_rules()
        self.assertEqual(self.company.ar_peppol_rules_path, RULES_PATH)
        self.company.ar_peppol_rules_url = f"{self.rules_url}/rules.zip"
        action = settings.action_ar_peppol_fetch_rules()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(self.company.ar_peppol_rules_path.endswith(".zip"))
        self.addCleanup(os.unlink, self.company.ar_peppol_rules_path)
        move = self._invoice(self.partner_be, [{}])
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "ready")
