import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.ar_peppol_edi.tools.invoice_response import build_invoice_response

from .common import FakeAccessPoint, PeppolCommon, storecove_received_webhook
from .test_invoice_response import RESPONSE

PURCHASE_INVOICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>SUPPLIER-77</cbc:ID>
</Invoice>"""


@tagged("post_install", "-at_install")
class TestStorecoveReceivedDocuments(PeppolCommon, HttpCase):
    """A buyer's Invoice Response reaching us through Storecove: a "received_document" webhook
    event names the document, the connector fetches it (GET /received_documents/{guid}/original,
    as Storecove's API shows) and applies it to the invoice it answers through the state machine.
    Anything else received is acknowledged and left alone; replays are refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap = FakeAccessPoint()
        cls.addClassCleanup(cls.ap.close)
        Connector = cls.env["ar.peppol.connector"]
        cls.storecove = Connector.create(
            {
                "name": "Storecove",
                "provider": "storecove",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "123",
                "timeout": 5.0,
                "company_id": cls.company.id,
            }
        )
        cls.other = Connector.create(
            {
                "name": "Storecove (other account)",
                "provider": "storecove",
                "base_url": cls.ap.url,
                "api_key": "good-key",
                "account_ref": "123",
                "company_id": cls.company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.ap.mode = "ok"
        self.ap.requests.clear()
        self.ap.received.clear()
        self.move = self._sent_invoice(self.storecove)

    def _sent_invoice(self, connector, state="delivered"):
        move = self._invoice(self.partner_be, [{}])
        move.write(
            {
                "ar_peppol_state": state,
                "ar_peppol_message_id": f"guid-{move.id}",
                "ar_peppol_connector_id": connector.id,
            }
        )
        return move

    def _receive(self, guid, xml, connector=None, instance=None, entity=123):
        """The access point received ``xml`` (stored under ``guid``) and calls our webhook."""
        if xml is not None:
            self.ap.received[guid] = (xml, entity)
        connector = connector or self.storecove
        body = storecove_received_webhook(guid, instance=instance)
        response = self.url_open(
            f"/ar_peppol_edi/webhook/{connector.id}/{connector.webhook_token}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        return response

    def _fetched(self, guid):
        return self.ap.requests.count(("GET", f"/received_documents/{guid}/original"))

    def test_accepted_response_is_fetched_and_applied(self):
        response = self._receive("rd-1", build_invoice_response(self.move.name, "AP"))
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 1, "replayed": 0}))
        self.assertEqual(self._fetched("rd-1"), 1, "the document is fetched as the API shows, once")
        self.assertEqual(self.move.ar_peppol_state, "accepted")
        self.assertEqual(self.move.ar_peppol_response_code, "AP")
        # then paid (PD only follows AP), the response wrapped in its SBDH envelope as it travelled
        sbd = (
            b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
            b"<StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion></StandardBusinessDocumentHeader>"
            + build_invoice_response(self.move.name, "PD").split(b"?>", 1)[1]
            + b"</StandardBusinessDocument>"
        )
        self.assertEqual(self._receive("rd-2", sbd).json()["applied"], 1)
        self.assertEqual(self.move.ar_peppol_state, "paid")

    def test_conditional_acceptance_opens_an_activity(self):
        xml = build_invoice_response(self.move.name, "CA", "Only if delivered by Friday")
        self.assertEqual(self._receive("rd-ca", xml).json()["applied"], 1)
        self.assertEqual(self.move.ar_peppol_state, "delivered", "CA is not final")
        self.assertEqual(self.move.ar_peppol_response_code, "CA")
        activity = self.move.activity_ids.filtered(lambda a: "conditions" in (a.summary or ""))
        self.assertEqual(len(activity), 1)
        self.assertIn("Only if delivered by Friday", activity.note)
        # the buyer accepts later: final
        self._receive("rd-ap", build_invoice_response(self.move.name, "AP"))
        self.assertEqual(self.move.ar_peppol_state, "accepted")

    def test_rejection_after_acceptance_is_refused(self):
        self._receive("rd-ap", build_invoice_response(self.move.name, "AP"))
        self.assertEqual(self.move.ar_peppol_state, "accepted")
        response = self._receive("rd-re", build_invoice_response(self.move.name, "RE", "Changed our mind"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._fetched("rd-re"), 1)
        self.assertEqual(self.move.ar_peppol_state, "accepted", "AP and RE are final and never overwrite each other")
        self.assertEqual(self.move.ar_peppol_response_code, "AP")
        self.assertFalse(self.move.activity_ids.filtered(lambda a: "rejected" in (a.summary or "")))

    def test_message_level_response_is_ignored(self):
        mlr = RESPONSE.format(code="RE", reason="Schema error", invoice=self.move.name).encode()
        mlr = mlr.replace(b"trns:invoice_response:3", b"trns:mlr:3")
        response = self._receive("rd-mlr", mlr)
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 0, "replayed": 0}))
        self.assertEqual(self._fetched("rd-mlr"), 1)
        self.assertEqual(self.move.ar_peppol_state, "delivered")
        self.assertFalse(self.move.ar_peppol_response_code)

    @mute_logger("odoo.addons.ar_peppol_edi.models.ar_peppol_connector")
    def test_other_received_documents_are_acknowledged_and_left_alone(self):
        moves_before = self.env["account.move"].search_count([])
        response = self._receive("rd-bill", PURCHASE_INVOICE)
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 0, "replayed": 0}))
        self.assertEqual(self._fetched("rd-bill"), 1)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "no vendor bill is created here")
        # a document Storecove received for another legal entity is not ours to apply
        response = self._receive("rd-foreign", build_invoice_response(self.move.name, "AP"), entity=999)
        self.assertEqual((response.status_code, response.json()["applied"]), (200, 0))
        self.assertEqual(self._fetched("rd-foreign"), 1)
        self.assertEqual(self.move.ar_peppol_state, "delivered")

    @mute_logger("odoo.addons.ar_peppol_edi.models.ar_peppol_connector")
    def test_unknown_guid(self):
        response = self._receive("rd-unknown", None)
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 0, "replayed": 0}))
        self.assertEqual(self._fetched("rd-unknown"), 1, "asked, and the documented 404 taken as 'nothing'")
        self.assertEqual(self.move.ar_peppol_state, "delivered")

    def test_replayed_webhook_is_refused(self):
        xml = build_invoice_response(self.move.name, "UQ", "Which purchase order?")
        first = self._receive("rd-uq", xml, instance="inst-uq")
        self.assertEqual(first.json(), {"applied": 1, "replayed": 0})
        self.assertEqual(len(self.move.activity_ids.filtered(lambda a: "question" in (a.summary or ""))), 1)
        again = self._receive("rd-uq", xml, instance="inst-uq")
        self.assertEqual((again.status_code, again.json()), (200, {"applied": 0, "replayed": 1}))
        self.assertEqual(self._fetched("rd-uq"), 1, "a replayed call fetches nothing")
        self.assertEqual(len(self.move.activity_ids.filtered(lambda a: "question" in (a.summary or ""))), 1)

    def test_only_invoices_sent_through_the_connector(self):
        elsewhere = self._sent_invoice(self.other)
        response = self._receive("rd-x", build_invoice_response(elsewhere.name, "AP"))
        self.assertEqual((response.status_code, response.json()["applied"]), (200, 0))
        self.assertEqual(self._fetched("rd-x"), 1)
        self.assertEqual(elsewhere.ar_peppol_state, "delivered")
        # through its own connector it is applied
        self.assertEqual(
            self._receive("rd-y", build_invoice_response(elsewhere.name, "AP"), self.other).json()["applied"], 1
        )
        self.assertEqual(elsewhere.ar_peppol_state, "accepted")

    @mute_logger("odoo.addons.ar_peppol_edi.controllers.webhook")
    def test_access_point_unavailable_asks_for_a_retry(self):
        xml = build_invoice_response(self.move.name, "AP")
        self.ap.mode = "server_error"
        response = self._receive("rd-503", xml, instance="inst-503")
        self.assertEqual(response.status_code, 503, "not 500, not 200: the call must come again")
        self.assertEqual(self._fetched("rd-503"), 1)
        self.assertEqual(self.move.ar_peppol_state, "delivered")
        # Storecove delivers the same event again: it is not taken for a replay
        self.ap.mode = "ok"
        response = self._receive("rd-503", xml, instance="inst-503")
        self.assertEqual((response.status_code, response.json()), (200, {"applied": 1, "replayed": 0}))
        self.assertEqual(self.move.ar_peppol_state, "accepted")

    @mute_logger("odoo.http")
    def test_received_document_event_without_guid_is_refused(self):
        """A received_document event that names no document is no Storecove event: 400, nothing
        claimed in the replay register, nothing fetched."""
        Event = self.env["ar.peppol.webhook.event"]
        before = Event.search_count([])
        for inner in ({"event_type": "received_document"}, {"event_type": "received_document", "document_guid": " "}):
            body = json.dumps({"guid": "inst-bad", "body": json.dumps(inner)}).encode()
            response = self.url_open(
                f"/ar_peppol_edi/webhook/{self.storecove.id}/{self.storecove.webhook_token}",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(Event.search_count([]), before)
        self.assertFalse([r for r in self.ap.requests if r[1].startswith("/received_documents/")])
