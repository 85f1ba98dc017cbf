"""Shared set-up of the sending tests: customers with each channel and a local cXML network."""

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CxmlNetworkHandler(BaseHTTPRequestHandler):
    """Behaves like an Ariba/Coupa-type network: checks the cXML and the shared secret, then
    answers by path: /ok 200, /reject 400 with a reason, /down 500, /slow never in time,
    /flaky 503 once then 200. Duplicate payloadIDs are acknowledged without a new document."""

    server_version = "FakeCxmlNetwork/1.0"

    def log_message(self, *args):
        pass

    def _answer(self, http_status, code, text, detail=""):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<cXML payloadID="ack@network" timestamp="2026-01-01T00:00:00+00:00"><Response>'
            f'<Status code="{code}" text="{text}">{detail}</Status></Response></cXML>'
        ).encode()
        self.send_response(http_status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # /slow: the client gave up (time-out), as intended
            self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/slow":
            time.sleep(10.5)  # Odoo raises request time-outs to 10 s during tests
        self._answer(*self._decide(raw))

    def _decide(self, raw):
        """(HTTP status, cXML status code, text, detail) of the answer to ``raw``."""
        server = self.server
        try:
            root = etree.fromstring(raw)
        except etree.XMLSyntaxError:
            return 400, 400, "Bad Request", "Not XML"
        payload_id = root.get("payloadID")
        server.requests.append((self.path, payload_id, raw))
        secret = root.findtext("./Header/Sender/Credential/SharedSecret")
        if root.tag != "cXML" or root.find("./Request/InvoiceDetailRequest") is None:
            answer = 400, 400, "Bad Request", "No InvoiceDetailRequest"
        elif secret != server.secret:
            answer = 401, 401, "Unauthorized", "Invalid shared secret"
        elif self.path == "/reject":
            answer = 200, 400, "Bad Request", "Unknown purchase order"
        elif self.path == "/down":
            answer = 500, 500, "Internal Server Error", ""
        elif self.path == "/flaky" and not server.flaky_count:
            server.flaky_count += 1
            answer = 503, 503, "Service Unavailable", ""
        elif payload_id in server.documents:
            answer = 200, 200, "OK", "Duplicate payloadID"
        else:
            server.documents[payload_id] = raw
            answer = 200, 200, "OK", ""
        return answer


class SendingCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), CxmlNetworkHandler)
        cls.server.secret = "s3cr3t"
        cls.server.requests = []
        cls.server.documents = {}
        cls.server.flaky_count = 0
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.base_url = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.env["ir.config_parameter"].set_param("ar_customer_centric.cxml_timeout", "1")

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
        self.server.flaky_count = 0

    @classmethod
    def _set_cxml(cls, partner, path, secret=None, **extra):
        partner.write(
            {
                "ar_cxml_endpoint": f"{cls.base_url}{path}",
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
