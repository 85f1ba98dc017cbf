from odoo import api, models

SENT_STATES = ("queued", "sent", "delivered", "accepted", "rejected", "paid")


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _is_applicable_to_company(self, method, company):
        # EXTENDS 'account'
        if method == "ar_peppol":
            return bool(company.ar_peppol_connector_id)
        return super()._is_applicable_to_company(method, company)

    @api.model
    def _is_applicable_to_move(self, method, move, **move_data):
        # EXTENDS 'account'
        # Contract with ar_customer_centric: False when the participant lookup says the buyer
        # cannot receive the document (invoice or credit note) on Peppol; the customer's fallback
        # channel then applies. Only the cached lookup is read: the lookup itself runs before
        # sending (partner button, lookup cron), never inside the send request.
        if method == "ar_peppol":
            partner = move.commercial_partner_id
            return bool(
                move.is_sale_document()
                and self._is_applicable_to_company(method, move.company_id)
                and partner.peppol_eas
                and partner.peppol_endpoint
                and move.ar_peppol_state not in SENT_STATES
                and partner._ar_peppol_can_receive(move)
            )
        return super()._is_applicable_to_move(method, move, **move_data)

    @api.model
    def _get_default_invoice_edi_format(self, move, **kwargs):
        # EXTENDS 'account': Peppol BIS Billing 3.0 when sending on our own access point
        if (
            "ar_peppol" in kwargs.get("sending_methods", ())
            and not move.commercial_partner_id.with_company(move.company_id).invoice_edi_format
        ):
            return "ubl_bis3"
        return super()._get_default_invoice_edi_format(move, **kwargs)

    def _ar_peppol_moves(self, invoices_data):
        return {
            invoice: data
            for invoice, data in invoices_data.items()
            if "ar_peppol" in data["sending_methods"] and self._is_applicable_to_move("ar_peppol", invoice, **data)
        }

    @api.model
    def _call_web_service_after_invoice_pdf_render(self, invoices_data):
        # EXTENDS 'account': validate the final document (with its PDF) against the official rules;
        # a fatal finding, or rules that are not available, blocks the sending.
        result = super()._call_web_service_after_invoice_pdf_render(invoices_data)
        for invoice, data in self._ar_peppol_moves(invoices_data).items():
            values = data.get("ubl_cii_xml_attachment_values")
            xml = values["raw"] if values else invoice.ubl_cii_xml_id.raw
            if not xml:
                data["error"] = {
                    "error_title": self.env._("No Peppol document was generated for %(invoice)s.", invoice=invoice.name)
                }
                continue
            fatal = invoice._ar_peppol_validate_xml(xml)
            if fatal is None:
                data["error"] = {
                    "error_title": self.env._(
                        "%(invoice)s was not validated: the official Peppol rules are not available. Nothing was sent.",
                        invoice=invoice.name,
                    )
                }
            elif fatal:
                data["error"] = {
                    "error_title": self.env._(
                        "%(invoice)s does not pass the Peppol rules; nothing was sent:", invoice=invoice.name
                    ),
                    "errors": [
                        f"[{f.rule}] {f.message}" + (f" → {f.fix}" if f.fix else "")
                        for f in invoice.ar_peppol_finding_ids
                        if f.flag == "fatal"
                    ],
                }
        return result

    @api.model
    def _hook_if_success(self, moves_data, from_cron=False):
        # EXTENDS 'account': queue the validated invoices for the transmission cron (the user
        # does not wait for the access point)
        result = super()._hook_if_success(moves_data, from_cron=from_cron)
        to_queue = self.env["account.move"]
        for move, data in moves_data.items():
            if (
                "ar_peppol" in data["sending_methods"]
                and move.ar_peppol_state == "ready"
                and self._is_applicable_to_move("ar_peppol", move, **data)
            ):
                to_queue |= move
        to_queue._ar_peppol_queue()
        return result
