import logging
import uuid
from datetime import timedelta

import requests

from odoo import api, fields, models
from odoo.tools import float_round, html2plaintext

from odoo.addons.account_edi_ubl_cii.models.account_edi_common import UOM_TO_UNECE_CODE

from ..tools import cxml

_logger = logging.getLogger(__name__)

CXML_TIMEOUT = 20  # seconds
CXML_MAX_ATTEMPTS = 5
# States in which the network holds (or may hold) the document: never posted again by itself.
CXML_HELD_STATES = ("sent", "pending")
# UBL/CII tax category (Odoo's account_edi_ubl_cii field on the tax) -> cXML TaxDetail@exemptDetail
EXEMPT_DETAIL = {"Z": "zeroRated", "E": "exempt", "AE": "exempt", "K": "exempt", "G": "exempt", "O": "exempt"}


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_cxml_payload_id = fields.Char(
        string="cXML Payload ID",
        copy=False,
        readonly=True,
        help="Identifier of the cXML document sent for this version of the invoice. Retries reuse it; "
        "an invoice reset to draft and corrected gets a new one.",
    )
    ar_buyer_po = fields.Char(
        string="Buyer's PO Number",
        tracking=True,
        help="Purchase order number of the buyer, as the buyer's procurement network (Ariba, Coupa) knows it.",
    )
    ar_buyer_po_date = fields.Date(string="Buyer's PO Date")
    ar_buyer_contract = fields.Char(
        string="Buyer's Contract Number",
        help="Contract (master agreement) of the buyer that this invoice is billed against, when there is no PO.",
    )

    # ------------------------------------------------------------------
    # CRUD / STATE
    # ------------------------------------------------------------------

    def button_draft(self):
        # EXTENDS 'account': a corrected invoice is a new cXML document (new payloadID); the network
        # discards a payloadID it has seen, so the correction would otherwise be lost.
        res = super().button_draft()
        self.filtered("ar_cxml_payload_id").ar_cxml_payload_id = False
        return res

    def _ar_cxml_fill_references(self):
        """Buyer references from the sales order when `sale` is installed (soft hook, no dependency);
        the supplier part number from the product's internal reference. Never overwrites a value."""
        Line = self.env["account.move.line"]
        has_sale = "sale_line_ids" in Line._fields
        for move in self.filtered(lambda m: m.is_sale_document(include_receipts=False)):
            lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            for line in lines:
                if not line.ar_supplier_part and line.product_id.default_code:
                    line.ar_supplier_part = line.product_id.default_code
            if not has_sale:
                continue
            orders = lines.sale_line_ids.order_id
            refs = {ref for ref in orders.mapped("client_order_ref") if ref}
            if not move.ar_buyer_po and len(refs) == 1:
                move.ar_buyer_po = refs.pop()
                if len(orders) == 1 and not move.ar_buyer_po_date:
                    move.ar_buyer_po_date = orders.date_order.date()
            for line in lines.filtered(lambda x: not x.ar_buyer_po_line and len(x.sale_line_ids) == 1):
                order_lines = line.sale_line_ids.order_id.order_line.filtered(lambda x: not x.display_type)
                line.ar_buyer_po_line = (
                    list(order_lines.sorted(lambda x: (x.sequence, x.id))).index(line.sale_line_ids) + 1
                )

    # ------------------------------------------------------------------
    # cXML DOCUMENT
    # ------------------------------------------------------------------

    def _ar_cxml_new_payload_id(self):
        """Unique per document version ([UG] payloadID: "a unique identifier for the document")."""
        self.ensure_one()
        host = (self.company_id.website or "odoo").split("//")[-1].strip("/") or "odoo"
        return f"{self.id}.{uuid.uuid4().hex}@{host}"

    def _ar_cxml_payload(self):
        """The payloadID of this version of the invoice (created once, reused by every retry)."""
        self.ensure_one()
        if not self.ar_cxml_payload_id:
            # sudo: technical field written by whoever sends
            self.sudo().ar_cxml_payload_id = self._ar_cxml_new_payload_id()
        return self.ar_cxml_payload_id

    def _ar_cxml_party(self, partner):
        return {
            "id": partner.ref or str(partner.id),
            "name": partner.name or "",
            "street": partner.street,
            "street2": partner.street2,
            "city": partner.city,
            "zip": partner.zip,
            "country_code": partner.country_id.code or "",
            "country_name": partner.country_id.name or "",
            "email": partner.email,
            "vat": partner.vat,
        }

    def _ar_cxml_partner(self):
        # sudo: credentials are restricted to account managers; sending runs for any invoicing user
        return self.commercial_partner_id.with_company(self.company_id).sudo()

    @api.model
    def _ar_cxml_unece(self, uom):
        """UN/CEFACT Recommendation 20 code of a unit (Odoo's UBL mapping), None when unknown."""
        xmlid = uom.get_external_id().get(uom.id)
        return UOM_TO_UNECE_CODE.get(xmlid) if xmlid else None

    def _ar_cxml_tax_detail(self, tax, base, amount, sign):
        """One TaxDetail of ``tax`` (amounts already rounded), with exemption reason."""
        category = tax.ubl_cii_tax_category_code or ("S" if tax.amount else False)
        reason = ""
        if tax.ubl_cii_tax_exemption_reason_code:
            labels = dict(tax._fields["ubl_cii_tax_exemption_reason_code"]._description_selection(self.env))
            reason = labels[tax.ubl_cii_tax_exemption_reason_code]
        if not reason and tax.invoice_legal_notes:
            reason = html2plaintext(tax.invoice_legal_notes).strip()
        supply = self.taxable_supply_date or self.invoice_date
        return {
            "category": "vat",
            "rate": tax.amount,
            "base": sign * base,
            "amount": sign * amount,
            "description": tax.name,
            "ubl_category": category,
            "exempt": EXEMPT_DETAIL.get(category),
            "exempt_code": tax.ubl_cii_tax_exemption_reason_code or False,
            "reason": reason,
            # EU VAT Directive art. 226 (7): the date of the supply when it differs from the invoice date
            "tax_point_date": f"{supply.isoformat()}T00:00:00+00:00" if supply else None,
            "tax": tax,
        }

    def _ar_cxml_tax_data(self):
        """([(line, [tax data])], [other base lines]) from Odoo's rounded tax computation."""
        self.ensure_one()
        base_lines, _tax_lines = self._get_rounded_base_and_tax_lines()
        per_line, others = [], []
        for base_line in base_lines:
            record = base_line["record"]
            if getattr(record, "display_type", None) != "product":
                others.append(record)
                continue
            per_line.append((record, base_line["tax_details"]["taxes_data"]))
        return per_line, others

    def _ar_cxml_prepare_vals(self, payload_id):
        self.ensure_one()
        partner = self._ar_cxml_partner()
        network = partner.ar_cxml_network or cxml.GENERIC
        currency = self.currency_id
        is_refund = self.move_type == "out_refund"
        # Credit-memo shapes: Coupa [COUPA-CM] creditMemo with positive quantities and amounts;
        # Ariba lineLevelCreditMemo and generic creditMemo with negative quantities and amounts
        # ([UG] "credit memo ... amounts are negative"), the DueAmount negative.
        sign = -1 if is_refund and network != cxml.COUPA else 1
        purpose = "standard"
        if is_refund:
            purpose = "lineLevelCreditMemo" if network == cxml.ARIBA else "creditMemo"
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
        lines, summary = [], {}
        per_line, _others = self._ar_cxml_tax_data()
        for number, (line, taxes_data) in enumerate(per_line, 1):
            details = []
            for tax_data in taxes_data:
                tax = tax_data["tax"]
                detail = self._ar_cxml_tax_detail(
                    tax, tax_data["base_amount_currency"], tax_data["tax_amount_currency"], sign
                )
                details.append(detail)
                key = (tax.id,)
                if key in summary:
                    summary[key]["base"] += detail["base"]
                    summary[key]["amount"] += detail["amount"]
                else:
                    summary[key] = dict(detail)
            # unit price after discount ([UG] UnitPrice is the price actually charged per unit)
            net_price = line.price_unit * (1 - (line.discount or 0.0) / 100.0)
            lines.append(
                {
                    "number": number,
                    "po_line": line.ar_buyer_po_line or None,
                    "quantity": sign * line.quantity,
                    "uom": self._ar_cxml_unece(line.product_uom_id) if line.product_uom_id else "C62",
                    "uom_record": line.product_uom_id,
                    "unit_price": float_round(net_price, precision_digits=max(price_digits, currency.decimal_places)),
                    "price_decimals": max(price_digits, currency.decimal_places),
                    "supplier_part": line.ar_supplier_part or "",
                    "description": line.name or line.product_id.display_name or "",
                    "subtotal": sign * line.price_subtotal,
                    "tax_amount": sum(d["amount"] for d in details),
                    "taxes": details,
                    "tax_description": ", ".join(line.tax_ids.mapped("name")) or "VAT",
                    "record": line,
                }
            )
        tax_summary = []
        for detail in summary.values():
            detail["base"] = currency.round(detail["base"])
            detail["amount"] = currency.round(detail["amount"])
            tax_summary.append(detail)
        pay_days = (self.invoice_date_due - self.invoice_date).days if self.invoice_date_due else None
        original = None
        if is_refund and self.reversed_entry_id:
            origin = self.reversed_entry_id
            original = {
                "id": origin.name,
                "date": f"{origin.invoice_date.isoformat()}T00:00:00+00:00",
                "payload_id": origin.ar_cxml_payload_id if network != cxml.COUPA else origin.name,
            }
        return {
            "network": network,
            "version": cxml.VERSIONS[network],
            "payload_id": payload_id,
            "timestamp": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "lang": (partner.lang or "en_US").replace("_", "-"),
            "deployment_mode": partner.ar_cxml_deployment_mode or "production",
            "from": {"domain": partner.ar_cxml_from_domain, "identity": partner.ar_cxml_from_identity},
            "to": {"domain": partner.ar_cxml_to_domain, "identity": partner.ar_cxml_to_identity},
            "sender": {"domain": partner.ar_cxml_sender_domain, "identity": partner.ar_cxml_sender_identity},
            "shared_secret": partner.ar_cxml_shared_secret or "",
            "invoice_id": self.name,
            "purpose": purpose,
            "invoice_date": f"{self.invoice_date.isoformat()}T00:00:00+00:00",
            "currency": currency.name,
            "decimals": currency.decimal_places,
            "pay_in_days": pay_days,
            "order": {
                "po": self.ar_buyer_po or "",
                "po_date": f"{self.ar_buyer_po_date.isoformat()}T00:00:00+00:00" if self.ar_buyer_po_date else None,
                "contract": self.ar_buyer_contract or "",
                "supplier_order": self.invoice_origin or self.name,
            },
            "original_invoice": original,
            "remit_to": self._ar_cxml_party(self.company_id.partner_id),
            "bill_to": self._ar_cxml_party(partner),
            "lines": lines,
            "tax_summary": tax_summary,
            "subtotal": sign * self.amount_untaxed,
            "tax_amount": sign * self.amount_tax,
            "total": sign * self.amount_total,
            # a credit note's DueAmount is what it credits, even once Odoo matched it with the invoice
            "due": sign * (self.amount_total if is_refund else self.amount_residual),
            "extrinsics": {"PaymentReference": self.payment_reference, "PayURL": self._ar_pay_url()},
        }

    # ------------------------------------------------------------------
    # CHECKS BEFORE SENDING
    # ------------------------------------------------------------------

    def _ar_cxml_problems(self, vals=None):
        """Translated reasons why this invoice cannot go to the buyer's network as it is."""
        self.ensure_one()
        partner = self._ar_cxml_partner()
        network = partner.ar_cxml_network
        problems = []
        if not network:
            return [
                self.env._(
                    "%(partner)s: choose the cXML Network (Ariba, Coupa or generic cXML) on the customer's "
                    "Invoicing tab.",
                    partner=partner.display_name,
                )
            ]
        vals = vals or self._ar_cxml_prepare_vals("check@local")
        problems += self._ar_cxml_reference_problems(network, vals["lines"])
        problems += self._ar_cxml_amount_problems(vals)
        return list(dict.fromkeys(problems))

    def _ar_cxml_reference_problems(self, network, lines):
        """The buyer references the network requires (refused before sending, never sent empty)."""
        partner = self._ar_cxml_partner()
        labels = dict(partner._fields["ar_cxml_network"]._description_selection(self.env))
        label = labels[network]
        name = self.name or self.display_name
        problems = []
        if network == cxml.ARIBA and not self.ar_buyer_po:
            # [ANORDER]: an Ariba invoice references the buyer's PO (OrderReference or OrderIDInfo)
            problems.append(
                self.env._(
                    "%(invoice)s: %(network)s requires the Buyer's PO Number: fill it in on the invoice.",
                    invoice=name,
                    network=label,
                )
            )
        if network == cxml.COUPA and not (self.ar_buyer_po or self.ar_buyer_contract):
            # [COUPA-ERR] "Invalid Coupa PO number" / [COUPA-CONTRACT]: a PO or a contract number
            problems.append(
                self.env._(
                    "%(invoice)s: %(network)s requires the Buyer's PO Number or the Buyer's Contract Number.",
                    invoice=name,
                    network=label,
                )
            )
        if network in (cxml.ARIBA, cxml.COUPA) and self.ar_buyer_po:
            missing = [str(line["number"]) for line in lines if not line["po_line"]]
            if missing:
                # [COUPA-ERR] "Invalid PO line number"; Ariba matches invoice lines to PO lines
                problems.append(
                    self.env._(
                        "%(invoice)s: %(network)s requires the PO Line of every invoice line (missing on "
                        "line %(lines)s).",
                        invoice=name,
                        network=label,
                        lines=", ".join(missing),
                    )
                )
        if network == cxml.ARIBA:
            missing = [str(line["number"]) for line in lines if not line["supplier_part"]]
            if missing:
                problems.append(
                    self.env._(
                        "%(invoice)s: %(network)s requires the Supplier Part Number of every invoice line "
                        "(missing on line %(lines)s): set it on the line or the product's Internal Reference.",
                        invoice=name,
                        network=label,
                        lines=", ".join(missing),
                    )
                )
        if self.move_type == "out_refund" and not self.reversed_entry_id and network == cxml.COUPA:
            # [COUPA-ERR] "IF creditMemo then original_invoice must be provided"
            problems.append(
                self.env._(
                    "%(invoice)s: %(network)s needs the invoice this credit note corrects: create the credit "
                    "note with “Credit Note” from the original invoice.",
                    invoice=name,
                    network=label,
                )
            )
        return problems

    def _ar_cxml_amount_problems(self, vals):
        """Units, taxes and totals: what a network would reject or a tax auditor would miss."""
        name = self.name or self.display_name
        lines = vals["lines"]
        problems = []
        # Units: UN/CEFACT Recommendation 20 codes ([COUPA-ERR] "Invalid UOM")
        for line in lines:
            if not line["uom"]:
                problems.append(
                    self.env._(
                        "%(invoice)s, line %(line)s: the unit %(uom)s has no UN/CEFACT code; use one of "
                        "Odoo's standard units.",
                        invoice=name,
                        line=line["number"],
                        uom=line["uom_record"].name,
                    )
                )
        # Taxes: percentages only, an exemption reason for exempt and reverse-charge taxes
        taxes = self.env["account.tax"].union(*(d["tax"] for line in lines for d in line["taxes"]))
        for tax in taxes:
            if tax.amount_type != "percent":
                problems.append(
                    self.env._(
                        "%(invoice)s: the tax %(tax)s is not a percentage; cXML tax details need a rate.",
                        invoice=name,
                        tax=tax.name,
                    )
                )
            elif not tax.amount and not tax.ubl_cii_tax_category_code:
                problems.append(
                    self.env._(
                        "%(invoice)s: the 0%% tax %(tax)s has no Tax Category Code (zero rated, exempt, reverse "
                        "charge ...): set it on the tax.",
                        invoice=name,
                        tax=tax.name,
                    )
                )
            elif tax.ubl_cii_requires_exemption_reason and not (
                tax.ubl_cii_tax_exemption_reason_code or tax.invoice_legal_notes
            ):
                # EU VAT Directive 2006/112/EC art. 226 (11) and (11a)
                problems.append(
                    self.env._(
                        "%(invoice)s: the tax %(tax)s is exempt or reverse charge but states no reason (EU VAT "
                        "Directive art. 226 (11)): set its Tax Exemption Reason Code or Legal Notes.",
                        invoice=name,
                        tax=tax.name,
                    )
                )
        _per_line, others = self._ar_cxml_tax_data()
        if others:
            problems.append(
                self.env._(
                    "%(invoice)s: early payment discounts and cash rounding cannot be sent by cXML.",
                    invoice=name,
                )
            )
        for kind, number in cxml.check_totals(vals):
            if kind == "line_price":
                problems.append(
                    self.env._(
                        "%(invoice)s, line %(line)s: quantity × unit price after discount does not give the "
                        "line subtotal.",
                        invoice=name,
                        line=number,
                    )
                )
            else:
                problems.append(
                    self.env._("%(invoice)s: the lines and taxes do not add up to the invoice totals.", invoice=name)
                )
                break
        return problems

    # ------------------------------------------------------------------
    # TRANSPORT
    # ------------------------------------------------------------------

    def _ar_cxml_pdf(self, pdf_values=None):
        """Name, bytes and type of the invoice PDF attached to the cXML document."""
        self.ensure_one()
        if pdf_values and pdf_values.get("raw"):
            return {"name": pdf_values["name"], "raw": pdf_values["raw"], "mimetype": "application/pdf"}
        attachment = self.invoice_pdf_report_id
        if attachment:
            return {"name": attachment.name, "raw": attachment.raw, "mimetype": "application/pdf"}
        # sudo: rendering the invoice report for the network, as the sending wizard does
        raw = self.env["ir.actions.report"].sudo()._render_qweb_pdf("account.account_invoices", self.ids)[0]
        return {"name": f"{self._get_report_base_filename()}.pdf", "raw": raw, "mimetype": "application/pdf"}

    def _ar_cxml_post(self, is_fallback=False, pdf_values=None):
        """POST the invoice to the buyer's network once; return the state and the reason.

        The state is 'sent' only when a cXML Status 200 was read; 'pending' after a 201 until a
        StatusUpdateRequest arrives; 'retry' after a transient failure; 'check' when a duplicate
        answer follows our own time-out; 'failed' otherwise (final: correct the invoice).
        """
        self.ensure_one()
        partner = self._ar_cxml_partner()
        network = partner.ar_cxml_network or cxml.GENERIC
        endpoint = partner.ar_cxml_endpoint or ""
        previous = self.ar_delivery_log_ids.filtered(lambda log: log.channel == "ar_cxml")
        payload_id = self._ar_cxml_payload()
        current = previous.filtered(lambda log: log.payload_id == payload_id)
        held = current.filtered(lambda log: log.state in CXML_HELD_STATES)
        if held:
            return held[0].state, self.env._(
                "Already received by the buyer's network with payload %(payload)s: not posted again.",
                payload=payload_id,
            )
        attempt = max(current.mapped("attempt_count") or [0]) + 1
        after_timeout = any(log.response_code == "timeout" for log in current)
        extra = {"payload_id": payload_id, "attempt_count": attempt, "is_fallback": is_fallback}

        def refuse(message, code="refused"):
            self._ar_log_delivery(
                "ar_cxml", "failed", destination=endpoint, message=message, response_code=code, **extra
            )
            return "failed", message

        if refusal := self._ar_cxml_transport_refusal(partner):
            return refuse(refusal)
        vals = self._ar_cxml_prepare_vals(payload_id)
        if problems := self._ar_cxml_problems(vals):
            return refuse("\n".join(problems))
        attach = partner.ar_cxml_attach_pdf
        pdf = self._ar_cxml_pdf(pdf_values) if attach else None
        if pdf:
            vals["attachment_cid"] = f"{uuid.uuid5(uuid.NAMESPACE_URL, payload_id).hex}@invoice.pdf"
            vals["attachment_name"] = pdf["name"]
        document = cxml.build_invoice_detail_request(vals)
        if pdf:
            body, content_type = cxml.multipart_related(document, pdf, vals["attachment_cid"], uuid.uuid4().hex)
        else:
            body, content_type = document, "text/xml; charset=UTF-8"
        http_status, cxml_code, reason = self._ar_cxml_request(endpoint, body, content_type)
        outcome = cxml.classify(network, http_status, cxml_code, reason, after_timeout=after_timeout)
        code = str(cxml_code or http_status or "timeout")
        extra["response_code"] = code
        state, message = self._ar_cxml_outcome(
            outcome, attempt=attempt, code=code, reason=reason, partner=partner, extra=extra
        )
        self._ar_log_delivery("ar_cxml", state, destination=endpoint, message=message, **extra)
        return state, message

    def _ar_cxml_transport_refusal(self, partner):
        """Why nothing may be posted (issue 10 point 5): a neutralized copy, an endpoint that is not
        https or is internal without the administrator's consent, no shared secret. '' when fine."""
        if self.env["res.partner"]._ar_cxml_neutralized():
            return self.env._("This database is a neutralized copy: nothing is posted to buyers' networks.")
        if problem := partner._ar_cxml_endpoint_problem(resolve=True):
            return problem
        if not partner.ar_cxml_shared_secret:
            return self.env._(
                "%(partner)s has no cXML Shared Secret: the network would refuse the invoice.",
                partner=partner.display_name,
            )
        return ""

    def _ar_cxml_request(self, endpoint, body, content_type):
        """(HTTP status, cXML status code, reason) of one POST; (None, None, reason) without answer."""
        # sudo: technical parameter, read for any invoicing user
        timeout = float(
            self.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.cxml_timeout", CXML_TIMEOUT)
        )
        try:
            response = requests.post(
                endpoint,
                data=body,
                headers={"Content-Type": content_type},
                timeout=timeout,
                allow_redirects=False,  # the shared secret never follows a redirect to another host
            )
        except requests.Timeout:
            return None, None, self.env._("No answer within %(seconds)s seconds.", seconds=timeout)
        except requests.RequestException as error:
            # the class of the error only: never the request (its body carries the shared secret)
            return None, None, type(error).__name__
        cxml_code, text, detail = cxml.parse_status(response.content)
        reason = " ".join(filter(None, (text, detail)))
        if 300 <= response.status_code < 400:
            reason = self.env._(
                "redirected to %(location)s: redirects are not followed",
                location=response.headers.get("Location") or "?",
            )
        elif cxml_code is None:
            reason = f"{response.reason or ''} " + self.env._("(no cXML Status in the answer)")
        return response.status_code, cxml_code, reason

    def _ar_cxml_outcome(self, outcome, *, attempt, code, reason, partner, extra):
        """(delivery state, translated message) of a classified answer; plans the retry in ``extra``."""
        if outcome == cxml.DELIVERED:
            return "sent", self.env._(
                "Accepted by the buyer's network (%(code)s %(reason)s).", code=code, reason=reason
            )
        if outcome == cxml.PENDING:
            return "pending", self.env._(
                "Received by the buyer's network (%(code)s %(reason)s): waiting for its status update.",
                code=code,
                reason=reason,
            )
        if outcome == cxml.CHECK:
            return "check", self.env._(
                "The network reports a duplicate (%(code)s %(reason)s) after an attempt that timed out: the first "
                "attempt may have arrived. Check the invoice on the buyer's network before sending it again.",
                code=code,
                reason=reason,
            )
        if outcome == cxml.TRANSIENT and attempt < CXML_MAX_ATTEMPTS:
            extra["next_attempt"] = fields.Datetime.now() + timedelta(minutes=cxml.backoff_minutes(attempt))
            return "retry", self.env._(
                "Temporary failure (%(code)s %(reason)s): retry %(attempt)s planned on %(date)s.",
                code=code,
                reason=reason,
                attempt=attempt + 1,
                date=fields.Datetime.to_string(extra["next_attempt"]),
            )
        if code in ("401", "403"):
            return "failed", self.env._(
                "The buyer's network refused our credentials (%(code)s %(reason)s): check the cXML "
                "From/Sender identities and the shared secret of %(partner)s.",
                code=code,
                reason=reason,
                partner=partner.display_name,
            )
        return "failed", self.env._(
            "Rejected by the buyer's network (%(code)s %(reason)s): correct the invoice (reset to draft, "
            "it then gets a new payload ID) and send it again.",
            code=code,
            reason=reason,
        )

    # ------------------------------------------------------------------
    # STATUS UPDATES (201 -> StatusUpdateRequest)
    # ------------------------------------------------------------------

    @api.model
    def _ar_cxml_status_update(self, partner, payload_id, code, text, detail):
        """Apply a network's StatusUpdateRequest; (cXML code, text) of our answer."""
        Log = self.env["ar.delivery.log"]
        log = Log.search(
            [
                ("channel", "=", "ar_cxml"),
                ("payload_id", "=", payload_id),
                ("partner_id", "=", partner.id),
            ],
            order="id desc",
            limit=1,
        )
        if not log:
            return 400, "Unknown payloadID"
        move = log.move_id
        reason = " ".join(filter(None, (text, detail)))
        if log.state not in ("pending", "check"):
            # a repeated update: acknowledged, nothing changes ([UG] the network may repeat requests)
            return 200, "OK"
        if code == 200:
            state = "sent"
            message = self.env._("Accepted by the buyer (status update %(code)s %(reason)s).", code=code, reason=reason)
        elif code in (201, 280, 281):
            move._message_log(
                body=self.env._(
                    "Status update from the buyer's network: %(code)s %(reason)s.", code=code, reason=reason
                )
            )
            return 200, "OK"
        else:
            state = "failed"
            message = self.env._(
                "Rejected by the buyer (status update %(code)s %(reason)s): correct the invoice (reset to draft, it "
                "then gets a new payload ID) and send it again.",
                code=code,
                reason=reason,
            )
        # sudo: the network posts as the public user; only its own invoice's log is written
        log.sudo().write(
            {
                "state": state,
                "response_code": str(code),
                "message": message,
                "date_done": fields.Datetime.now() if state == "sent" else False,
            }
        )
        vals = {"ar_delivery_state": state}
        if state == "sent":
            vals["ar_delivered_on"] = fields.Datetime.now()
        move.sudo().write(vals)
        move._message_log(body=log._ar_chatter_body())
        return 200, "OK"


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ar_buyer_po_line = fields.Integer(
        string="PO Line",
        help="Line number of the buyer's purchase order that this invoice line bills (cXML networks match on it).",
    )
    ar_supplier_part = fields.Char(
        string="Supplier Part Number",
        help="Our part number as the buyer's purchase order states it (cXML SupplierPartID). "
        "Filled from the product's Internal Reference when empty.",
    )
