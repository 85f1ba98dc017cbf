import logging
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import HttpCase, tagged

from ..tools import cxml
from . import cxml_golden
from .sending_common import SendingCommon, dtd_errors

SAMPLES = Path(__file__).parent / "cxml_samples"


def _canonical(document):
    parser = etree.XMLParser(load_dtd=False, no_network=True, remove_blank_text=True)
    return etree.tostring(etree.fromstring(document, parser=parser), method="c14n")


class CxmlCommon(SendingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uom_hour = cls.env.ref("uom.product_uom_hour")
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")

    def _cxml_invoice(self, path, network="generic", lines=None, move_type="out_invoice", **move_vals):
        self._set_cxml(self.cxml_customer, path, ar_cxml_network=network)
        self.server.network = network
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": self.cxml_customer.id,
                "invoice_date": fields.Date.today(),
                # the test company's generic chart would map the tax to "0% Exports" for a Belgian buyer
                "fiscal_position_id": False,
                "invoice_line_ids": [
                    Command.create(line)
                    for line in (lines or [{"product_id": self.product_a.id, "quantity": 2, "price_unit": 125.0}])
                ],
                **move_vals,
            }
        )
        move.action_post()
        return move

    def _document(self, move, payload="P1@test"):
        body = cxml.build_invoice_detail_request(move._ar_cxml_prepare_vals(payload))
        self.assertEqual(dtd_errors(self.dtds, body), "", "valid against the cXML DTD")
        return etree.fromstring(body, parser=etree.XMLParser(load_dtd=False, no_network=True))

    def _posted(self, path=None):
        return [r for r in self.server.requests if path is None or r[0] == path]


@tagged("post_install", "-at_install")
class TestCxml(CxmlCommon):
    # ------------------------------------------------------------------
    # DOCUMENT
    # ------------------------------------------------------------------

    def test_document_content(self):
        move = self._cxml_invoice("/ok", ar_buyer_po="PO-4711")
        root = self._document(move)
        self.assertEqual(root.get("payloadID"), "P1@test")
        self.assertEqual(root.get("version"), "1.2.037")
        self.assertEqual(root.findtext("./Header/From/Credential/Identity"), "SUPPLIER-01")
        self.assertEqual(root.findtext("./Header/Sender/Credential/SharedSecret"), "s3cr3t")
        header = root.find("./Request/InvoiceDetailRequest/InvoiceDetailRequestHeader")
        self.assertEqual(header.get("invoiceID"), move.name)
        self.assertEqual(header.get("purpose"), "standard")
        self.assertEqual([c.get("role") for c in header.findall("./InvoicePartner/Contact")], ["remitTo", "billTo"])
        order = root.find("./Request/InvoiceDetailRequest/InvoiceDetailOrder")
        self.assertEqual(order.find("./InvoiceDetailOrderInfo/OrderIDInfo").get("orderID"), "PO-4711")
        item = order.find("./InvoiceDetailItem")
        self.assertEqual(item.get("quantity"), "2")
        self.assertEqual(item.findtext("./UnitOfMeasure"), "C62", "UN/CEFACT code, not Odoo's unit name")
        self.assertEqual(item.findtext("./UnitPrice/Money"), "125.00")
        self.assertEqual(item.findtext("./SubtotalAmount/Money"), "250.00")
        detail = item.find("./Tax/TaxDetail")
        self.assertEqual((detail.get("category"), detail.get("percentageRate")), ("vat", "15"))
        self.assertEqual(detail.findtext("./TaxAmount/Money"), "37.50")
        self.assertTrue(detail.get("taxPointDate").startswith(fields.Date.today().isoformat()))
        summary = root.find("./Request/InvoiceDetailRequest/InvoiceDetailSummary")
        self.assertEqual(summary.findtext("./Tax/Money"), "37.50")
        self.assertEqual(summary.findtext("./Tax/TaxDetail/TaxableAmount/Money"), "250.00")
        self.assertEqual(summary.findtext("./DueAmount/Money"), "287.50")

    def test_golden_samples(self):
        for name, vals in cxml_golden.samples().items():
            with self.subTest(sample=name):
                body = cxml.build_invoice_detail_request(vals)
                expected = (SAMPLES / name).read_bytes()
                self.assertEqual(cxml.check_totals(vals), [], "the lines add up to the summary")
                self.assertEqual(dtd_errors(self.dtds, expected), "", "the golden sample is DTD-valid")
                self.assertEqual(_canonical(body), _canonical(expected))

    def test_no_po_generic_never_empty_order_id(self):
        move = self._cxml_invoice("/ok")
        info = self._document(move).find(".//InvoiceDetailOrderInfo")
        self.assertIsNone(info.find("./OrderReference"))
        self.assertEqual(info.find("./SupplierOrderInfo").get("orderID"), move.name)

    def test_units_discount_and_taxes(self):
        tax_21 = self.env["account.tax"].create({"name": "VAT 21%", "amount": 21, "ubl_cii_tax_category_code": "S"})
        tax_0 = self.env["account.tax"].create({"name": "VAT 0% IC", "amount": 0, "ubl_cii_tax_category_code": "K"})
        lines = [
            {
                "name": "Consulting",
                "quantity": 3,
                "price_unit": 100.0,
                "discount": 10,
                "tax_ids": [Command.set(tax_21.ids)],
                "product_uom_id": self.uom_hour.id,
            },
            {"name": "Parts", "quantity": 1, "price_unit": 50.0, "tax_ids": [Command.set(tax_0.ids)]},
        ]
        move = self._cxml_invoice("/ok", lines=lines)
        self.assertIn("states no reason", "\n".join(move._ar_cxml_problems()), "art. 226 (11): reason required")
        tax_0.ubl_cii_tax_exemption_reason_code = "VATEX-EU-IC"
        self.assertEqual(move._ar_cxml_problems(), [])
        root = self._document(move)
        first, second = root.findall(".//InvoiceDetailItem")
        self.assertEqual(first.findtext("./UnitOfMeasure"), "HUR")
        self.assertEqual(first.findtext("./UnitPrice/Money"), "90.00", "unit price after the 10% discount")
        self.assertEqual(first.findtext("./SubtotalAmount/Money"), "270.00")
        self.assertEqual(first.findtext("./Tax/TaxDetail/TaxAmount/Money"), "56.70")
        exempt = second.find("./Tax/TaxDetail")
        self.assertEqual(exempt.get("exemptDetail"), "exempt")
        self.assertEqual(exempt.find("./TaxExemption").get("exemptCode"), "VATEX-EU-IC")
        self.assertIn("Intra-Community supply", exempt.findtext("./Description"))
        details = root.findall("./Request/InvoiceDetailRequest/InvoiceDetailSummary/Tax/TaxDetail")
        self.assertEqual(
            [
                (d.get("percentageRate"), d.findtext("./TaxableAmount/Money"), d.findtext("./TaxAmount/Money"))
                for d in details
            ],
            [("21", "270.00", "56.70"), ("0", "50.00", "0.00")],
            "one summary TaxDetail per rate",
        )

    def test_checked_before_sending(self):
        custom_uom = self.env["uom.uom"].create(
            {"name": "Pallet of 7", "relative_factor": 7, "relative_uom_id": self.uom_unit.id}
        )
        tax_0 = self.env["account.tax"].create({"name": "Zero", "amount": 0})
        move = self._cxml_invoice(
            "/ok",
            lines=[
                {
                    "name": "Pallet",
                    "quantity": 1,
                    "price_unit": 70.0,
                    "product_uom_id": custom_uom.id,
                    "tax_ids": [Command.set(tax_0.ids)],
                }
            ],
        )
        problems = "\n".join(move._ar_cxml_problems())
        self.assertIn("Pallet of 7 has no UN/CEFACT code", problems)
        self.assertIn("has no Tax Category Code", problems)
        self._send(move, allow_raising=False)
        self.assertEqual(move.ar_delivery_state, "failed")
        self.assertFalse(self._posted(), "refused before sending: nothing half-sent")

    # ------------------------------------------------------------------
    # NETWORK VARIANTS
    # ------------------------------------------------------------------

    def test_ariba_requires_references(self):
        move = self._cxml_invoice("/ok", network="ariba")
        with self.assertRaisesRegex(UserError, "requires the Buyer's PO Number"):
            self._send(move)
        self.assertFalse(self._posted())
        move.ar_buyer_po = "4500012345"
        problems = "\n".join(move._ar_cxml_problems())
        self.assertIn("PO Line of every invoice line (missing on line 1)", problems)
        self.assertIn("Supplier Part Number", problems)
        move.button_draft()
        move.invoice_line_ids.write({"ar_buyer_po_line": 10, "ar_supplier_part": "SKU-A"})
        move.action_post()
        self._send(move)
        self.assertEqual(move.ar_delivery_state, "sent")
        root = etree.fromstring(self._posted("/ok")[-1][2], parser=etree.XMLParser(load_dtd=False))
        self.assertEqual(root.find(".//InvoiceDetailOrderInfo/OrderIDInfo").get("orderID"), "4500012345")
        reference = root.find(".//InvoiceDetailItemReference")
        self.assertEqual(reference.get("lineNumber"), "10")
        self.assertEqual(reference.findtext("./ItemID/SupplierPartID"), "SKU-A")

    def test_supplier_part_from_product(self):
        self.product_a.default_code = "PROD-A"
        move = self._cxml_invoice("/ok")
        self.assertEqual(move.invoice_line_ids.ar_supplier_part, "PROD-A")

    def test_coupa_po_contract_and_credit_memo(self):
        move = self._cxml_invoice("/ok", network="coupa", ar_buyer_contract="2257")
        root = self._document(move)
        self.assertEqual(root.get("version"), "1.2.020")
        self.assertEqual(root.find(".//MasterAgreementReference/DocumentReference").get("payloadID"), "2257")
        move.button_draft()
        move.write({"ar_buyer_po": "PO-77"})
        move.invoice_line_ids.ar_buyer_po_line = 1
        move.action_post()
        order_ref = self._document(move).find(".//InvoiceDetailOrderInfo/OrderReference")
        self.assertEqual(order_ref.get("orderID"), "PO-77")
        self.assertEqual(order_ref.find("./DocumentReference").get("payloadID"), "PO-77")
        refund = move._reverse_moves(cancel=False)
        refund.action_post()
        root = self._document(refund)
        header = root.find(".//InvoiceDetailRequestHeader")
        self.assertEqual(header.get("purpose"), "creditMemo")
        self.assertEqual(header.find("./InvoiceIDInfo").get("invoiceID"), move.name, "the original invoice")
        item = root.find(".//InvoiceDetailItem")
        self.assertEqual(item.get("quantity"), "2", "Coupa: positive quantity and price on a credit memo")
        self.assertEqual(root.findtext(".//InvoiceDetailSummary/DueAmount/Money"), "287.50")
        orphan = self._cxml_invoice("/ok", network="coupa", move_type="out_refund", ar_buyer_po="PO-77")
        self.assertIn("needs the invoice this credit note corrects", "\n".join(orphan._ar_cxml_problems()))

    def test_ariba_line_level_credit_memo(self):
        move = self._cxml_invoice("/ok", network="ariba", ar_buyer_po="PO-1")
        refund = move._reverse_moves(cancel=False)
        refund.action_post()
        root = self._document(refund)
        self.assertEqual(root.find(".//InvoiceDetailRequestHeader").get("purpose"), "lineLevelCreditMemo")
        item = root.find(".//InvoiceDetailItem")
        self.assertEqual(item.get("quantity"), "-2")
        self.assertEqual(item.findtext("./SubtotalAmount/Money"), "-250.00")
        self.assertEqual(root.findtext(".//InvoiceDetailSummary/DueAmount/Money"), "-287.50")
        self.assertEqual(root.find(".//InvoiceIDInfo").get("invoiceID"), move.name)

    # ------------------------------------------------------------------
    # ACCEPTANCE, NOT TRANSPORT
    # ------------------------------------------------------------------

    def test_status_mapping(self):
        c = cxml.classify
        self.assertEqual(c("ariba", 200, 200), cxml.DELIVERED)
        self.assertEqual(c("ariba", 200, 201), cxml.PENDING)
        self.assertEqual(c("ariba", 200, None), cxml.TRANSIENT, "HTTP 200 without a cXML Status is no acceptance")
        self.assertEqual(c("ariba", 200, 204), cxml.REJECTED)
        self.assertEqual(c("ariba", 200, 400), cxml.REJECTED, "cXML status wins over HTTP 200")
        self.assertEqual(c("ariba", 500, 500), cxml.TRANSIENT)
        self.assertEqual(c("coupa", 500, 500), cxml.REJECTED, "Coupa: 500 is a validation error, final")
        self.assertEqual(c("coupa", 503, 503), cxml.TRANSIENT)
        self.assertEqual(c("generic", 302, None), cxml.REJECTED)
        self.assertEqual(c("generic", None, None), cxml.TRANSIENT)
        dup = "INVOICE_DUPLICATE: An invoice with the same ID has already been received."
        self.assertEqual(c("ariba", 200, 406, dup, after_timeout=True), cxml.CHECK)
        self.assertEqual(c("ariba", 200, 406, dup), cxml.REJECTED)
        self.assertEqual(c("coupa", 417, 417, "invoice number has already been used", after_timeout=True), cxml.CHECK)
        self.assertEqual([cxml.backoff_minutes(n) for n in (1, 2, 3)], [5, 15, 45])
        self.assertEqual(cxml.parse_status(b"not xml"), (None, "", ""))
        self.assertEqual(cxml.parse_status(b"<html><body>OK</body></html>"), (None, "", ""))

    def test_200_delivered_once_with_pdf(self):
        move = self._cxml_invoice("/ok")
        self._send(move)
        log = self._logs(move, "ar_cxml")
        self.assertRecordValues(log, [{"state": "sent", "response_code": "200", "attempt_count": 1}])
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertEqual(log.payload_id, move.ar_cxml_payload_id)
        _path, _payload, document, parts = self._posted("/ok")[0]
        self.assertFalse(self.server.dtd_errors)
        cid = etree.fromstring(document, parser=etree.XMLParser(load_dtd=False)).findtext(".//Comments/Attachment/URL")
        self.assertTrue(cid.startswith("cid:"))
        pdf = parts[f"<{cid[4:]}>"]
        self.assertEqual(pdf.get_content_type(), "application/pdf")
        self.assertEqual(pdf.get_payload(decode=True), move.invoice_pdf_report_id.raw, "the invoice's own PDF")
        move.action_ar_resend()  # even an explicit resend never posts the same invoice twice
        self.assertEqual(len(self._posted()), 1)

    def test_html_or_empty_200_is_not_delivered(self):
        for path in ("/html", "/empty"):
            move = self._cxml_invoice(path)
            self._send(move)
            self.assertEqual(move.ar_delivery_state, "retry", path)
            self.assertIn("no cXML Status", self._logs(move, "ar_cxml").message)

    def test_rejected_then_corrected_gets_new_payload(self):
        move = self._cxml_invoice("/reject")
        with self.assertRaisesRegex(UserError, "Unknown purchase order"):
            self._send(move)
        self._send(move, allow_raising=False)
        logs = self._logs(move, "ar_cxml")
        self.assertEqual(set(logs.mapped("state")), {"failed"})
        self.assertEqual(logs[-1].response_code, "400")
        self.assertFalse(move.is_move_sent)
        first = move.ar_cxml_payload_id
        move.button_draft()
        self.assertFalse(move.ar_cxml_payload_id)
        move.ar_buyer_po = "PO-CORRECTED"
        move.action_post()
        self._set_cxml(self.cxml_customer, "/ok")
        self._send(move)
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertNotEqual(move.ar_cxml_payload_id, first, "a corrected invoice is a new cXML document")

    def test_coupa_validation_500_is_final(self):
        move = self._cxml_invoice("/coupa-invalid", network="coupa", ar_buyer_contract="C-1")
        self._send(move, allow_raising=False)
        log = self._logs(move, "ar_cxml")
        self.assertRecordValues(log, [{"state": "failed", "response_code": "500", "next_attempt": False}])
        self.assertIn("Unexpected server error", log.message)

    def test_refused_credentials(self):
        move = self._cxml_invoice("/ok")
        self.cxml_customer.ar_cxml_shared_secret = "wrong"
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
            self.assertGreater(log.next_attempt, fields.Datetime.now() + timedelta(minutes=4))
            self.assertEqual(log.response_code, "500" if path == "/down" else "timeout")

    def test_duplicate_after_timeout_is_check_manually(self):
        line = {
            "product_id": self.product_a.id,
            "quantity": 2,
            "price_unit": 125.0,
            "ar_buyer_po_line": 1,
            "ar_supplier_part": "SKU",
        }
        move = self._cxml_invoice("/slowdup", network="ariba", ar_buyer_po="PO-9", lines=[line])
        self._send(move)
        first = self._logs(move, "ar_cxml")
        self.assertEqual((first.state, first.response_code), ("retry", "timeout"))
        first.next_attempt = fields.Datetime.now() - timedelta(minutes=1)
        # the network kept the first attempt and answers the retry INVOICE_DUPLICATE
        self.env["account.move"]._ar_retry_cxml()
        last = self._logs(move, "ar_cxml")[-1]
        self.assertEqual((last.state, last.response_code), ("check", "406"))
        self.assertEqual(move.ar_delivery_state, "check")
        self.assertIn("Check the invoice on the buyer's network", last.message)
        self.assertEqual([r[1] for r in self._posted()], [first.payload_id] * 2, "same payloadID")

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
        self.assertEqual(logs.mapped("state"), ["failed", "sent"])
        self.assertEqual(logs[1].attempt_count, 2)
        payloads = [r[1] for r in self._posted("/flaky")]
        self.assertEqual(payloads, [first.payload_id, first.payload_id], "same payloadID on retry")

    # ------------------------------------------------------------------
    # SAFE TRANSPORT
    # ------------------------------------------------------------------

    def test_endpoint_rules_on_save(self):
        base = {
            "name": "Buyer X",
            "is_company": True,
            "invoice_sending_method": "ar_cxml",
            "ar_cxml_from_identity": "A",
            "ar_cxml_to_identity": "B",
            "ar_cxml_sender_identity": "A",
            "ar_cxml_shared_secret": "x",
        }
        Partner = self.env["res.partner"]
        with self.assertRaisesRegex(ValidationError, "must start with https://"):
            Partner.create(dict(base, ar_cxml_endpoint="http://network.example/cxml"))
        with self.assertRaisesRegex(ValidationError, "user name or password"):
            Partner.create(dict(base, ar_cxml_endpoint="https://user:pw@network.example/cxml"))
        with self.assertRaisesRegex(ValidationError, "Shared Secret is required"):
            Partner.create(dict(base, ar_cxml_endpoint="https://network.example/cxml", ar_cxml_shared_secret=False))
        self.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", False)
        for url in (
            "https://127.0.0.1/cxml",
            "https://10.1.2.3/cxml",
            "https://[::1]/x",
            "https://localhost/x",
            "https://169.254.169.254/latest",
        ):
            with self.assertRaisesRegex(ValidationError, "internal address"):
                Partner.create(dict(base, ar_cxml_endpoint=url))
        self.assertEqual(cxml.endpoint_problem("https://network.example/cxml"), None)

    def test_plain_http_only_to_loopback(self):
        """http is accepted for a loopback endpoint only (RFC 8252's loopback exception), and then
        still only with the administrator's consent to internal addresses; any other host needs https."""
        self.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", "1")
        for url in (
            "http://127.0.0.1:8025/cxml/inbound",
            "http://127.3.4.5/x",
            "http://[::1]:8025/x",
            "http://localhost/x",
        ):
            self.assertIsNone(cxml.endpoint_problem(url, allow_internal=True), url)
            self.assertIsNone(cxml.endpoint_problem(url, allow_internal=True, resolve=True), url)
        for url in (
            "http://network.example/cxml",
            "http://10.1.2.3/cxml",
            "http://192.168.1.10/cxml",
            "http://127.0.0.1.nip.io/cxml",
            "http://localhost.network.example/cxml",
            "http://[::ffff:10.0.0.1]/x",
            "ftp://127.0.0.1/x",
        ):
            self.assertEqual(cxml.endpoint_problem(url, allow_internal=True), "scheme", url)
        self.assertEqual(cxml.endpoint_problem("http://127.0.0.1/x"), "internal", "loopback is internal")
        self.assertEqual(cxml.endpoint_problem("http://user:pw@127.0.0.1/x", allow_internal=True), "userinfo")
        base = {
            "name": "Local AP NV",
            "is_company": True,
            "invoice_sending_method": "ar_cxml",
            "ar_cxml_from_identity": "A",
            "ar_cxml_to_identity": "B",
            "ar_cxml_sender_identity": "A",
            "ar_cxml_shared_secret": "x",
        }
        Partner = self.env["res.partner"]
        Partner.create(dict(base, ar_cxml_endpoint="http://127.0.0.1:8025/cxml/inbound"))
        for url in ("http://network.example/cxml", "http://10.1.2.3/cxml"):
            with self.assertRaisesRegex(ValidationError, "must start with https://"):
                Partner.create(dict(base, ar_cxml_endpoint=url))
        self.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", False)
        with self.assertRaisesRegex(ValidationError, "internal address"):
            Partner.create(dict(base, ar_cxml_endpoint="http://127.0.0.1:8025/cxml/inbound"))

    def test_delivered_over_http_to_loopback(self):
        """A local AP endpoint served over plain http on 127.0.0.1 (as the demo's) receives the invoice."""
        # the fake network of SendingCommon, served without TLS
        plain = ThreadingHTTPServer(("127.0.0.1", 0), self.server.RequestHandlerClass)
        for attr in ("dtds", "secret", "requests", "documents", "invoice_ids", "dtd_errors", "flaky_count", "network"):
            setattr(plain, attr, getattr(self.server, attr))
        threading.Thread(target=plain.serve_forever, daemon=True).start()
        self.addCleanup(plain.server_close)
        self.addCleanup(plain.shutdown)
        move = self._cxml_invoice("/ok")
        self.cxml_customer.ar_cxml_endpoint = f"http://127.0.0.1:{plain.server_address[1]}/ok"
        self._send(move)
        log = self._logs(move, "ar_cxml")
        self.assertRecordValues(log, [{"state": "sent", "response_code": "200"}])
        self.assertEqual(log.destination, self.cxml_customer.ar_cxml_endpoint)
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertEqual(len(self._posted("/ok")), 1, "the document reached the loopback endpoint")

    def test_internal_address_refused_at_sending(self):
        move = self._cxml_invoice("/ok")
        self.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", False)
        self.assertIn("internal address", "\n".join(self.cxml_customer._ar_delivery_problems("ar_cxml")))
        self._send(move, allow_raising=False)
        self.assertNotEqual(move.ar_delivery_state, "sent")
        self.assertFalse(self._posted())

    def test_redirect_not_followed(self):
        move = self._cxml_invoice("/redirect")
        self._send(move, allow_raising=False)
        log = self._logs(move, "ar_cxml")
        self.assertEqual((log.state, log.response_code), ("failed", "302"))
        self.assertIn("redirects are not followed", log.message)
        self.assertFalse(self._posted("/ok"), "the document never followed the redirect")

    def test_secret_never_logged(self):
        for path in ("/reject", "/down", "/redirect"):
            move = self._cxml_invoice(path)
            with self.assertLogs("odoo", level="DEBUG") as captured:
                self._send(move, allow_raising=False)
                logging.getLogger("odoo.addons.ar_customer_centric").debug("end of sending")
            texts = captured.output + move.ar_delivery_log_ids.mapped("message") + move.message_ids.mapped("body")
            self.assertFalse([t for t in texts if t and "s3cr3t" in t], path)

    def test_neutralized_copy_never_posts(self):
        move = self._cxml_invoice("/down")
        self._send(move)
        retry = self._logs(move, "ar_cxml")
        self.assertEqual(retry.state, "retry")
        for query in get_neutralization_queries(["ar_customer_centric"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache("stable")  # a neutralized copy is started afresh
        self.assertEqual(retry.state, "failed", "pending automatic retries are closed")
        other = self._cxml_invoice("/ok")
        self._send(other, allow_raising=False)
        self.assertEqual(other.ar_delivery_state, "failed")
        self.assertIn("neutralized copy", self._logs(other, "ar_cxml").message)
        self.assertEqual(len(self._posted()), 1, "only the attempt before the neutralization")


def status_update_request(payload_id, code, text, detail=""):
    """A StatusUpdateRequest as the networks send it ([UG] "StatusUpdateRequest")."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<cXML payloadID="su.1@network" timestamp="2026-12-01T10:00:00+00:00"><Header>'
        '<From><Credential domain="NetworkID"><Identity>AN01</Identity></Credential></From>'
        '<To><Credential domain="NetworkID"><Identity>SUPPLIER-01</Identity></Credential></To>'
        '<Sender><Credential domain="NetworkID"><Identity>AN01</Identity></Credential>'
        "<UserAgent>Network</UserAgent></Sender></Header>"
        f'<Request><StatusUpdateRequest><DocumentReference payloadID="{payload_id}"/>'
        f'<Status code="{code}" text="{text}">{detail}</Status></StatusUpdateRequest></Request></cXML>'
    ).encode()


@tagged("post_install", "-at_install")
class TestCxmlStatusUpdate(CxmlCommon, HttpCase):
    def _post_update(self, url, body):
        response = self.url_open(url, data=body, headers={"Content-Type": "text/xml"})
        return response, cxml.parse_status(response.content)

    def test_201_pending_until_status_update(self):
        move = self._cxml_invoice("/accepted")
        self._send(move)
        log = self._logs(move, "ar_cxml")
        self.assertEqual((log.state, log.response_code), ("pending", "201"))
        self.assertEqual(move.ar_delivery_state, "pending", "accepted for processing is not delivered")
        move.action_ar_resend()
        self.assertEqual(len(self._posted()), 1, "a pending invoice is not posted again")
        url = self.cxml_customer.ar_cxml_status_url.replace(self.cxml_customer.get_base_url(), "")
        response, status = self._post_update(url + "x", status_update_request(log.payload_id, 200, "OK"))
        self.assertEqual(response.status_code, 403, "the signed URL is checked")
        self.assertEqual(move.ar_delivery_state, "pending")
        response, status = self._post_update(url, status_update_request("unknown@x", 200, "OK"))
        self.assertEqual(status[0], 400)
        response, status = self._post_update(url, status_update_request(log.payload_id, 200, "OK", "Approved"))
        self.assertEqual(status[:2], (200, "OK"))
        self.env.invalidate_all()
        self.assertEqual(move.ar_delivery_state, "sent")
        self.assertEqual(log.state, "sent")

    def test_status_update_rejection(self):
        move = self._cxml_invoice("/accepted")
        self._send(move)
        log = self._logs(move, "ar_cxml")
        url = self.cxml_customer.ar_cxml_status_url.replace(self.cxml_customer.get_base_url(), "")
        self._post_update(url, status_update_request(log.payload_id, 400, "Bad Request", "INV-13 obsolete order"))
        self.env.invalidate_all()
        self.assertEqual((log.state, move.ar_delivery_state), ("failed", "failed"))
        self.assertIn("INV-13", log.message)
