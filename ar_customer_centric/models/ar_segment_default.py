from odoo import api, fields, models

# Partner preference fields a segment default sets, by segment default field
PREFERENCE_MAP = {
    "sending_method": "invoice_sending_method",
    "fallback_sending_method": "ar_fallback_sending_method",
    "invoice_grouping": "ar_invoice_grouping",
    "statement_period": "ar_statement_period",
    "statement_day": "ar_statement_day",
    "email_pdf_only": "ar_email_pdf_only",
}


class ArSegmentDefault(models.Model):
    _name = "ar.segment.default"
    _description = "Customer Segment Default Preferences"
    _order = "company_id, segment"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    segment = fields.Selection(
        selection=lambda self: self.env["res.partner"]._fields["ar_segment"].selection, required=True
    )
    sending_method = fields.Selection(
        selection=lambda self: self.env["res.partner"]._selection_ar_fallback_sending_method(),
        string="Invoice sending",
        required=True,
        default="email",
    )
    fallback_sending_method = fields.Selection(
        selection=lambda self: self.env["res.partner"]._selection_ar_fallback_sending_method(),
        string="Fallback Sending",
    )
    invoice_grouping = fields.Selection(
        selection=lambda self: self.env["res.partner"]._fields["ar_invoice_grouping"].selection,
        default="single",
        required=True,
    )
    statement_period = fields.Selection(
        selection=lambda self: self.env["res.partner"]._fields["ar_statement_period"].selection,
        default="monthly",
    )
    statement_day = fields.Integer(default=1)
    email_pdf_only = fields.Boolean(string="E-mail the PDF Only")

    _segment_company_uniq = models.Constraint(
        "UNIQUE(company_id, segment)", "Each segment has one set of defaults per company."
    )

    def _ar_preference_values(self):
        self.ensure_one()
        return {partner_field: self[field] for field, partner_field in PREFERENCE_MAP.items()}

    @api.model
    def _ar_apply_to(self, partners, overwrite=True):
        """Write the defaults of their segment (current company) on ``partners``.

        Returns the partners updated. Without ``overwrite``, partners whose preferred channel
        is already set are left alone.
        """
        company = self.env.company
        defaults = {rec.segment: rec for rec in self.search([("company_id", "=", company.id)])}
        done = self.env["res.partner"]
        for segment, default in defaults.items():
            todo = partners.filtered(lambda p, s=segment: p.ar_segment == s)
            if not overwrite:
                todo = todo.filtered(lambda p: not p.invoice_sending_method)
            if todo:
                # the preference check runs once per partner below, with clear messages
                todo.with_company(company).with_context(ar_skip_preference_check=True).write(
                    default._ar_preference_values()
                )
                done |= todo
        return done
