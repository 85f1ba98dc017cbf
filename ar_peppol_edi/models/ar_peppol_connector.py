import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
import uuid
from urllib.parse import quote

import requests

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools.invoice_response import build_invoice_response, parse_invoice_response
from ..tools.peppol_ids import BIS3_CREDIT_NOTE_DOCTYPE, BIS3_INVOICE_DOCTYPE, BIS3_PROCESS

_logger = logging.getLogger(__name__)


class PeppolConnectorError(Exception):
    """An access point refused or could not take a request.

    ``kind`` is one of ``refused`` (the document was checked and refused: do not retry),
    ``auth`` (credentials wrong), ``rate_limited`` (retry after ``retry_after`` seconds),
    ``server`` (5xx or network trouble), ``timeout`` and ``malformed`` (an answer we cannot
    read; the request may have been taken: retry with the same idempotency key).
    """

    RETRYABLE = ("rate_limited", "server", "timeout", "malformed")

    def __init__(self, kind, message, retry_after=None, answer=None, status=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.answer = answer
        self.status = status

    @property
    def retryable(self):
        return self.kind in self.RETRYABLE


class ArPeppolConnector(models.Model):
    _name = "ar.peppol.connector"
    _description = "Peppol access point connection"
    _check_company_auto = True
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    provider = fields.Selection(
        selection=[
            ("storecove", "Storecove"),
            ("billit", "Billit"),
            ("sandbox", "SANDBOX - demo only, sends nothing"),
        ],
        required=True,
        default="storecove",
        help="The access point's API. The sandbox answers like an access point without sending "
        "anything: use it for demonstrations only.",
    )
    base_url = fields.Char(string="API base URL", help="e.g. https://api.storecove.com/api/v2")
    api_key = fields.Char(string="API key", groups="base.group_system", copy=False)
    account_ref = fields.Char(
        string="Account reference",
        help="Storecove: the legal entity id of the sender. Billit: the PartyID of the company.",
    )
    webhook_secret = fields.Char(groups="base.group_system", copy=False)
    webhook_token = fields.Char(
        copy=False,
        readonly=True,
        default=lambda self: self._default_webhook_token(),
        help="Part of the webhook URL given to the access point.",
    )
    webhook_url = fields.Char(string="Webhook URL", compute="_compute_webhook_url")
    timeout = fields.Float(string="Time-out (s)", default=30.0)

    @api.model
    def _default_webhook_token(self):
        return uuid.uuid4().hex

    @api.depends("webhook_token")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")  # sudo: read base URL
        for connector in self:
            connector.webhook_url = f"{base}/ar_peppol_edi/webhook/{connector.id}/{connector.webhook_token}"

    # providers whose webhooks are signed with a secret: no connector without it
    SIGNED_WEBHOOKS = ("billit",)

    @api.constrains("provider")
    def _check_webhook_secret(self):
        for connector in self:
            # sudo: the secret is readable by administrators only; here only its presence counts
            if connector.provider in self.SIGNED_WEBHOOKS and not connector.sudo().webhook_secret:
                raise ValidationError(
                    self.env._(
                        "%(provider)s signs its webhooks: set the webhook secret the provider gave you "
                        "when you registered the webhook URL.",
                        provider=dict(self._fields["provider"].selection)[connector.provider],
                    )
                )

    def _check_admin_fields(self, vals):
        # The API key is sent to base_url on every call ("Test the connection" included): only an
        # administrator may point a connector (back) at another host or provider.
        if {"provider", "base_url"} & set(vals) and not self.env.is_system():
            raise AccessError(self.env._("Only an administrator can change the provider or the API address."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("base_url"):
                self._check_admin_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        changed = {
            key: value
            for key, value in vals.items()
            if key in ("provider", "base_url") and any(c[key] != value for c in self)
        }
        self._check_admin_fields(changed)
        result = super().write(vals)
        if "webhook_secret" in vals:
            self._check_webhook_secret()
        return result

    def _api(self):
        self.ensure_one()
        return self.env[f"ar.peppol.connector.{self.provider}"]

    def _secret(self, field):
        # sudo: credentials are readable by administrators only, the transmission cron needs them
        return self.sudo()[field] or ""

    # ------------------------------------------------------------------
    # Public operations (dispatch to the provider)
    # ------------------------------------------------------------------

    def _submit(self, move, xml, filename, idempotency_key):
        """Hand a document to the access point; returns ``{"message_id", "answer"}``."""
        self.ensure_one()
        return self._api()._submit(self, move, xml, filename, idempotency_key)

    def _fetch_status(self, move):
        """The access point's current status of ``move``'s message: ``{"state", "answer", ...}``."""
        self.ensure_one()
        return self._api()._fetch_status(self, move)

    def _parse_webhook(self, headers, body):
        """The status events of a webhook call (list of dicts), after checking its signature."""
        self.ensure_one()
        return self._api()._parse_webhook(self, headers, body)

    def _receive_document(self, event):
        """Import a document the access point received for this connector's company (an event
        ``{"received_document": <the provider's id of it>}``). A Peppol Invoice Response 3 answering
        an invoice sent through this connector is applied to that invoice (the state machine of
        ``_ar_peppol_apply_event`` decides); anything else -- a purchase invoice, a Message Level
        Response, a document the access point does not know -- is logged and left alone. Returns
        the invoice updated, or an empty recordset. Raises PeppolConnectorError when the access
        point cannot be asked now (the webhook then asks to be called again)."""
        self.ensure_one()
        Move = self.env["account.move"].with_company(self.company_id)
        xml = self._api()._fetch_received_document(self, event["received_document"])
        if xml is None:
            return Move.browse()
        parsed = parse_invoice_response(xml)
        if not parsed or parsed["kind"] != "invoice_response":
            _logger.info(
                "Peppol connector %s: received document %s is %s, not a buyer's Invoice Response: not imported here",
                self.id,
                event["received_document"],
                "a Message Level Response" if parsed else "another document",
            )
            return Move.browse()
        move = Move._ar_peppol_import_invoice_response(xml, company=self.company_id, connector=self)
        if not move:
            _logger.info(
                "Peppol connector %s: Invoice Response %s answers %s, no invoice sent through this connector",
                self.id,
                event["received_document"],
                parsed["invoice"],
            )
        return move

    def action_test_connection(self):
        self.ensure_one()
        try:
            message = self._api()._test_connection(self)
        except PeppolConnectorError as exc:
            raise UserError(self.env._("The access point answered: %(message)s", message=exc.message)) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": message or self.env._("Connection works.")},
        }


class ArPeppolConnectorApi(models.AbstractModel):
    """What every access-point connector implements. HTTP errors are turned into
    :class:`PeppolConnectorError` with a kind the transmission cron knows how to handle."""

    _name = "ar.peppol.connector.api"
    _description = "Peppol access point API (abstract)"

    def _submit(self, connector, move, xml, filename, idempotency_key):
        raise NotImplementedError

    def _fetch_status(self, connector, move):
        raise NotImplementedError

    def _parse_webhook(self, connector, headers, body):
        raise NotImplementedError

    def _fetch_received_document(self, connector, document_id):
        """The bytes of a document the access point received, or None when it has none by that id."""
        return None

    def _test_connection(self, connector):
        return ""

    def _headers(self, connector, idempotency_key=None):
        return {"Accept": "application/json", "Content-Type": "application/json"}

    def _request(self, connector, method, path, payload=None, idempotency_key=None, *, not_found=False):
        """Call the API; returns the decoded JSON body (dict/list) or raises PeppolConnectorError.
        With ``not_found=True`` a 404 answers None (the resource does not exist yet)."""
        if not connector.base_url:
            raise PeppolConnectorError("auth", self.env._("The access point has no API base URL."))
        url = connector.base_url.rstrip("/") + path
        try:
            response = requests.request(
                method,
                url,
                data=json.dumps(payload) if payload is not None else None,
                headers=self._headers(connector, idempotency_key),
                timeout=connector.timeout or 30.0,
            )
        except requests.Timeout as exc:
            raise PeppolConnectorError("timeout", self.env._("The access point did not answer in time.")) from exc
        except requests.RequestException as exc:
            raise PeppolConnectorError(
                "server", self.env._("The access point cannot be reached: %(error)s", error=str(exc)[:200])
            ) from exc
        text = response.text[:2000]
        status = response.status_code
        if status == 404 and not_found:
            return None
        if status in (401, 403):
            raise PeppolConnectorError(
                "auth",
                self.env._("The access point refused the credentials (HTTP %(status)s).", status=status),
                answer=text,
            )
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            try:
                retry_after = max(int(retry_after), 1)
            except (TypeError, ValueError):
                retry_after = 60
            raise PeppolConnectorError(
                "rate_limited",
                self.env._("Too many requests: the access point asks to retry in %(seconds)s s.", seconds=retry_after),
                retry_after=retry_after,
                answer=text,
            )
        if status >= 500:
            raise PeppolConnectorError(
                "server",
                self.env._("The access point has a server error (HTTP %(status)s).", status=status),
                answer=text,
            )
        if status >= 400:
            raise PeppolConnectorError(
                "refused",
                self.env._("The access point refused the document: %(details)s", details=self._error_details(text)),
                answer=text,
                status=status,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise PeppolConnectorError(
                "malformed", self.env._("The access point's answer cannot be read."), answer=text
            ) from exc

    def _error_details(self, text):
        try:
            data = json.loads(text)
        except ValueError:
            return text[:500]
        data = self._error_list(data)
        if isinstance(data, list):
            parts = []
            for item in data:
                if isinstance(item, dict):
                    parts.append(
                        " ".join(
                            str(v)
                            for k, v in item.items()
                            if k.lower() in ("source", "details", "code", "description", "message")
                        )
                    )
                else:
                    parts.append(str(item))
            return "; ".join(parts)[:500]
        return str(data)[:500]

    @api.model
    def _error_list(self, data):
        if isinstance(data, dict):
            return data.get("errors") or data.get("Errors") or data.get("message") or data.get("Message") or data
        return data

    def _malformed(self, answer):
        return PeppolConnectorError(
            "malformed", self.env._("The access point's answer lacks the expected fields."), answer=str(answer)[:2000]
        )

    @api.model
    def _receiver(self, move):
        partner = move.commercial_partner_id
        return partner.peppol_eas, partner.peppol_endpoint


# Storecove's receiver schemes are the "schemeid" names of the Peppol code list "Participant
# identifier schemes" (Storecove API v2, Routing.eIdentifiers: {"scheme": "BE:EN", "id": ...}).
STORECOVE_SCHEMES = {
    "0002": "FR:SIRENE",
    "0007": "SE:ORGNR",
    "0009": "FR:SIRET",
    "0060": "DUNS",
    "0088": "GLN",
    "0106": "NL:KVK",
    "0151": "AU:ABN",
    "0184": "DK:DIGST",
    "0190": "NL:OINO",
    "0192": "NO:ORG",
    "0204": "DE:LWID",
    "0208": "BE:EN",
    "9925": "BE:VAT",
    "9930": "DE:VAT",
    "9938": "LU:VAT",
    "9944": "NL:VAT",
    "9957": "FR:VAT",
}


class ArPeppolConnectorStorecove(models.AbstractModel):
    """Storecove API v2 (https://www.storecove.com/docs, OpenAPI "Storecove API" 2.0.1).

    - ``POST /document_submissions`` (DocumentSubmission): ``legalEntityId``, ``idempotencyGuid``
      (36 characters), ``routing.eIdentifiers`` [{scheme, id}] and ``document`` {documentType
      "invoice", rawDocumentData {document (base64), parse, documentTypeId, processId}}. With
      ``parse: false`` the document is sent as is and "documentTypeId" and "processId" are
      "Required when parse == false" (RawDocumentData). Answer 200 DocumentSubmissionResult
      {guid}; errors 401/403/422 with the ErrorModel list [{source, details}].
    - Idempotency (DocumentSubmission.idempotencyGuid): "If you submit multiple documents with the
      same idempotencyGuid, only the first one will be processed and any subsequent ones will
      trigger an HTTP 422 Unprocessable Entity response." Such an answer means the invoice WAS
      taken on an earlier attempt: it is "sent", never "error". The 422 does not carry the first
      submission's guid: it is recovered from the next webhook, matched on the idempotencyGuid.
    - ``GET /document_submissions/{guid}/evidence/sending`` (showDocumentSubmissionEvidence):
      200 DocumentSubmissionEvidence {documents, evidence {message_id, receiving_accesspoint, ...},
      network, receiver, sender} once the document was transmitted, 404 before. There is no
      "status" field: an evidence means delivered.
    - Webhooks: a WebhookInstance {guid, body} whose body (a JSON string) holds the event
      {event_type "document_submission", event, guid, idempotencyGuid, details}. Storecove does
      not sign webhooks: the secret token in our webhook URL authenticates them.
    - Received documents (a buyer's Invoice Response included): a webhook event of event_type
      "received_document" names the document by its ``document_guid``; the document is then
      fetched with ``GET /received_documents/{guid}/{format}`` (getReceivedDocument: "guid: The guid
      of the document that was received. This is the "document_guid" property of the
      "received_document" webhook"; format ``json`` or ``original``; headers Accept/Content-Type
      application/json and the API key in Authorization). The answer is a Transportable
      {legal_entity_id, direction "in"|"out", guid, original: "The document as originally
      received. Process this as a blob. Only present if requested.", document: the parsed
      ReceivableDocument, whose document_type is only "invoice" or "order"}. An Invoice Response
      has no parsed form there, so we ask for ``original`` and read the UBL ourselves (its
      CustomizationID tells an Invoice Response from a Message Level Response). Sources: the
      OpenAPI "Storecove API" 2.0.1 as generated into public clients (deegitalbe/
      laravel-trustup-io-storecove ReceivedDocumentsApi/Transportable, n8n-nodes-storecove
      received-documents); the docs page itself (storecove.com/docs) could not be read past its
      introduction here. Not shown there, hence ours: the encoding of ``original`` (taken as
      base64, as RawDocumentData.document on submission, or as the XML text itself) and the
      ``event`` value of a received_document event (not checked). 404 = no such document.
    """

    _name = "ar.peppol.connector.storecove"
    _inherit = "ar.peppol.connector.api"
    _description = "Storecove connector"

    # DocumentSubmission webhook events -> our state ("succeeded" = the receiving access point's
    # AS4 receipt; "failed" / "no_action_taken" = final failure; anything else: still on its way)
    _EVENTS = {"succeeded": "delivered", "failed": "failed", "no_action_taken": "failed"}

    def _headers(self, connector, idempotency_key=None):
        headers = super()._headers(connector, idempotency_key)
        headers["Authorization"] = f"Bearer {connector._secret('api_key')}"
        return headers

    def _routing(self, move):
        eas, endpoint = self._receiver(move)
        scheme = STORECOVE_SCHEMES.get(eas or "")
        if not scheme:
            raise PeppolConnectorError(
                "refused",
                self.env._(
                    "Storecove cannot route to the Peppol scheme %(eas)s of %(partner)s: use an address "
                    "with one of the schemes %(schemes)s.",
                    eas=eas or "-",
                    partner=move.commercial_partner_id.display_name,
                    schemes=", ".join(sorted(STORECOVE_SCHEMES)),
                ),
            )
        return {"eIdentifiers": [{"scheme": scheme, "id": endpoint}], "emails": []}

    def _submit(self, connector, move, xml, filename, idempotency_key):
        if not (connector.account_ref or "").isdigit():
            raise PeppolConnectorError(
                "refused", self.env._("Set the Storecove legal entity id (a number) as the account reference.")
            )
        doctype = BIS3_CREDIT_NOTE_DOCTYPE if move.move_type == "out_refund" else BIS3_INVOICE_DOCTYPE
        payload = {
            "legalEntityId": int(connector.account_ref),
            "idempotencyGuid": idempotency_key,
            "routing": self._routing(move),
            "document": {
                "documentType": "invoice",
                "rawDocumentData": {
                    "document": base64.b64encode(xml).decode(),
                    "parse": False,
                    "documentTypeId": doctype,
                    "processId": BIS3_PROCESS,
                },
            },
        }
        try:
            answer = self._request(connector, "POST", "/document_submissions", payload, idempotency_key)
        except PeppolConnectorError as exc:
            if exc.status == 422 and self._is_idempotent_replay(exc.answer):
                return {"message_id": False, "answer": exc.answer, "replayed": True}
            raise
        if not isinstance(answer, dict) or not answer.get("guid"):
            raise self._malformed(answer)
        return {"message_id": answer["guid"], "answer": json.dumps(answer)[:2000]}

    def _is_idempotent_replay(self, text):
        """The documented 422 for a re-used idempotencyGuid (ErrorModel naming the field)."""
        try:
            errors = self._error_list(json.loads(text or ""))
        except ValueError:
            return False
        return isinstance(errors, list) and any(
            isinstance(err, dict) and "idempotency" in f"{err.get('source')} {err.get('details')}".lower()
            for err in errors
        )

    def _fetch_status(self, connector, move):
        if not move.ar_peppol_message_id:
            return {}  # the guid comes with the next webhook (idempotent replay)
        answer = self._request(
            connector, "GET", f"/document_submissions/{move.ar_peppol_message_id}/evidence/sending", not_found=True
        )
        if answer is None:
            return {}  # no evidence yet: still on its way
        if not isinstance(answer, dict) or not isinstance(answer.get("evidence"), dict):
            raise self._malformed(answer)
        return {"state": "delivered", "answer": json.dumps(answer)[:2000]}

    def _parse_webhook(self, connector, headers, body):
        # Storecove signs nothing (https://www.storecove.com/docs, "Webhooks"): the URL token
        # authenticates the call, and only a body shaped as its WebhookInstance {guid, body: the
        # event as a JSON string} whose event names its event_type is taken for a Storecove call.
        # Anything else ("{}", a bare event, a list) is refused as malformed (400), never "200,
        # nothing applied": a leaked URL must not be a free probe of the endpoint.
        try:
            instance = json.loads(body)
            event = json.loads(instance["body"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PeppolConnectorError("malformed", "not a Storecove webhook: a JSON WebhookInstance") from exc
        if (
            not isinstance(event, dict)
            or not isinstance(instance.get("guid"), str)
            or not instance["guid"].strip()
            or not isinstance(event.get("event_type"), str)
        ):
            raise PeppolConnectorError(
                "malformed", "not a Storecove webhook: WebhookInstance {guid, body} with an event_type"
            )
        out = {
            "event_id": instance["guid"],
            "message_id": event.get("guid"),
            "idempotency_key": event.get("idempotencyGuid"),
            "answer": body.decode("utf-8", "replace")[:2000],
        }
        if event["event_type"] == "received_document":
            # a document received for one of our legal entities: only its guid comes with the
            # event, the document is fetched after the replay check (_fetch_received_document)
            guid = event.get("document_guid")
            if not isinstance(guid, str) or not guid.strip():
                raise PeppolConnectorError(
                    "malformed", "not a Storecove webhook: received_document without document_guid"
                )
            return [{"event_id": out["event_id"], "received_document": guid.strip(), "answer": out["answer"]}]
        if event.get("event_type") != "document_submission":
            return []
        state = self._EVENTS.get(event.get("event"))
        if state:
            out["state"] = state
        return [out]

    def _fetch_received_document(self, connector, document_id):
        # getReceivedDocument, format "original" (see the class docstring); 404: Storecove has no
        # document by that guid for this API key
        answer = self._request(
            connector, "GET", f"/received_documents/{quote(document_id, safe='')}/original", not_found=True
        )
        if answer is None:
            _logger.warning("Storecove has no received document %s (404): nothing imported", document_id)
            return None
        if not isinstance(answer, dict):
            raise self._malformed(answer)
        entity = answer.get("legal_entity_id")
        if answer.get("direction", "in") != "in" or (
            entity is not None and connector.account_ref and str(entity) != connector.account_ref.strip()
        ):
            _logger.warning(
                "Storecove document %s is not a document received for legal entity %s: ignored",
                document_id,
                connector.account_ref,
            )
            return None
        original = answer.get("original")
        if not isinstance(original, str) or not original.strip():
            _logger.warning("Storecove received document %s came without its original: nothing imported", document_id)
            return None
        original = original.strip()
        if original.startswith("<"):
            return original.encode("utf-8")
        try:
            return base64.b64decode(original, validate=True)
        except (binascii.Error, ValueError):
            _logger.warning("Storecove received document %s: its original is neither XML nor base64", document_id)
            return None

    def _test_connection(self, connector):
        self._request(connector, "GET", f"/legal_entities/{connector.account_ref}")
        return self.env._("Storecove accepted the credentials.")


class ArPeppolConnectorBillit(models.AbstractModel):
    """Billit API v1 (https://docs.billit.be).

    - ``POST /v1/peppol/sendXML`` with ``{"XML": ...}``, headers ``ApiKey``, ``PartyID`` and
      ``Idempotent-Key``; the answer carries the ``OrderID`` of the created document, which every
      later status refers to ("This will only work if you store the unique OrderID's when
      creating an invoice", docs "Use webhooks to catch E-Invoice statuses").
    - ``GET /v1/orders/{OrderID}``: ``CurrentDocumentDeliveryDetails.DocumentDeliveryStatus``.
    - Webhooks on the Message entity (docs "Webhooks : Invoice Statuses"): {UpdatedEntityID
      (MessageID), UpdatedEntityType "Message", WebhookUpdateTypeTC, EntityDetail {OrderID,
      Description, FileID, CreationDate, TransportType, Destination, MessageDirection,
      MessageAdditionalInformation {EInvoiceFlowState: Sent|Delivered|Accepted|Refused,
      AdditionalFlowStateInformation}}}; some payloads nest the message as
      ``EntityDetail.OrderMessage``, which is read the same way.
    - Signature (docs "Verify Signature"): header ``Billit-Signature: t=<unix time>,s=<hex>``,
      ``s`` = HMAC-SHA256 with the webhook secret of ``"<t>.<raw body>"``; the timestamp is checked
      against a tolerance.
    """

    _name = "ar.peppol.connector.billit"
    _inherit = "ar.peppol.connector.api"
    _description = "Billit connector"

    TOLERANCE = 300  # seconds between Billit's timestamp and our clock
    _ENTITY_TYPES = ("Order", "Message")  # docs "Webhooks", "Webhook Entity Types"

    def _headers(self, connector, idempotency_key=None):
        headers = super()._headers(connector, idempotency_key)
        headers["ApiKey"] = connector._secret("api_key")
        if connector.account_ref:
            headers["PartyID"] = connector.account_ref
        if idempotency_key:
            headers["Idempotent-Key"] = idempotency_key
        return headers

    def _submit(self, connector, move, xml, filename, idempotency_key):
        answer = self._request(connector, "POST", "/v1/peppol/sendXML", {"XML": xml.decode("utf-8")}, idempotency_key)
        order_id = answer.get("OrderID") if isinstance(answer, dict) else None
        if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
            raise self._malformed(answer)
        return {"message_id": str(order_id), "answer": json.dumps(answer)[:2000]}

    _STATES = {
        "delivered": "delivered",
        "sent": "sent",
        "pending": "sent",
        "inqueue": "sent",
        "error": "failed",
        "failed": "failed",
        "refused": "failed",
    }
    # EInvoiceFlowState of a Message webhook: Sent, Delivered (transport) or the buyer's answer
    _FLOW = {
        "sent": ("sent", None),
        "delivered": ("delivered", None),
        "accepted": (None, "AP"),
        "refused": (None, "RE"),
    }

    def _fetch_status(self, connector, move):
        answer = self._request(connector, "GET", f"/v1/orders/{move.ar_peppol_message_id}")
        details = answer.get("CurrentDocumentDeliveryDetails") if isinstance(answer, dict) else None
        if not isinstance(details, dict) or "DocumentDeliveryStatus" not in details:
            raise self._malformed(answer)
        status = str(details["DocumentDeliveryStatus"]).replace(" ", "").lower()
        return {"state": self._STATES.get(status, "sent"), "answer": json.dumps(answer)[:2000]}

    def _check_signature(self, connector, headers, body):
        secret = connector._secret("webhook_secret")
        if not secret:
            raise PeppolConnectorError("auth", "no webhook secret")
        try:
            parts = dict(p.strip().split("=", 1) for p in headers.get("Billit-Signature", "").split(","))
            stamp = int(parts["t"])
            signature = parts["s"]
        except (ValueError, KeyError) as exc:
            raise PeppolConnectorError("auth", "malformed webhook signature") from exc
        expected = hmac.new(secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise PeppolConnectorError("auth", "bad webhook signature")
        if abs(time.time() - stamp) > self.TOLERANCE:
            raise PeppolConnectorError("auth", "webhook outside the time window")
        return signature

    def _parse_webhook(self, connector, headers, body):
        signature = self._check_signature(connector, headers, body)
        try:
            event = json.loads(body)
            detail = event.get("EntityDetail") or {}
            if isinstance(detail.get("OrderMessage"), dict):
                detail = dict(detail, **detail["OrderMessage"])
            kind = event.get("UpdatedEntityType")
        except (ValueError, TypeError, AttributeError) as exc:
            raise PeppolConnectorError("malformed", "unreadable webhook") from exc
        # docs "Webhooks" (https://docs.billit.be/docs/webhooks): the entity types are Order and
        # Message; a signed body that names neither is not a Billit event (400, not "200, nothing")
        if (kind or event.get("EntityType")) not in self._ENTITY_TYPES:
            raise PeppolConnectorError("malformed", "not a Billit webhook: UpdatedEntityType Order or Message")
        if kind != "Message" or not isinstance(detail, dict) or not detail.get("OrderID"):
            return []  # Order webhooks and others carry no delivery status
        info = detail.get("MessageAdditionalInformation") or {}
        flow = str(info.get("EInvoiceFlowState") or "").strip().lower()
        state, code = self._FLOW.get(flow, (None, None))
        out = {
            "event_id": signature,
            "message_id": str(detail["OrderID"]),
            "answer": body.decode("utf-8", "replace")[:2000],
        }
        if state:
            out["state"] = state
        if code:
            out["response_code"] = code
            out["reason"] = info.get("AdditionalFlowStateInformation") or detail.get("Description") or None
        return [out]

    def _test_connection(self, connector):
        self._request(connector, "GET", "/v1/account/accountInformation")
        return self.env._("Billit accepted the credentials.")


class ArPeppolConnectorSandbox(models.AbstractModel):
    """SANDBOX: answers like an access point inside Odoo and sends nothing. For demonstrations
    only; never a default. Each status poll moves the document one step: sent -> delivered ->
    accepted by the buyer (an "AP" invoice response)."""

    _name = "ar.peppol.connector.sandbox"
    _inherit = "ar.peppol.connector.api"
    _description = "Sandbox connector (demo only)"

    def _submit(self, connector, move, xml, filename, idempotency_key):
        message_id = f"sandbox-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key)}"
        return {"message_id": message_id, "answer": json.dumps({"sandbox": True, "guid": message_id})}

    def _fetch_status(self, connector, move):
        if move.ar_peppol_state == "sent":
            return {"state": "delivered", "answer": '{"sandbox": true, "status": "delivered"}'}
        # the buyer's Invoice Response document, as an access point forwards it
        return {
            "state": "delivered",
            "invoice_response": build_invoice_response(
                move.name, "AP", self.env._("Sandbox: the buyer accepted the invoice.")
            ),
            "answer": '{"sandbox": true, "response": "AP"}',
        }

    def _parse_webhook(self, connector, headers, body):
        raise PeppolConnectorError("malformed", "the sandbox sends no webhooks")

    def _test_connection(self, connector):
        return self.env._("Sandbox: nothing is sent.")
