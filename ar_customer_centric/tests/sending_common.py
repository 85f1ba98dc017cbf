"""Shared set-up of the sending tests: customers with each channel and a local cXML network.

The local network answers over HTTPS (a certificate made for the test run) as SAP Ariba and Coupa
document their answers; the documents are cited next to each answer. Every document it receives
is validated against the real cXML InvoiceDetail DTD named by the AR_CXML_DTD setting.
"""

import contextlib
import datetime
import email.parser
import email.policy
import os
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest.mock import patch

from lxml import etree

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

DTD_VERSIONS = ("1.2.020", "1.2.037")


def load_dtds():
    """{version: lxml DTD} from the folder AR_CXML_DTD names; fails (never skips) without it."""
    folder = os.environ.get("AR_CXML_DTD")
    if not folder:
        raise AssertionError(
            "AR_CXML_DTD is not set: point it to the folder holding InvoiceDetail-1.2.020.dtd and "
            "InvoiceDetail-1.2.037.dtd (the cXML DTDs from cxml.org; CI sets it in .ci/run to its offline mirror)."
        )
    dtds = {}
    for version in DTD_VERSIONS:
        path = Path(folder) / f"InvoiceDetail-{version}.dtd"
        if not path.is_file():
            raise AssertionError(f"AR_CXML_DTD={folder} has no {path.name}: the cXML DTD mirror is incomplete.")
        dtds[version] = etree.DTD(str(path))
    return dtds


def dtd_errors(dtds, document):
    """'' when the cXML document is valid against the DTD of its own version, else the errors."""
    root = etree.fromstring(document, parser=etree.XMLParser(load_dtd=False, no_network=True))
    dtd = dtds.get(root.get("version"))
    if dtd is None:
        return f"no DTD for cXML version {root.get('version')}"
    if dtd.validate(root):
        return ""
    return "; ".join(f"line {e.line}: {e.message}" for e in dtd.error_log.filter_from_errors())


def make_certificate(folder):
    """Self-signed certificate for 127.0.0.1 (the test's own CA bundle): (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def split_multipart(content_type, body):
    """(cXML bytes, {Content-ID: part}) of a multipart/related request, or (body, {})."""
    if not content_type.startswith("multipart/related"):
        return body, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    start = message.get_param("start")
    parts = {part["Content-ID"]: part for part in message.iter_parts()}
    root = parts.pop(start)
    return root.get_payload(decode=True), parts


class CxmlNetworkHandler(BaseHTTPRequestHandler):
    """A procurement network. It validates the document against the cXML DTD and the shared
    secret, then answers by path:

    /ok 200; /accepted 201 (a StatusUpdateRequest follows, [ANSTATUS] KB0402515);
    /reject cXML 400 "Unknown purchase order"; /coupa-invalid HTTP 500 with cXML 500 "Unexpected
    server error." (Coupa's documented answer to a validation error); /down HTTP 500 without cXML;
    /slow answers after the client's time-out, /slowdup stores the document before timing out and
    then answers a repeat as a duplicate (Ariba: INVOICE_DUPLICATE, FAQ KB0394765; Coupa: 417
    "invoice number has already been used", "Invoice cXML Transmission Error Codes");
    /flaky 503 once then 200; /html an HTML page with HTTP 200; /empty an empty HTTP 200;
    /redirect a 302 to /ok. Invalid documents get 406 "Request did not validate successfully
    with DTD" as Coupa documents; a bad secret 401.
    """

    server_version = "FakeCxmlNetwork/1.0"

    def log_message(self, *args):
        pass

    def _send(self, http_status, body, content_type="text/xml", headers=()):
        self.send_response(http_status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.wfile.write(body)

    def _answer(self, http_status, code, text, detail=""):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<cXML payloadID="ack@network" timestamp="2026-12-01T00:00:00+00:00"><Response>'
            f'<Status code="{code}" text="{text}">{detail}</Status></Response></cXML>'
        ).encode()
        self._send(http_status, body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self._decide(raw)
        # answer after the client's time-out (Odoo raises request time-outs to 10 s during tests); the
        # request is recorded first, so that it counts in its own test, never in the next one's
        if self.path == "/slow" or (self.path == "/slowdup" and answer[0] == "stored"):
            time.sleep(10.5)
        if answer[0] == "raw":
            self._send(*answer[1:])
        elif answer[0] == "stored":
            self._answer(200, 200, "OK")
        else:
            self._answer(*answer)

    def _decide(self, raw):  # noqa: PLR0911, PLR0912 - one fake network, answers by path
        server = self.server
        if self.path == "/html":
            return "raw", 200, b"<html><body>Maintenance</body></html>", "text/html"
        if self.path == "/empty":
            return "raw", 200, b"", "text/xml"
        if self.path == "/redirect":
            return "raw", 302, b"", "text/html", [("Location", "/ok")]
        try:
            document, parts = split_multipart(self.headers.get("Content-Type") or "", raw)
            root = etree.fromstring(document, parser=etree.XMLParser(load_dtd=False, no_network=True))
        except (etree.XMLSyntaxError, KeyError, ValueError):
            return 406, 406, "Not Acceptable", "Could not parse cXML document"
        payload_id = root.get("payloadID")
        server.requests.append((self.path, payload_id, document, parts))
        if errors := dtd_errors(server.dtds, document):
            server.dtd_errors.append(errors)
            return 406, 406, "Not Acceptable", "Request did not validate successfully with DTD"
        secret = root.findtext("./Header/Sender/Credential/SharedSecret")
        invoice_id = root.find(".//InvoiceDetailRequestHeader").get("invoiceID")
        if secret != server.secret:
            return 401, 401, "Unauthorized", "Invalid shared secret"
        if self.path == "/reject":
            return 200, 400, "Bad Request", "Unknown purchase order"
        if self.path == "/coupa-invalid":
            return 500, 500, "Internal Server Error", "Unexpected server error."
        if self.path == "/down":
            return "raw", 500, b"Internal Server Error", "text/plain"
        if self.path == "/flaky" and not server.flaky_count:
            server.flaky_count += 1
            return 503, 503, "Service Unavailable", ""
        if self.path == "/slowdup" and invoice_id in server.invoice_ids:
            if server.network == "coupa":
                return (
                    417,
                    417,
                    "Expectation Failed",
                    "Invalid attributes in document. Invoice number has already been used",
                )
            return (
                200,
                406,
                "Not Acceptable",
                "INVOICE_DUPLICATE: An invoice with the same ID has already been received.",
            )
        if payload_id in server.documents:
            return 200, 200, "OK", "Duplicate payloadID"
        server.documents[payload_id] = document
        server.invoice_ids.add(invoice_id)
        if self.path == "/slowdup":
            return ("stored",)
        if self.path == "/accepted":
            return 201, 201, "Accepted", ""
        return 200, 200, "OK", ""


class SendingCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dtds = load_dtds()
        folder = tempfile.mkdtemp(prefix="ar_cxml_tls_")
        cert, key = make_certificate(folder)
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), CxmlNetworkHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        cls.server.socket = context.wrap_socket(cls.server.socket, server_side=True)
        cls.server.dtds = cls.dtds
        cls.server.secret = "s3cr3t"
        cls.server.requests = []
        cls.server.documents = {}
        cls.server.invoice_ids = set()
        cls.server.dtd_errors = []
        cls.server.flaky_count = 0
        cls.server.network = "generic"
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        # requests trusts the test's certificate through its documented environment setting
        env_patch = patch.dict(os.environ, {"REQUESTS_CA_BUNDLE": cert})
        env_patch.start()
        cls.addClassCleanup(env_patch.stop)
        cls.network_url = f"https://127.0.0.1:{cls.server.server_address[1]}"
        cls.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_timeout", "1")
        # the local network is on 127.0.0.1: allowed here as an administrator would allow it
        cls.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", "1")

        # the generic chart's 0% export tax as an accountant completes it for e-invoicing
        cls.env["account.tax"].search(
            [("company_id", "=", cls.company_data["company"].id), ("amount", "=", 0), ("type_tax_use", "=", "sale")]
        ).write({"ubl_cii_tax_category_code": "G", "ubl_cii_tax_exemption_reason_code": "VATEX-EU-G"})
        be = cls.env.ref("base.be")
        cls.company = cls.company_data["company"]
        cls.company.write({"email": "billing@supplier.example", "ar_structured_reference_type": "be"})
        # complete seller address: e-invoice validators (ar_peppol_edi) require it
        cls.company.partner_id.write({"street": "Kerkstraat 1", "city": "Gent", "zip": "9000"})
        Partner = cls.env["res.partner"]
        address = {"street": "Rue Neuve 1", "city": "Bruxelles", "zip": "1000", "country_id": be.id}
        cls.email_customer = Partner.create(
            {"name": "Mail Buyer", "is_company": True, "email": "ap@mailbuyer.example", **address}
        )
        cls.portal_customer = Partner.create(
            {
                "name": "Portal Buyer",
                "is_company": True,
                "email": "ap@portalbuyer.example",
                "invoice_sending_method": "ar_portal",
                **address,
            }
        )
        cls.letter_customer = Partner.create(
            {"name": "Letter Buyer", "is_company": True, "invoice_sending_method": "ar_letter", **address}
        )
        cls.cxml_customer = Partner.create(
            {
                "name": "Enterprise Buyer",
                "is_company": True,
                "email": "ap@enterprise.example",
                "ref": "PO-ENT",
                **address,
            }
        )
        cls._set_cxml(cls.cxml_customer, "/ok")

    def setUp(self):
        super().setUp()
        self.server.requests.clear()
        self.server.documents.clear()
        self.server.invoice_ids.clear()
        self.server.dtd_errors.clear()
        self.server.flaky_count = 0
        self.server.network = "generic"

    @classmethod
    def _set_cxml(cls, partner, path, secret=None, **extra):
        partner.write(
            {
                "ar_cxml_endpoint": f"{cls.network_url}{path}",
                "ar_cxml_from_identity": "SUPPLIER-01",
                "ar_cxml_to_identity": "BUYER-01",
                "ar_cxml_sender_identity": "SUPPLIER-01",
                "ar_cxml_shared_secret": secret or cls.server.secret,
                "invoice_sending_method": "ar_cxml",
                **extra,
            }
        )

    @classmethod
    def _invoice(cls, partner, amount=100.0, move_type="out_invoice", invoice_date=None, post=True, **kwargs):
        return cls._create_invoice_one_line(
            price_unit=amount,
            product_id=cls.product_a,
            partner_id=partner,
            move_type=move_type,
            invoice_date=invoice_date,
            post=post,
            **kwargs,
        )

    def _send(self, moves, **kwargs):
        return self.env["account.move.send"]._generate_and_send_invoices(moves, **kwargs)

    def _mails(self, move):
        return move.message_ids.filtered(lambda m: m.message_type == "comment")

    def _logs(self, move, channel=None):
        logs = move.ar_delivery_log_ids.sorted("id")
        return logs.filtered(lambda log: log.channel == channel) if channel else logs
