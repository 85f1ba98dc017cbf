import hmac
import logging

from odoo import http
from odoo.http import request

from ..models.ar_peppol_connector import PeppolConnectorError

_logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # status webhooks are a few kB


class PeppolWebhook(http.Controller):
    @http.route(
        "/ar_peppol_edi/webhook/<int:connector_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,  # called by the access point, authenticated by the URL token and the signature
        save_session=False,
    )
    def ar_peppol_webhook(self, connector_id, token, **_kwargs):
        # sudo: the caller is the access point, not a user; the URL token identifies it
        connector = request.env["ar.peppol.connector"].sudo().browse(connector_id).exists()
        if not connector or not hmac.compare_digest((connector.webhook_token or "").encode(), token.encode()):
            return request.make_json_response({"error": "unknown webhook"}, status=404)
        if (request.httprequest.content_length or 0) > MAX_BODY:
            return request.make_json_response({"error": "too large"}, status=413)
        body = request.httprequest.get_data()
        try:
            events = connector._parse_webhook(request.httprequest.headers, body)
        except PeppolConnectorError as exc:
            status = 401 if exc.kind == "auth" else 400
            return request.make_json_response({"error": exc.message}, status=status)
        Event = request.env["ar.peppol.webhook.event"].sudo()  # sudo: same reason (replay register)
        fresh = []
        for event in events:
            if event.get("event_id") and not Event._claim(connector, event["event_id"]):
                _logger.info("Peppol webhook from connector %s: replayed event refused", connector.id)
                continue
            fresh.append(event)
        moves = (
            request.env["account.move"]
            .sudo()  # sudo: same reason, scoped to the invoices sent through this connector
            .with_company(connector.company_id)
            ._ar_peppol_find_by_message(
                connector,
                {e["message_id"] for e in fresh if e.get("message_id")},
                {e["idempotency_key"] for e in fresh if e.get("idempotency_key")},
            )
        )
        applied = 0
        for event in fresh:
            if event.get("received_document"):
                # a document the access point received for us (a buyer's Invoice Response, or
                # anything else, which is acknowledged and left alone)
                try:
                    applied += len(connector._receive_document(event))
                except PeppolConnectorError as exc:
                    # the access point cannot hand the document over now: forget the event so that
                    # its next delivery is not refused as a replay, and ask for that delivery
                    Event._release(connector, event["event_id"])
                    _logger.warning(
                        "Peppol webhook from connector %s: received document %s not fetched (%s), retry asked",
                        connector.id,
                        event["received_document"],
                        exc.message,
                    )
                    return request.make_json_response({"error": "received document not available, retry"}, status=503)
                continue
            move = moves.filtered(
                lambda m, e=event: (
                    (e.get("message_id") and m.ar_peppol_message_id == e["message_id"])
                    or (e.get("idempotency_key") and m.ar_peppol_idempotency_key == e["idempotency_key"])
                )
            )[:1]
            if move:
                move._ar_peppol_apply_event(event)
                applied += 1
        _logger.info("Peppol webhook from connector %s: %s event(s) applied", connector.id, applied)
        return request.make_json_response({"applied": applied, "replayed": len(events) - len(fresh)})
