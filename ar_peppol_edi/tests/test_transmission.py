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

from .common import FakeAccessPoint, PeppolCommon, billit_webhook, storecove_webhook
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
        cls.partner_be._ar_peppol_lookup(force=True)  # before sending, as the lookup cron does

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
            for name in os.listdir(self.rules_dir):
                archive.write(os.path.join(self.rules_dir, name), f"rules/{name}")
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
        # the three taken before the crash get Storecove's documented 422 for a re-used
        # idempotencyGuid: "already accepted", never "error"
        self.assertEqual(set(moves.mapped("ar_peppol_state")), {"sent"})
        posts = [r for r in self.ap.requests if r == ("POST", "/document_submissions")]
        self.assertEqual(len(posts), 8, "the three documents of the crashed run were offered again")
        transmitted = [key for key, _body in self.ap.transmissions]
        self.assertEqual(sorted(transmitted), sorted(keys), "each invoice transmitted exactly once")
        replayed = moves.filtered(lambda m: not m.ar_peppol_message_id)
        self.assertEqual(len(replayed), 3)
        self.assertIn("already accepted", replayed[0].message_ids[:1].body)
        # their guid comes back with Storecove's next webhook, matched on the idempotencyGuid
        guids = {key: guid for guid, key in ((v, k) for k, v in self.ap.by_key.items())}
        for move in replayed:
            key = move.ar_peppol_idempotency_key
            events = self.storecove._parse_webhook({}, storecove_webhook(guids[key], "succeeded", key))
            found = self.env["account.move"]._ar_peppol_find_by_message(self.storecove, (), (key,))
            self.assertEqual(found, move)
            move._ar_peppol_apply_event(events[0])
        self.assertEqual(len(set(moves.mapped("ar_peppol_message_id"))), 5)
        self.assertEqual(set(replayed.mapped("ar_peppol_state")), {"delivered"})
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
        move._ar_peppol_apply_event({"response_code": "UQ", "reason": "Which PO?"})  # replayed
        self.assertEqual(len(move.activity_ids), 1, "a replayed response adds nothing")
        move._ar_peppol_apply_event({"response_code": "RE", "reason": "Wrong VAT rate"})
        self.assertEqual(move.ar_peppol_state, "rejected")
        self.assertIn("Wrong VAT rate", " ".join(move.activity_ids.mapped("note")))
        # final answers never overwrite each other; a late "failed" changes nothing
        move._ar_peppol_apply_event({"response_code": "AP"})
        move._ar_peppol_apply_event({"state": "failed", "answer": "late"})
        self.assertEqual((move.ar_peppol_state, move.ar_peppol_response_code), ("rejected", "RE"))
        self.assertIn("ignored", move.message_ids[:1].body)

        other = self._invoice(self.partner_be, [{}])
        other.write({"ar_peppol_state": "sent", "ar_peppol_message_id": "m-2"})
        # conditionally accepted is not final: an activity with the buyer's conditions
        other._ar_peppol_apply_event({"response_code": "CA", "reason": "ok if delivered by Friday"})
        self.assertEqual(other.ar_peppol_state, "delivered")
        self.assertIn("Friday", other.activity_ids.note)
        # paid only after accepted
        other._ar_peppol_apply_event({"response_code": "PD"})
        self.assertEqual(other.ar_peppol_state, "delivered")
        other._ar_peppol_apply_event({"response_code": "AP"})
        self.assertEqual(other.ar_peppol_state, "accepted")
        other._ar_peppol_apply_event({"response_code": "PD"})
        self.assertEqual(other.ar_peppol_state, "paid")
        self.assertIn("PD", other.message_ids[:1].body)
        for late in ({"state": "failed"}, {"response_code": "RE"}, {"response_code": "AB"}, {"state": "delivered"}):
            other._ar_peppol_apply_event(late)
            self.assertEqual(other.ar_peppol_state, "paid", late)

    def test_webhook_payloads_as_documented(self):
        # Storecove: WebhookInstance {guid, body: "<event JSON>"}, no signature (URL token)
        events = self.storecove._parse_webhook({}, storecove_webhook("guid-7", "succeeded", instance="inst-1"))
        self.assertEqual(
            (events[0]["message_id"], events[0]["state"], events[0]["event_id"]), ("guid-7", "delivered", "inst-1")
        )
        self.assertEqual(self.storecove._parse_webhook({}, storecove_webhook("guid-7", "failed"))[0]["state"], "failed")
        with self.assertRaises(PeppolConnectorError):
            self.storecove._parse_webhook({}, b"not json")
        # Billit: Message webhook, EntityDetail + MessageAdditionalInformation.EInvoiceFlowState
        billit = self.env["ar.peppol.connector"].create(
            {"name": "Billit", "provider": "billit", "base_url": self.ap.url, "webhook_secret": "b-secret"}
        )
        body, headers = billit_webhook(1001, "Refused", "No Valid VAT")
        [event] = billit._parse_webhook(headers, body)
        self.assertEqual((event["message_id"], event["response_code"], event["reason"]), ("1001", "RE", "No Valid VAT"))
        body, headers = billit_webhook(1001, "Delivered")
        self.assertEqual(billit._parse_webhook(headers, body)[0]["state"], "delivered")
        body, headers = billit_webhook(1001, "Accepted")
        self.assertEqual(billit._parse_webhook(headers, body)[0]["response_code"], "AP")
        # nested as EntityDetail.OrderMessage: read the same way
        nested = json.dumps(
            {
                "UpdatedEntityType": "Message",
                "EntityDetail": {
                    "OrderMessage": {
                        "OrderID": 1002,
                        "MessageAdditionalInformation": {"EInvoiceFlowState": "Accepted"},
                    }
                },
            }
        ).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(b"b-secret", stamp.encode() + b"." + nested, hashlib.sha256).hexdigest()
        [event] = billit._parse_webhook({"Billit-Signature": f"t={stamp},s={signature}"}, nested)
        self.assertEqual((event["message_id"], event["response_code"]), ("1002", "AP"))
        # forged, old, wrong secret or malformed header: refused as unauthenticated
        for headers in (
            {"Billit-Signature": f"t={stamp},s={'0' * 64}"},
            billit_webhook(1001, "Accepted", stamp=int(time.time()) - 3600)[1],
            billit_webhook(1001, "Accepted", secret=b"other")[1],
            {"Billit-Signature": "garbage"},
            {"Billit-Signature": "t=abc,s=def"},
            {},
        ):
            with self.subTest(headers=headers), self.assertRaises(PeppolConnectorError) as caught:
                billit._parse_webhook(headers, billit_webhook(1001, "Accepted")[0])
            self.assertEqual(caught.exception.kind, "auth")

    def test_transmission_rechecks_validation(self):
        move = self._invoice(self.partner_be, [{}])
        tampered = move._ar_peppol_export()[0].replace(b"urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", b"urn:x")
        move.ubl_cii_xml_file = base64.b64encode(tampered)
        move._ar_peppol_queue(self.storecove)
        before = len(self.ap.requests)
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "invalid")
        self.assertEqual(len(self.ap.requests), before, "nothing reached the access point")
        self.assertIn("no longer passes", move.activity_ids.note)

    def test_sandbox_stays_labelled(self):
        move = self._invoice(self.partner_be, [{}])
        move.ubl_cii_xml_file = base64.b64encode(move._ar_peppol_export()[0])
        move._ar_peppol_queue(self.sandbox)
        self.env["account.move"]._cron_ar_peppol_transmit()
        self.assertEqual(move.ar_peppol_state, "sent")
        self.assertIn("SANDBOX", move.message_ids[:1].body)
        self.assertIn("SANDBOX", dict(self.sandbox._fields["provider"].selection)["sandbox"])


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
            for name in os.listdir(cls.rules_dir):
                archive.write(os.path.join(cls.rules_dir, name), f"peppol-bis-3/xslt/{name}")
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
        self.assertFalse(self.company.ar_peppol_rules_path)
        self.company.ar_peppol_rules_url = f"{self.rules_url}/rules.zip"
        action = settings.action_ar_peppol_fetch_rules()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(self.company.ar_peppol_rules_path.endswith(".zip"))
        self.addCleanup(os.unlink, self.company.ar_peppol_rules_path)
        move = self._invoice(self.partner_be, [{}])
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "ready")
