from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..tools import cxml
from .sending_common import SendingCommon


@tagged("post_install", "-at_install")
class TestCxml(SendingCommon):
    def _cxml_invoice(self, path, **extra):
        self._set_cxml(self.cxml_customer, path, **extra)
        return self._invoice(self.cxml_customer, amount=250.0, ref="PO-4711")

    def test_document_content(self):
        move = self._cxml_invoice("/ok")
        body = cxml.build_invoice_detail_request(move._ar_cxml_prepare_vals("P1@test"))
        self.assertIn(b"<!DOCTYPE cXML", body)
        root = etree.fromstring(body)
        self.assertEqual(root.get("payloadID"), "P1@test")
        self.assertEqual(root.findtext("./Header/From/Credential/Identity"), "SUPPLIER-01")
        self.assertEqual(root.findtext("./Header/To/Credential/Identity"), "BUYER-01")
        self.assertEqual(root.findtext("./Header/Sender/Credential/SharedSecret"), "s3cr3t")
        self.assertEqual(root.find("./Request").get("deploymentMode"), "production")
        header = root.find("./Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
        self.assertEqual(header.get("invoiceID"), move.name)
        self.assertEqual(header.get("purpose"), "standard")
        roles = [c.get("role") for c in header.findall("./InvoicePartner/Contact")]
        self.assertEqual(roles, ["remitTo", "billTo"])
        self.assertIsNotNone(header.find("./PaymentTerm"))
        order = root.find("./Request/InvoiceDetailRequest/InvoiceDetailOrder")
        self.assertEqual(order.find("./InvoiceDetailOrderInfo/OrderReference").get("orderID"), "PO-4711")
        items = order.findall("./InvoiceDetailItem")
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0].findtext("./SubtotalAmount/Money"), "250.00")
        self.assertIsNotNone(items[0].find("./Tax/TaxDetail"))
        summary = root.find("./Request/InvoiceDetailRequest/InvoiceDetailSummary")
        self.assertEqual(float(summary.findtext("./GrossAmount/Money")), move.amount_total)
        self.assertEqual(float(summary.findtext("./Tax/Money")), move.amount_tax)
        refund = self._invoice(self.cxml_customer, move_type="out_refund")
        refund_body = cxml.build_invoice_detail_request(refund._ar_cxml_prepare_vals("P2@test"))
        self.assertIn(b'purpose="creditMemo"', refund_body)

    def test_status_mapping(self):
        self.assertEqual(cxml.classify(200, 200), cxml.OK)
        self.assertEqual(cxml.classify(200, 201), cxml.OK)
        self.assertEqual(cxml.classify(200, 400), cxml.REJECTED, "cXML status wins over HTTP 200")
        self.assertEqual(cxml.classify(401, None), cxml.REJECTED)
        self.assertEqual(cxml.classify(500, 500), cxml.TRANSIENT)
        self.assertEqual(cxml.classify(None, None), cxml.TRANSIENT)
        self.assertEqual([cxml.backoff_minutes(n) for n in (1, 2, 3)], [5, 15, 45])
        self.assertEqual(cxml.parse_status(b"not xml"), (None, "", ""))

    def test_200_delivered_once(self):
        move = self._cxml_invoice("/ok")
        self._send(move)
        log = self._logs(move, "ar_cxml")
        self.assertRecordValues(log, [{"state": "sent", "response_code": "200", "attempt_count": 1}])
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertIn(log.payload_id, self.server.documents)
        move.action_ar_resend()  # even an explicit resend never posts the same invoice twice
        self.assertEqual(len([r for r in self.server.requests if r[1] == log.payload_id]), 1)
        self.assertEqual(move._ar_cxml_payload_id(), log.payload_id, "payloadID is stable per invoice")

    def test_4xx_rejected_with_reason(self):
        move = self._cxml_invoice("/reject")
        with self.assertRaisesRegex(UserError, "Unknown purchase order"):
            self._send(move)
        # batch/cron: the error lands on the invoice, nothing is marked sent
        self._send(move, allow_raising=False)
        logs = self._logs(move, "ar_cxml")
        self.assertEqual(set(logs.mapped("state")), {"failed"})
        self.assertEqual(logs[-1].response_code, "400")
        self.assertEqual(move.ar_delivery_state, "failed")
        self.assertFalse(move.is_move_sent)
        self.assertIn("Unknown purchase order", move.message_ids[0].body)

    def test_refused_credentials(self):
        move = self._cxml_invoice("/ok", ar_cxml_shared_secret="wrong")
        self._send(move, allow_raising=False)
        log = self._logs(move, "ar_cxml")
        self.assertEqual(log.state, "failed")
        self.assertIn("refused our credentials", log.message)

    def test_5xx_and_timeout_retry_with_backoff(self):
        for path in ("/down", "/slow"):
            move = self._cxml_invoice(path)
            self._send(move)
            log = self._logs(move, "ar_cxml")
            self.assertEqual(log.state, "retry", path)
            self.assertEqual(move.ar_delivery_state, "retry")
            self.assertGreater(log.next_attempt, fields.Datetime.now() + timedelta(minutes=4))
            self.assertEqual(log.response_code, "500" if path == "/down" else "timeout")

    def test_retry_cron_delivers_same_payload(self):
        move = self._cxml_invoice("/flaky")
        self._send(move)
        first = self._logs(move, "ar_cxml")
        self.assertEqual(first.state, "retry")
        self.env["account.move"]._ar_retry_cxml()
        self.assertEqual(len(self._logs(move, "ar_cxml")), 1, "not due yet: no new attempt")
        first.next_attempt = fields.Datetime.now() - timedelta(minutes=1)
        self.env["account.move"]._ar_retry_cxml()
        logs = self._logs(move, "ar_cxml")
        self.assertEqual(len(logs), 2)
        self.assertEqual(logs.mapped("state"), ["failed", "sent"])
        self.assertEqual(logs[1].attempt_count, 2)
        self.assertEqual(move.ar_delivery_state, "sent")
        payloads = [r[1] for r in self.server.requests if r[0] == "/flaky"]
        self.assertEqual(payloads, [first.payload_id, first.payload_id], "same payloadID on retry")
        self.env["account.move"]._ar_retry_cxml()
        self.assertEqual(len([r for r in self.server.requests if r[0] == "/flaky"]), 2)
