import base64
import hashlib
import hmac
import json
import logging
import time
import uuid

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class PeppolConnectorError(Exception):
    """An access point refused or could not take a request.

    ``kind`` is one of ``refused`` (the document was checked and refused: do not retry),
    ``auth`` (credentials wrong), ``rate_limited`` (retry after ``retry_after`` seconds),
    ``server`` (5xx or network trouble), ``timeout`` and ``malformed`` (an answer we cannot
    read; the request may have been taken: retry with the same idempotency key).
    """

    RETRYABLE = ("rate_limited", "server", "timeout", "malformed")

    def __init__(self, kind, message, retry_after=None, answer=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.answer = answer

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
            ("sandbox", "Sandbox (demo only, sends nothing)"),
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

    def _test_connection(self, connector):
        return ""

    def _headers(self, connector, idempotency_key=None):
        return {"Accept": "application/json", "Content-Type": "application/json"}

    def _request(self, connector, method, path, payload=None, idempotency_key=None):
        """Call the API; returns the decoded JSON body (dict/list) or raises PeppolConnectorError."""
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
        if isinstance(data, dict):
            data = data.get("errors") or data.get("Errors") or data.get("message") or data.get("Message") or data
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

    def _malformed(self, answer):
        return PeppolConnectorError(
            "malformed", self.env._("The access point's answer lacks the expected fields."), answer=str(answer)[:2000]
        )

    @api.model
    def _receiver(self, move):
        partner = move.commercial_partner_id
        return partner.peppol_eas, partner.peppol_endpoint


class ArPeppolConnectorStorecove(models.AbstractModel):
    """Storecove API v2 (https://www.storecove.com/docs): ``POST /document_submissions`` with the
    UBL as ``rawDocumentData`` and an ``idempotencyGuid``; ``GET /document_submissions/{guid}/evidence/delivery``
    for the delivery evidence; webhooks POST ``{"guid", "event_type", "body"}``."""

    _name = "ar.peppol.connector.storecove"
    _inherit = "ar.peppol.connector.api"
    _description = "Storecove connector"

    def _headers(self, connector, idempotency_key=None):
        headers = super()._headers(connector, idempotency_key)
        headers["Authorization"] = f"Bearer {connector._secret('api_key')}"
        return headers

    def _submit(self, connector, move, xml, filename, idempotency_key):
        eas, endpoint = self._receiver(move)
        payload = {
            "legalEntityId": int(connector.account_ref)
            if (connector.account_ref or "").isdigit()
            else connector.account_ref,
            "idempotencyGuid": idempotency_key,
            "routing": {"eIdentifiers": [{"scheme": eas, "id": endpoint}], "emails": []},
            "document": {
                "documentType": "invoice",
                "rawDocumentData": {
                    "document": base64.b64encode(xml).decode(),
                    "parse": False,
                    "parseStrategy": "ubl",
                    "processId": "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
                },
            },
        }
        answer = self._request(connector, "POST", "/document_submissions", payload, idempotency_key)
        if not isinstance(answer, dict) or not answer.get("guid"):
            raise self._malformed(answer)
        return {"message_id": answer["guid"], "answer": json.dumps(answer)[:2000]}

    def _fetch_status(self, connector, move):
        answer = self._request(connector, "GET", f"/document_submissions/{move.ar_peppol_message_id}/evidence/delivery")
        if not isinstance(answer, dict) or "status" not in answer:
            raise self._malformed(answer)
        state = {"transmission_complete": "delivered", "transmission_failed": "failed"}.get(answer["status"], "sent")
        return {"state": state, "answer": json.dumps(answer)[:2000]}

    def _parse_webhook(self, connector, headers, body):
        secret = connector._secret("webhook_secret")
        if secret:
            signature = headers.get("X-Storecove-Signature", "")
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signature, expected):
                raise PeppolConnectorError("auth", "bad webhook signature")
        try:
            event = json.loads(body)
            inner = json.loads(event["body"]) if isinstance(event.get("body"), str) else event.get("body") or {}
        except (ValueError, KeyError, TypeError) as exc:
            raise PeppolConnectorError("malformed", "unreadable webhook") from exc
        guid = inner.get("guid") or inner.get("document_submission_guid") or event.get("guid")
        out = {"message_id": guid, "answer": body.decode()[:2000]}
        if event.get("event_type") == "invoice_response" or inner.get("response_code"):
            out.update(
                response_code=inner.get("response_code"), reason=inner.get("response_reason") or inner.get("note")
            )
        else:
            out["state"] = {"transmission_complete": "delivered", "transmission_failed": "failed"}.get(
                inner.get("status") or event.get("event_type"), "sent"
            )
        return [out]

    def _test_connection(self, connector):
        self._request(connector, "GET", f"/legal_entities/{connector.account_ref}")
        return self.env._("Storecove accepted the credentials.")


class ArPeppolConnectorBillit(models.AbstractModel):
    """Billit API v1 (https://docs.billit.be): ``POST /v1/peppol/sendXML`` with ``{"XML": ...}``,
    headers ``ApiKey``, ``PartyID`` and ``Idempotent-Key``; ``GET /v1/orders/{id}`` for the status;
    webhooks signed in ``Billit-Signature`` (``t=<time>,s=<hmac-sha256 of "t.body">``)."""

    _name = "ar.peppol.connector.billit"
    _inherit = "ar.peppol.connector.api"
    _description = "Billit connector"

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
        if not order_id:
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

    def _fetch_status(self, connector, move):
        answer = self._request(connector, "GET", f"/v1/orders/{move.ar_peppol_message_id}")
        details = answer.get("CurrentDocumentDeliveryDetails") if isinstance(answer, dict) else None
        if not isinstance(details, dict) or "DocumentDeliveryStatus" not in details:
            raise self._malformed(answer)
        status = str(details["DocumentDeliveryStatus"]).replace(" ", "").lower()
        return {"state": self._STATES.get(status, "sent"), "answer": json.dumps(answer)[:2000]}

    def _parse_webhook(self, connector, headers, body):
        secret = connector._secret("webhook_secret")
        if secret:
            parts = dict(p.split("=", 1) for p in headers.get("Billit-Signature", "").split(",") if "=" in p)
            expected = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(parts.get("s", ""), expected):
                raise PeppolConnectorError("auth", "bad webhook signature")
            if abs(time.time() - int(parts.get("t") or 0)) > 600:
                raise PeppolConnectorError("auth", "webhook too old")
        try:
            event = json.loads(body)
            order_id = str(event["OrderID"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PeppolConnectorError("malformed", "unreadable webhook") from exc
        out = {"message_id": order_id, "answer": body.decode()[:2000]}
        if event.get("ResponseCode"):
            out.update(response_code=event["ResponseCode"], reason=event.get("ResponseReason"))
        else:
            status = str(event.get("DocumentDeliveryStatus", "")).replace(" ", "").lower()
            out["state"] = self._STATES.get(status, "sent")
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
        return {
            "state": "delivered",
            "response_code": "AP",
            "reason": self.env._("Sandbox: the buyer accepted the invoice."),
            "answer": '{"sandbox": true, "response": "AP"}',
        }

    def _parse_webhook(self, connector, headers, body):
        return []

    def _test_connection(self, connector):
        return self.env._("Sandbox: nothing is sent.")
