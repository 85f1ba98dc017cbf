from odoo import api, fields, models
from odoo.tools import SQL

AGEING_SELECTION = [
    ("not_due", "Not due"),
    ("1_30", "1-30 days"),
    ("31_60", "31-60 days"),
    ("61_90", "61-90 days"),
    ("90_plus", "Over 90 days"),
    ("paid", "Paid"),
]


class ArSuiteReceivableReport(models.Model):
    """One row per customer invoice/credit-note instalment (its receivable line): the data
    behind the AR dashboard, grouped and drilled into with Odoo's pivot/graph/list views.

    The columns that come from the feature modules (dispute, dunning level, Peppol state,
    autopay) are read from their fields when those fields exist, so the report keeps working
    while a module is being changed; the umbrella depends on all three.
    """

    _name = "ar.suite.receivable.report"
    _description = "AR Suite: receivables analysis"
    _auto = False
    _rec_name = "move_id"
    _order = "date_maturity, id"
    # pending ORM writes on these fields are flushed before the view is read
    _depends = {
        "account.move": [
            "move_type",
            "state",
            "payment_state",
            "invoice_date",
            "invoice_date_due",
            "commercial_partner_id",
            "ar_dispute_state",
            "ar_peppol_state",
            "ar_dunning_level_id",
        ],
        "account.move.line": [
            "move_id",
            "company_id",
            "company_currency_id",
            "date",
            "date_maturity",
            "balance",
            "amount_residual",
            "display_type",
            "parent_state",
        ],
        "res.partner": ["country_id", "ar_segment", "ar_autopay"],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    move_type = fields.Selection(
        [("out_invoice", "Customer Invoice"), ("out_refund", "Customer Credit Note")],
        string="Type",
        readonly=True,
    )
    payment_state = fields.Selection(
        selection=lambda self: self.env["account.move"]._fields["payment_state"].selection,
        readonly=True,
    )
    invoice_date = fields.Date(readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    ageing = fields.Selection(AGEING_SELECTION, readonly=True)
    segment = fields.Selection(
        [("enterprise", "Enterprise"), ("mid_market", "Mid-market"), ("small", "Small business")],
        readonly=True,
    )
    amount_total = fields.Monetary(string="Invoiced", currency_field="currency_id", readonly=True)
    amount_residual = fields.Monetary(string="Open", currency_field="currency_id", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue", currency_field="currency_id", readonly=True)
    amount_expected_30 = fields.Monetary(
        string="Expected in 30 days",
        currency_field="currency_id",
        readonly=True,
        help="Open amount falling due between today and 30 days from now.",
    )
    is_open = fields.Boolean(readonly=True)
    is_overdue = fields.Boolean(readonly=True)
    due_next_30 = fields.Boolean(string="Due in the next 30 days", readonly=True)
    dispute_state = fields.Selection(
        [("open", "Disputed"), ("accepted", "Dispute accepted"), ("rejected", "Dispute rejected")],
        readonly=True,
    )
    dunning_level = fields.Char(readonly=True)
    peppol_state = fields.Char(readonly=True)
    autopay = fields.Boolean(readonly=True)

    # ------------------------------------------------------------------ SQL
    @api.model
    def _ar_column(self, model, fname, alias):
        """``alias.column`` of a stored field when it exists, else None (a module not installed yet)."""
        field = self.env[model]._fields.get(fname)
        if field is None or not field.store or field.company_dependent:
            return None
        return SQL.identifier(alias, fname)

    @api.model
    def _ar_optional_columns(self):
        move = "account.move"
        dispute = self._ar_column(move, "ar_dispute_state", "am") or SQL("NULL::varchar")
        peppol = self._ar_column(move, "ar_peppol_state", "am") or SQL("NULL::varchar")
        dunning = self._ar_dunning_level_sql()
        autopay = self._ar_autopay_sql()
        return SQL(
            "%s AS dispute_state, %s AS peppol_state, %s AS dunning_level, %s AS autopay",
            dispute,
            peppol,
            dunning,
            autopay,
        )

    @api.model
    def _ar_dunning_level_sql(self):
        """The name of the last dunning level reached by the invoice (ar_dunning), else NULL."""
        field = self.env["account.move"]._fields.get("ar_dunning_level_id")
        if field is None or not field.store:
            return SQL("NULL::varchar")
        level = self.env[field.comodel_name]
        if level._fields["name"].translate:
            name = SQL("COALESCE(lvl.name->>%s, lvl.name->>'en_US')", self.env.lang or "en_US")
        else:
            name = SQL("lvl.name")
        return SQL("(SELECT %s FROM %s lvl WHERE lvl.id = am.ar_dunning_level_id)", name, SQL.identifier(level._table))

    @api.model
    def _ar_autopay_sql(self):
        """Whether the customer pays automatically (saved token or SEPA mandate), else FALSE."""
        field = self.env["res.partner"]._fields.get("ar_autopay")
        if field is None or not (field.store or field.company_dependent):
            return SQL("FALSE")
        if field.company_dependent:
            return SQL("COALESCE((cp.ar_autopay ->> aml.company_id::text)::boolean, FALSE)")
        return SQL("COALESCE(cp.ar_autopay, FALSE)")

    @api.model
    def _ar_segment_sql(self):
        field = self.env["res.partner"]._fields.get("ar_segment")
        if field is None:
            return SQL("NULL::varchar")
        if field.company_dependent:
            return SQL("(cp.ar_segment ->> aml.company_id::text)")
        return SQL("cp.ar_segment")

    @property
    def _table_query(self):
        due = SQL("COALESCE(aml.date_maturity, am.invoice_date_due, aml.date)")
        return SQL(
            """
            SELECT aml.id AS id,
                   aml.move_id AS move_id,
                   am.commercial_partner_id AS partner_id,
                   aml.company_id AS company_id,
                   aml.company_currency_id AS currency_id,
                   cp.country_id AS country_id,
                   am.move_type AS move_type,
                   am.payment_state AS payment_state,
                   am.invoice_date AS invoice_date,
                   %(due)s AS date_maturity,
                   CASE WHEN aml.amount_residual != 0 AND %(due)s < CURRENT_DATE
                        THEN CURRENT_DATE - %(due)s ELSE 0 END AS days_overdue,
                   CASE WHEN aml.amount_residual = 0 THEN 'paid'
                        WHEN %(due)s >= CURRENT_DATE THEN 'not_due'
                        WHEN CURRENT_DATE - %(due)s <= 30 THEN '1_30'
                        WHEN CURRENT_DATE - %(due)s <= 60 THEN '31_60'
                        WHEN CURRENT_DATE - %(due)s <= 90 THEN '61_90'
                        ELSE '90_plus' END AS ageing,
                   %(segment)s AS segment,
                   aml.balance AS amount_total,
                   aml.amount_residual AS amount_residual,
                   CASE WHEN %(due)s < CURRENT_DATE THEN aml.amount_residual ELSE 0 END AS amount_overdue,
                   CASE WHEN %(due)s BETWEEN CURRENT_DATE AND CURRENT_DATE + 30
                        THEN aml.amount_residual ELSE 0 END AS amount_expected_30,
                   aml.amount_residual != 0 AS is_open,
                   aml.amount_residual != 0 AND %(due)s < CURRENT_DATE AS is_overdue,
                   aml.amount_residual != 0 AND %(due)s BETWEEN CURRENT_DATE AND CURRENT_DATE + 30
                        AS due_next_30,
                   %(optional)s
              FROM account_move_line aml
              JOIN account_move am ON am.id = aml.move_id
              JOIN res_partner cp ON cp.id = am.commercial_partner_id
             WHERE aml.parent_state = 'posted'
               AND aml.display_type = 'payment_term'
               AND am.move_type IN ('out_invoice', 'out_refund')
            """,
            due=due,
            segment=self._ar_segment_sql(),
            optional=self._ar_optional_columns(),
        )

    # ------------------------------------------------------------------ actions
    def action_open_move(self):
        self.ensure_one()
        return self.move_id.get_formview_action()
