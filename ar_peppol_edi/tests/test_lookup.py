import base64
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_peppol_edi.tools.peppol_ids import (
    BIS3_CREDIT_NOTE_DOCTYPE,
    BIS3_INVOICE_DOCTYPE,
    BIS3_PROCESS,
    SML_ZONE_TEST,
    naptr_domain,
    smp_url_from_naptr,
)
from odoo.addons.ar_peppol_edi.tools.smp_lookup import lookup, resolve_smp_url

from .common import PeppolCommon

ORDER_DOCTYPE = "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order##urn:fdc:peppol.eu:poacc:trns:order:3::2.1"


class FakeSmp:
    """A local SMP: participants -> accepted document types (Peppol SMP 1.0 XML)."""

    def __init__(self, participants, redirects=None, padding=0):
        self.participants = participants
        self.redirects = redirects or {}  # doctype -> URL of another SMP's answer (SMP 1.0 Redirect)
        self.padding = padding  # extra bytes in every answer (size cap test)
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
                    if doctype in outer.redirects:
                        body = (
                            '<SignedServiceMetadata xmlns="http://busdox.org/serviceMetadata/publishing/1.0/">'
                            f'<ServiceMetadata><Redirect href="{outer.redirects[doctype]}">'
                            "<CertificateUID>CN=SMP</CertificateUID></Redirect></ServiceMetadata></SignedServiceMetadata>"
                        )
                    else:
                        body = (
                            '<SignedServiceMetadata xmlns="http://busdox.org/serviceMetadata/publishing/1.0/" '
                            'xmlns:id="http://busdox.org/transport/identifiers/1.0/"><ServiceMetadata><ServiceInformation>'
                            f'<id:DocumentIdentifier scheme="busdox-docid-qns">{doctype}</id:DocumentIdentifier>'
                            "<ProcessList><Process>"
                            f'<id:ProcessIdentifier scheme="cenbii-procid-ubl">{BIS3_PROCESS}</id:ProcessIdentifier>'
                            "</Process></ProcessList></ServiceInformation></ServiceMetadata></SignedServiceMetadata>"
                        )
                body += "<!--" + "x" * outer.padding + "-->" if outer.padding else ""
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
            f"{expected}.iso6523-actorid-upis.participant.sml.prod.tech.peppol.org",
        )
        # the value is lower-cased before hashing
        self.assertEqual(naptr_domain("9925", "BE0477472701"), naptr_domain("9925", "be0477472701"))
        self.assertNotIn("=", naptr_domain("9925", "BE0477472701"))
        self.assertTrue(naptr_domain("0208", "1", zone=SML_ZONE_TEST).endswith(".participant.sml.test.tech.peppol.org"))

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
        invoice = self._invoice(self.partner_be, [{}])
        # never looked up: sending does not go to the network, the fallback channel applies
        hits = self.smp.hits
        self.assertFalse(Send._is_applicable_to_move("ar_peppol", invoice))
        self.assertEqual(self.smp.hits, hits)
        self.env["res.partner"]._cron_ar_peppol_lookup()
        self.assertEqual(self.partner_be.ar_peppol_lookup_state, "reachable")
        hits = self.smp.hits
        self.assertTrue(Send._is_applicable_to_move("ar_peppol", invoice))
        # the buyer accepts invoices only: a credit note cannot go on Peppol
        self.assertFalse(self.partner_be.ar_peppol_accepts_credit_note)
        credit_note = self._invoice(self.partner_be, [{}], move_type="out_refund")
        self.assertFalse(Send._is_applicable_to_move("ar_peppol", credit_note))
        self.assertEqual(self.smp.hits, hits, "sending reads the cached lookup only")
        # buyer on Peppol but not for invoices: not applicable, the fallback channel applies
        self.partner_nl._ar_peppol_lookup()
        self.assertFalse(Send._is_applicable_to_move("ar_peppol", self._invoice(self.partner_nl, [{}])))
        # a new address invalidates the lookup
        self.partner_be.peppol_endpoint = "0202239951"
        self.assertFalse(self.partner_be.ar_peppol_lookup_state)

    def test_credit_note_doctype_redirect_and_limits(self):
        target = FakeSmp({"0208:0477472701": [BIS3_CREDIT_NOTE_DOCTYPE]})
        self.addCleanup(target.close)
        participant = quote("iso6523-actorid-upis::0208:0477472701", safe="")
        doc = quote("busdox-docid-qns::" + BIS3_CREDIT_NOTE_DOCTYPE, safe="")
        smp = FakeSmp(
            {"0208:0477472701": [BIS3_INVOICE_DOCTYPE, BIS3_CREDIT_NOTE_DOCTYPE]},
            redirects={BIS3_CREDIT_NOTE_DOCTYPE: f"{target.url}/{participant}/services/{doc}"},
        )
        self.addCleanup(smp.close)
        answer = lookup("0208", "0477472701", [BIS3_INVOICE_DOCTYPE, BIS3_CREDIT_NOTE_DOCTYPE], smp_url=smp.url)
        self.assertEqual(answer["state"], "reachable")
        self.assertEqual(answer["accepts"], {BIS3_INVOICE_DOCTYPE: True, BIS3_CREDIT_NOTE_DOCTYPE: True})
        self.assertEqual(target.hits, 1, "the Redirect is followed once")
        # a redirect to a redirect is refused
        loop = FakeSmp(
            {"0208:0477472701": [BIS3_INVOICE_DOCTYPE]},
            redirects={BIS3_INVOICE_DOCTYPE: f"{smp.url}/{participant}/services/{doc}"},
        )
        self.addCleanup(loop.close)
        smp.redirects[BIS3_CREDIT_NOTE_DOCTYPE] = f"{loop.url}/{participant}/services/" + quote(
            "busdox-docid-qns::" + BIS3_INVOICE_DOCTYPE, safe=""
        )
        answer = lookup("0208", "0477472701", [BIS3_CREDIT_NOTE_DOCTYPE], smp_url=smp.url)
        self.assertEqual(answer["state"], "error")
        self.assertIn("redirected twice", answer["message"])
        # an oversized answer is refused
        big = FakeSmp({"0208:0477472701": [BIS3_INVOICE_DOCTYPE]}, padding=600 * 1024)
        self.addCleanup(big.close)
        answer = lookup("0208", "0477472701", [BIS3_INVOICE_DOCTYPE], smp_url=big.url)
        self.assertEqual(answer["state"], "error")
        self.assertIn("larger than", answer["message"])
        self.assertIn("ar_peppol", dict(self.env["res.partner"]._fields["invoice_sending_method"].selection))
