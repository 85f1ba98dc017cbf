from odoo import models
from odoo.tools import html2plaintext


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
        return constraints
