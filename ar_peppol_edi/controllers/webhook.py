import hmac
import logging

from odoo import http
from odoo.http import request

from ..models.ar_peppol_connector import PeppolConnectorError

_logger = logging.getLogger(__name__)


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
        if not connector or not hmac.compare_digest(connector.webhook_token or "", token):
            return request.make_json_response({"error": "unknown webhook"}, status=404)
        body = request.httprequest.get_data()
        try:
            events = connector._parse_webhook(request.httprequest.headers, body)
        except PeppolConnectorError as exc:
            status = 401 if exc.kind == "auth" else 400
            return request.make_json_response({"error": exc.message}, status=status)
        moves = (
            request.env["account.move"]
            .sudo()  # sudo: same reason, scoped below to the connector's company
            .with_company(connector.company_id)
            ._ar_peppol_find_by_message({e["message_id"] for e in events if e.get("message_id")})
            .filtered(lambda m: m.company_id == connector.company_id)
        )
        by_message = {m.ar_peppol_message_id: m for m in moves}
        applied = 0
        for event in events:
            move = by_message.get(event.get("message_id"))
            if move:
                move._ar_peppol_apply_event(event)
                applied += 1
        _logger.info("Peppol webhook from connector %s: %s event(s) applied", connector.id, applied)
        return request.make_json_response({"applied": applied})
