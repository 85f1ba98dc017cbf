from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_structured_reference_type = fields.Selection(
        selection=[
            ("journal", "As set on the sales journal"),
            ("be", "Belgian structured communication (OGM/VCS)"),
            ("rf", "International creditor reference (RF, ISO 11649)"),
            ("nl", "Dutch payment reference (betalingskenmerk)"),
        ],
        string="Structured Payment Reference",
        default="journal",
        required=True,
        help="Reference printed on customer invoices and statements, with the EPC QR code, so "
        "that incoming payments are matched automatically.",
    )
    ar_segment_default_ids = fields.One2many("ar.segment.default", "company_id", string="Segment Defaults")
    ar_auto_send = fields.Boolean(
        string="Send Invoices Automatically",
        help="Queue every posted customer invoice for sending through the customer's channel.",
    )
