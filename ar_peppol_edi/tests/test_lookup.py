import base64
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_peppol_edi.tools.peppol_ids import (
    BIS3_INVOICE_DOCTYPE,
    BIS3_PROCESS,
    naptr_domain,
    smp_url_from_naptr,
)
from odoo.addons.ar_peppol_edi.tools.smp_lookup import lookup, resolve_smp_url

from .common import PeppolCommon

ORDER_DOCTYPE = "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order##urn:fdc:peppol.eu:poacc:trns:order:3::2.1"


class FakeSmp:
    """A local SMP: participants -> accepted document types (Peppol SMP 1.0 XML)."""

    def __init__(self, participants):
        self.participants = participants
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.hits += 1
                path = unquote(self.path).lstrip("/")
                pid, _sep, rest = path.partition("/services/")
                doctypes = outer.participants.get(pid.replace("iso6523-actorid-upis::", ""))
                if doctypes is None:
                    self.send_error(404)
                    return
                if not rest:
                    participant = quote("iso6523-actorid-upis::" + pid.split("::")[-1], safe="")
                    refs = "".join(
                        f'<ServiceMetadataReference href="{outer.url}/{participant}'
                        f'/services/{quote("busdox-docid-qns::" + d, safe="")}"/>'
                        for d in doctypes
                    )
                    body = (
                        '<ServiceGroup xmlns="http://busdox.org/serviceMetadata/publishing/1.0/">'
                        f"<ServiceMetadataReferenceCollection>{refs}</ServiceMetadataReferenceCollection></ServiceGroup>"
                    )
                else:
                    doctype = rest.replace("busdox-docid-qns::", "")
                    if doctype not in doctypes:
                        self.send_error(404)
                        return
                    body = (
                        '<SignedServiceMetadata xmlns="http://busdox.org/serviceMetadata/publishing/1.0/" '
                        'xmlns:id="http://busdox.org/transport/identifiers/1.0/"><ServiceMetadata><ServiceInformation>'
                        f'<id:DocumentIdentifier scheme="busdox-docid-qns">{doctype}</id:DocumentIdentifier>'
                        "<ProcessList><Process>"
                        f'<id:ProcessIdentifier scheme="cenbii-procid-ubl">{BIS3_PROCESS}</id:ProcessIdentifier>'
                        "</Process></ProcessList></ServiceInformation></ServiceMetadata></SignedServiceMetadata>"
                    )
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _Record:
    def __init__(self, order, preference, service, regexp):
        self.order, self.preference, self.service, self.regexp = order, preference, service, regexp


class _Resolver:
    """A resolver answering NAPTR queries from a dict (the SML step injected, as the brief allows)."""

    def __init__(self, records):
        self.records = records
        self.asked = []

    def resolve(self, name, rdtype, lifetime=None):
        import dns.resolver

        self.asked.append((name, rdtype))
        if name not in self.records:
            raise dns.resolver.NXDOMAIN()
        return self.records[name]


@tagged("post_install", "-at_install")
class TestNaptr(TransactionCase):
    def test_naptr_domain(self):
        expected = base64.b32encode(hashlib.sha256(b"0208:0477472701").digest()).decode().rstrip("=")
        self.assertEqual(
            naptr_domain("0208", " 0477472701"),
            f"{expected}.iso6523-actorid-upis.edelivery.tech.ec.europa.eu",
        )
        # the value is lower-cased before hashing
        self.assertEqual(naptr_domain("9925", "BE0477472701"), naptr_domain("9925", "be0477472701"))
        self.assertNotIn("=", naptr_domain("9925", "BE0477472701"))
        self.assertTrue(
            naptr_domain("0208", "1", zone="acc.edelivery.tech.ec.europa.eu").endswith(
                ".acc.edelivery.tech.ec.europa.eu"
            )
        )

    def test_smp_url_from_naptr(self):
        self.assertEqual(smp_url_from_naptr(b"!^.*$!https://smp.example.org/!"), "https://smp.example.org")
        self.assertIsNone(smp_url_from_naptr("!^.*$!ftp://x!"))
        self.assertIsNone(smp_url_from_naptr(""))

    def test_resolve_smp_url(self):
        name = naptr_domain("0208", "0477472701")
        resolver = _Resolver(
            {
                name: [
                    _Record(100, 10, b"Meta:SMP", b"!^.*$!https://smp.example.org!"),
                    _Record(200, 10, b"Other", b"!^.*$!https://x!"),
                ]
            }
        )
        self.assertEqual(resolve_smp_url("0208", "0477472701", resolver=resolver), "https://smp.example.org")
        self.assertIsNone(resolve_smp_url("0208", "0000000097", resolver=resolver))
        self.assertEqual(resolver.asked[0], (name, "NAPTR"))


@tagged("post_install", "-at_install")
class TestLookup(PeppolCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smp = FakeSmp({"0208:0477472701": [BIS3_INVOICE_DOCTYPE], "0106:77777677": [ORDER_DOCTYPE]})
        cls.addClassCleanup(cls.smp.close)
        cls.env["ir.config_parameter"].set_param("ar_peppol_edi.smp_url", cls.smp.url)

    def test_lookup_tool(self):
        state = lookup("0208", "0477472701", [BIS3_INVOICE_DOCTYPE], smp_url=self.smp.url)["state"]
        self.assertEqual(state, "reachable")
        self.assertEqual(
            lookup("0106", "77777677", [BIS3_INVOICE_DOCTYPE], smp_url=self.smp.url)["state"], "doctype_not_supported"
        )
        self.assertEqual(
            lookup("0208", "0000000097", [BIS3_INVOICE_DOCTYPE], smp_url=self.smp.url)["state"], "not_registered"
        )
        self.assertEqual(
            lookup("0208", "0477472701", [BIS3_INVOICE_DOCTYPE], smp_url="http://127.0.0.1:9")["state"], "error"
        )

    def test_sml_then_smp(self):
        resolver = _Resolver(
            {naptr_domain("0208", "0477472701"): [_Record(1, 1, b"Meta:SMP", f"!^.*$!{self.smp.url}/!".encode())]}
        )
        answer = lookup("0208", "0477472701", [BIS3_INVOICE_DOCTYPE], resolver=resolver)
        self.assertEqual(answer["state"], "reachable")
        self.assertEqual(answer["smp_url"], self.smp.url)
        self.assertEqual(
            lookup("0208", "0000000097", [BIS3_INVOICE_DOCTYPE], resolver=resolver)["state"], "not_registered"
        )

    def test_partner_lookup_cached_and_visible(self):
        self.partner_be.action_ar_peppol_lookup()
        self.assertEqual(self.partner_be.ar_peppol_lookup_state, "reachable")
        self.assertTrue(self.partner_be.ar_peppol_lookup_date)
        hits = self.smp.hits
        self.assertEqual(self.partner_be._ar_peppol_lookup()[self.partner_be], "reachable")
        self.assertEqual(self.smp.hits, hits, "a fresh result is served from the cache")
        self.partner_nl._ar_peppol_lookup()
        self.assertEqual(self.partner_nl.ar_peppol_lookup_state, "doctype_not_supported")
        self.assertIn("does not accept", self.partner_nl.ar_peppol_lookup_message)

    def test_sending_method_applicability(self):
        self.company.ar_peppol_connector_id = self.env["ar.peppol.connector"].create(
            {"name": "Sandbox", "provider": "sandbox"}
        )
        Send = self.env["account.move.send"]
        self.assertTrue(Send._is_applicable_to_move("ar_peppol", self._invoice(self.partner_be, [{}])))
        # buyer on Peppol but not for invoices: not applicable, the fallback channel applies
        self.assertFalse(Send._is_applicable_to_move("ar_peppol", self._invoice(self.partner_nl, [{}])))
        self.assertIn("ar_peppol", dict(self.env["res.partner"]._fields["invoice_sending_method"].selection))
