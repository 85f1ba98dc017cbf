import base64
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ar_peppol_edi.tools.rules_store import how_to_provide
from odoo.addons.ar_peppol_edi.tools.ubl_validator import close_all


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """The client gave up (time-out test): nothing to report."""


class FakeAccessPoint:
    """A local HTTP server answering as the Storecove and Billit API documentation shows.

    Storecove (OpenAPI "Storecove API" 2.0.1, DocumentSubmission / RawDocumentData /
    showDocumentSubmissionEvidence): POST /document_submissions answers 200 {"guid"}; a
    submission with ``parse: false`` lacking ``documentTypeId`` or ``processId`` is a 422;
    "If you submit multiple documents with the same idempotencyGuid, only the first one will be
    processed and any subsequent ones will trigger an HTTP 422 Unprocessable Entity response"
    (errors are the ErrorModel list [{source, details}]; the wording of ``details`` is ours);
    GET /document_submissions/{guid}/evidence/sending answers 404 until the document was
    transmitted, then a DocumentSubmissionEvidence (no "status" field).

    Received documents (getReceivedDocument, as generated from the same OpenAPI into public
    clients): GET /received_documents/{guid}/{format} with format ``json`` or ``original``
    answers a Transportable {legal_entity_id, direction "in", guid, original | document}: with
    ``original`` the document as received (base64 here: the encoding is not documented), with
    ``json`` the parsed ReceivableDocument {document_type "invoice"|"order", source}; an unknown
    guid is a 404. ``received`` holds what the server has: guid -> (XML bytes, legal entity id).

    Billit (docs.billit.be): POST /v1/peppol/sendXML answers {"OrderID"}; a repeated
    ``Idempotent-Key`` gets the first answer again; GET /v1/orders/{id} carries
    ``CurrentDocumentDeliveryDetails.DocumentDeliveryStatus``.

    ``mode`` selects the answer of the next calls: ok, refuse, unauthorized, rate_limited,
    server_error, timeout, malformed."""

    def __init__(self):  # noqa: C901 - one request handler, kept beside its state
        self.mode = "ok"
        self.lock = threading.Lock()
        self.by_key = {}  # idempotency key -> message id
        self.transmissions = []  # (key, body) of each accepted new document
        self.requests = []  # (method, path)
        self.status = {}  # message id -> delivery status
        self.received = {}  # Storecove received-document guid -> (original XML bytes, legal entity id)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _common(self, authorized):
                mode = outer.mode
                if mode == "timeout":
                    time.sleep(10.5)  # Odoo's test framework raises request time-outs below 10 s to 10 s
                if not authorized or mode == "unauthorized":
                    self._send(401, {"message": "Unauthorized"})
                    return True
                if mode == "rate_limited":
                    self._send(429, {"message": "Too Many Requests"}, {"Retry-After": "7"})
                    return True
                if mode == "server_error":
                    self._send(503, {"message": "Service Unavailable"})
                    return True
                if mode == "malformed":
                    self._send(200, b"<html>gateway hiccup</html>")
                    return True
                return False

            def _register(self, key, body, make_id):
                """(message id, replay?) of a document under an idempotency key."""
                with outer.lock:
                    if key and key in outer.by_key:
                        return outer.by_key[key], True
                    message_id = make_id()
                    outer.by_key[key] = message_id
                    outer.transmissions.append((key, body))
                    outer.status[message_id] = "sent"
                    return message_id, False

            def do_POST(self):
                outer.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path == "/document_submissions":  # Storecove
                    if self._common(self.headers.get("Authorization") == "Bearer good-key"):
                        return
                    payload = json.loads(body)
                    raw = payload.get("document", {}).get("rawDocumentData", {})
                    if raw.get("parse") is False and not (raw.get("documentTypeId") and raw.get("processId")):
                        self._send(
                            422,
                            [
                                {
                                    "source": "document.rawDocumentData",
                                    "details": "documentTypeId and processId are required when parse is false",
                                }
                            ],
                        )
                        return
                    if outer.mode == "refuse":
                        self._send(422, [{"source": "document", "details": "BR-CO-15 totals do not match"}])
                        return
                    _guid, replay = self._register(payload.get("idempotencyGuid"), body, lambda: str(uuid.uuid4()))
                    if replay:
                        self._send(422, [{"source": "idempotencyGuid", "details": "has already been used"}])
                        return
                    self._send(200, {"guid": _guid})
                elif self.path == "/v1/peppol/sendXML":  # Billit
                    if self._common(self.headers.get("ApiKey") == "good-key" and self.headers.get("PartyID") == "42"):
                        return
                    payload = json.loads(body)
                    if outer.mode == "refuse" or (
                        "<Invoice" not in payload.get("XML", "") and "<CreditNote" not in payload.get("XML", "")
                    ):
                        self._send(400, {"Errors": [{"Code": "PeppolValidation", "Description": "Invalid UBL"}]})
                        return
                    order_id, _replay = self._register(
                        self.headers.get("Idempotent-Key"), body, lambda: 1000 + len(outer.transmissions)
                    )
                    self._send(200, {"OrderID": order_id})
                else:
                    self._send(404, {"message": "not found"})

            def do_GET(self):
                outer.requests.append(("GET", self.path))
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                if parts[0] == "received_documents":  # Storecove getReceivedDocument
                    if self._common(self.headers.get("Authorization") == "Bearer good-key"):
                        return
                    document = outer.received.get(parts[1]) if len(parts) == 3 else None
                    if document is None or parts[2] not in ("json", "original"):
                        self._send(404, {"message": "not found"})
                        return
                    xml, entity = document
                    answer = {"legal_entity_id": entity, "direction": "in", "guid": parts[1]}
                    if parts[2] == "original":
                        answer["original"] = base64.b64encode(xml).decode()
                    else:
                        kind = "invoice" if b"<Invoice" in xml or b"<CreditNote" in xml else None
                        answer["document"] = {"document_type": kind, "source": "peppol"}
                    self._send(200, answer)
                elif parts[0] == "document_submissions":
                    if self._common(self.headers.get("Authorization") == "Bearer good-key"):
                        return
                    status = outer.status.get(parts[1])
                    if status != "delivered" or parts[2:] != ["evidence", "sending"]:
                        self._send(404, {"message": "not found"})
                        return
                    self._send(
                        200,
                        {
                            "network": "peppol",
                            "sender": "0208:0202239951",
                            "receiver": "0208:0477472701",
                            "evidence": {"message_id": f"sbdh-{parts[1]}", "receiving_accesspoint": "CN=PBE000001"},
                            "documents": [
                                {"document": "https://example.invalid/doc.xml", "mime_type": "application/xml"}
                            ],
                        },
                    )
                elif parts[:2] == ["v1", "orders"]:
                    if self._common(self.headers.get("ApiKey") == "good-key"):
                        return
                    status = outer.status.get(int(parts[2]))
                    if status is None:
                        self._send(404, {"Message": "not found"})
                        return
                    self._send(
                        200,
                        {
                            "OrderID": int(parts[2]),
                            "CurrentDocumentDeliveryDetails": {
                                "DocumentDeliveryStatus": "Delivered" if status == "delivered" else "In Queue"
                            },
                        },
                    )
                else:
                    self._send(404, {"message": "not found"})

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def storecove_webhook(guid, event, idempotency_key=None, instance=None):
    """A Storecove webhook call (WebhookInstance {guid, body: JSON string of the event})."""
    inner = {"event_type": "document_submission", "event": event, "guid": guid, "details": None}
    if idempotency_key:
        inner["idempotencyGuid"] = idempotency_key
    return json.dumps({"guid": instance or str(uuid.uuid4()), "body": json.dumps(inner)}).encode()


def storecove_received_webhook(document_guid, instance=None):
    """A Storecove webhook call announcing a received document (event_type "received_document"
    with its "document_guid", the property getReceivedDocument's guid refers to)."""
    inner = {"event_type": "received_document", "event": "received", "document_guid": document_guid}
    return json.dumps({"guid": instance or str(uuid.uuid4()), "body": json.dumps(inner)}).encode()


def billit_webhook(order_id, flow_state, info=None, *, secret=b"b-secret", stamp=None, message_id=100):
    """A signed Billit Message webhook (docs "Webhooks : Invoice Statuses" / "Verify Signature")."""
    body = json.dumps(
        {
            "UpdatedEntityID": message_id,
            "UpdatedEntityType": "Message",
            "WebhookUpdateTypeTC": "U",
            "EntityDetail": {
                "OrderID": order_id,
                "Description": info or flow_state,
                "TransportType": "Peppol",
                "MessageDirection": "Incoming",
                "MessageAdditionalInformation": {
                    "EInvoiceFlowState": flow_state,
                    "AdditionalFlowStateInformation": info,
                },
            },
        }
    ).encode()
    stamp = str(int(time.time()) if stamp is None else stamp)
    signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Billit-Signature": f"t={stamp},s={signature}"}


class PeppolCommon(AccountTestInvoicingCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("be")
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(close_all)
        cls.company = cls.company_data["company"]
        # the rules the product uses by default (AR_PEPPOL_RULES offline, else the verified download)
        cls.rules_location = cls.company._ar_peppol_rules_location()
        cls.rules_dir = os.path.join(cls.rules_location or "", "rules")
        if not cls.rules_location or not os.path.isdir(cls.rules_dir):
            raise AssertionError(f"Peppol tests cannot run. {how_to_provide()}")
        cls.company.tax_calculation_rounding_method = "round_globally"
        cls.company.partner_id.write(
            {
                "street": "Chaussée de Namur 40",
                "zip": "1367",
                "city": "Ramillies",
                "vat": "BE0202239951",
                "company_registry": "0202239951",
                "country_id": cls.env.ref("base.be").id,
                "bank_ids": [Command.create({"acc_number": "BE15001559627230"})],
            }
        )
        cls.bank = cls.company.partner_id.bank_ids[:1]
        ChartRef = cls.env["account.chart.template"].with_company(cls.company)
        cls.tax_21 = ChartRef.ref("attn_VAT-OUT-21-L")
        cls.tax_12 = ChartRef.ref("attn_VAT-OUT-12-L")
        cls.tax_6 = ChartRef.ref("attn_VAT-OUT-06-L")
        cls.tax_exempt = ChartRef.ref("attn_VAT-OUT-00-L")
        cls.tax_cocontractant = ChartRef.ref("attn_VAT-OUT-00-CC")
        cls.tax_eu = ChartRef.ref("attn_VAT-OUT-00-EU-L")
        cls.tax_export = ChartRef.ref("attn_VAT-OUT-00-ROW")
        cls.partner_be = cls._peppol_partner(
            "Buyer BE", "BE", vat="BE0477472701", street="Rue des Bourlottes 9", zip="1367", city="Ramillies"
        )
        cls.partner_nl = cls._peppol_partner(
            "Koper NL",
            "NL",
            vat="NL000099998B57",
            company_registry="77777677",
            peppol_eas="0106",
            peppol_endpoint="77777677",
            street="Kalverstraat 1",
            zip="1012 NX",
            city="Amsterdam",
        )
        cls.partner_de = cls._peppol_partner(
            "Käufer DE GmbH", "DE", vat="DE123456788", street="Hauptstraße 5", zip="10115", city="Berlin"
        )
        cls.partner_fr = cls._peppol_partner(
            "Acheteur FR",
            "FR",
            vat="FR23334175221",
            company_registry="73282932000074",
            street="1 rue de la Paix",
            zip="75002",
            city="Paris",
        )
        cls.partner_lu = cls._peppol_partner(
            "Acheteur LU", "LU", vat="LU15027442", street="12 rue du Fort", zip="L-1528", city="Luxembourg"
        )
        cls.partner_us = cls._peppol_partner(
            "Buyer US Inc",
            "US",
            street="1 Main Street",
            zip="10001",
            city="New York",
            peppol_eas="0088",
            peppol_endpoint="5430003732007",
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Consulting", "lst_price": 100.0, "taxes_id": [Command.set(cls.tax_21.ids)]}
        )

    @classmethod
    def _peppol_partner(cls, name, country, **vals):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "country_id": cls.env.ref(f"base.{country.lower()}").id,
                "invoice_sending_method": "manual",
                **vals,
            }
        )

    @classmethod
    def _invoice(cls, partner, lines, move_type="out_invoice", post=True, **vals):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": "2026-01-15",
                "partner_bank_id": cls.bank.id,
                "ref": "PO-4711",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "name": line.get("name", "Consulting"),
                            "quantity": line.get("quantity", 1.0),
                            "price_unit": line.get("price_unit", 100.0),
                            "discount": line.get("discount", 0.0),
                            "tax_ids": [Command.set(line.get("taxes", cls.tax_21).ids)],
                        }
                    )
                    for line in lines
                ],
                **vals,
            }
        )
        if post:
            move.action_post()
        return move
