import hmac
import logging

from odoo import fields, http
from odoo.http import request

from ..tools import cxml

_logger = logging.getLogger(__name__)


class ArCxmlStatusController(http.Controller):
    # csrf=False: the buyer's network posts machine to machine without a browser session; the
    # signed URL (HMAC of the customer with the database secret) authenticates it instead.
    @http.route(
        "/ar/cxml/status/<int:partner_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def ar_cxml_status_update(self, partner_id, token, **_kwargs):
        """Receive a StatusUpdateRequest ([UG] "StatusUpdateRequest": DocumentReference + Status)."""
        # sudo: the network is the public user; the token checked below limits it to one customer
        partner = request.env["res.partner"].sudo().browse(partner_id).exists()
        if not partner or not hmac.compare_digest(partner._ar_cxml_status_token(), token):
            return self._answer(403, "Forbidden")
        update = cxml.parse_status_update(request.httprequest.get_data())
        if update is None:
            return self._answer(400, "Bad Request: no StatusUpdateRequest with DocumentReference and Status")
        payload_id, code, text, detail = update
        # sudo: see above, scoped to this customer's cXML deliveries
        answer_code, answer_text = (
            request.env["account.move"].sudo()._ar_cxml_status_update(partner, payload_id, code, text, detail)
        )
        return self._answer(answer_code, answer_text)

    def _answer(self, code, text):
        now = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S+00:00")
        body = cxml.status_response(code, text, f"status.{now}@ar_suite", now)
        # cXML answers HTTP 200 with the Status in the body, except for refused authentication
        return request.make_response(
            body, headers=[("Content-Type", "text/xml; charset=UTF-8")], status=403 if code == 403 else 200
        )
