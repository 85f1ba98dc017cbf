from odoo import models
from odoo.tools import html2plaintext

from ..tools.peppol_ids import suggest_endpoint


class AccountEdiXmlUbl_Bis3(models.AbstractModel):
    _inherit = "account.edi.xml.ubl_bis3"

    # -------------------------------------------------------------------------
    # EXPORT: header
    # -------------------------------------------------------------------------

    def _add_invoice_header_nodes(self, document_node, vals):
        # EXTENDS 'account_edi_ubl_cii'
        result = super()._add_invoice_header_nodes(document_node, vals)
        invoice = vals["invoice"]
        # BT-25/BT-26: a credit note refers to the invoice it corrects (Peppol practice, and
        # NL-R-001), by number and issue date, whatever the supplier's country.
        origin = invoice.reversed_entry_id
        if vals["document_type"] == "credit_note" and origin and origin.name and origin.name != "/":
            document_node["cac:BillingReference"] = {
                "cac:InvoiceDocumentReference": {
                    "cbc:ID": {"_text": origin.name},
                    "cbc:IssueDate": {"_text": origin.invoice_date},
                }
            }
        # BT-10: the buyer's own reference (Leitweg-ID in Germany stays as Odoo sets it)
        buyer_reference = document_node.get("cbc:BuyerReference") or {}
        if not buyer_reference.get("_text") and invoice.ref:
            document_node["cbc:BuyerReference"] = {"_text": invoice.ref}
        return result

    def _add_invoice_payment_terms_nodes(self, document_node, vals):
        # EXTENDS 'account_edi_ubl_cii'
        # BT-20: always state the payment terms when money is due (BR-CO-25 asks for terms or a
        # due date); Odoo writes them only when the payment term has a note.
        result = super()._add_invoice_payment_terms_nodes(document_node, vals)
        invoice = vals["invoice"]
        note = (document_node.get("cac:PaymentTerms") or {}).get("cbc:Note", {}).get("_text")
        if note and note.strip():
            return result
        term = invoice.invoice_payment_term_id
        text = (html2plaintext(term.note) if term.note else "") or term.name
        if not text and invoice.invoice_date_due and invoice.move_type == "out_invoice":
            lang_invoice = invoice.with_context(lang=invoice.partner_id.lang)
            text = lang_invoice.env._("Payment due on %(date)s", date=invoice.invoice_date_due.isoformat())
        document_node["cac:PaymentTerms"] = {"cbc:Note": {"_text": text}} if text else None
        return result

    # -------------------------------------------------------------------------
    # EXPORT: parties
    # -------------------------------------------------------------------------

    def _get_party_node(self, vals):
        # EXTENDS 'account_edi_ubl_cii'
        party_node = super()._get_party_node(vals)
        commercial = vals["partner"].commercial_partner_id
        # PEPPOL-EN16931-R010/R020: the electronic address is mandatory. Odoo writes none when
        # the partner has no Peppol address; use the one its VAT or registry number gives, if
        # any (the export constraints refuse the document otherwise).
        if not (party_node.get("cbc:EndpointID") or {}).get("_text"):
            eas, endpoint = suggest_endpoint(commercial.country_code, commercial.vat, commercial.company_registry)
            if eas:
                party_node["cbc:EndpointID"] = {"_text": endpoint, "schemeID": eas}
        # PEPPOL-EN16931-R008 (no empty element): Odoo writes an empty legal CompanyID for a Dutch
        # partner known only by its VAT number (no KvK/OIN). BT-30/BT-47 are optional: leave them
        # out rather than empty (a Dutch supplier without one is refused by the constraints).
        legal = party_node.get("cac:PartyLegalEntity") or {}
        company_id = legal.get("cbc:CompanyID")
        if isinstance(company_id, dict) and not str(company_id.get("_text") or "").strip():
            legal["cbc:CompanyID"] = None
        for scheme in party_node.get("cac:PartyTaxScheme") or []:
            if isinstance(scheme, dict) and not str((scheme.get("cbc:CompanyID") or {}).get("_text") or "").strip():
                scheme["cbc:CompanyID"] = None
        return party_node

    # -------------------------------------------------------------------------
    # EXPORT: constraints, checked before any rule runs (clear errors first)
    # -------------------------------------------------------------------------

    def _export_invoice_constraints(self, invoice, vals):
        # EXTENDS 'account_edi_ubl_cii'
        constraints = super()._export_invoice_constraints(invoice, vals)
        labels = {
            "street": self.env._("street"),
            "city": self.env._("city"),
            "zip": self.env._("postal code"),
            "country_id": self.env._("country"),
        }
        for role, partner in (("supplier", vals["supplier"]), ("customer", vals["customer"])):
            missing = [label for field, label in labels.items() if not partner[field]]
            if missing:
                constraints[f"ar_peppol_{role}_address"] = self.env._(
                    "The address of %(partner)s is incomplete: %(missing)s. Complete it on the contact.",
                    partner=partner.display_name,
                    missing=", ".join(missing),
                )
        # PEPPOL-EN16931-R010: a buyer without any electronic address cannot be invoiced on Peppol
        customer = vals["customer"].commercial_partner_id
        if (
            not customer.peppol_endpoint
            and not suggest_endpoint(customer.country_code, customer.vat, customer.company_registry)[0]
        ):
            constraints["ar_peppol_customer_endpoint"] = self.env._(
                "%(partner)s has no Peppol address and none follows from its VAT or registry number: "
                "set its Peppol EAS and endpoint on the contact (Accounting tab).",
                partner=customer.display_name,
            )
        # NL-R-003: a Dutch supplier states its KvK or OIN number as legal registration
        supplier = vals["supplier"].commercial_partner_id
        if (
            supplier.country_code == "NL"
            and not supplier.company_registry
            and supplier.peppol_eas not in ("0106", "0190")
        ):
            constraints["ar_peppol_supplier_kvk"] = self.env._(
                "%(company)s is Dutch: Peppol requires its KvK (or OIN) number. Set the Company ID of the company.",
                company=supplier.display_name,
            )
        return constraints
