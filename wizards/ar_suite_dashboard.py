from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import format_amount

from ..models.ar_suite_receivable_report import AGEING_SELECTION


def countback_dso(open_balance, sales_by_period, period_days=30):
    """Days sales outstanding by the countback method.

    ``sales_by_period`` lists the credit sales of the consecutive periods going back from today
    (most recent first), each ``period_days`` long. The open balance is "paid back" period by
    period: each period fully covered adds its days, the last one a pro-rata share.
    """
    if open_balance <= 0:
        return 0.0
    days = 0.0
    remaining = open_balance
    for sales in sales_by_period:
        if sales <= 0:
            days += period_days
            continue
        if remaining <= sales:
            return days + period_days * remaining / sales
        remaining -= sales
        days += period_days
    return days


class ArSuiteDashboard(models.TransientModel):
    """The accountant's one-screen view of the receivables: KPIs with drill-down."""

    _name = "ar.suite.dashboard"
    _description = "AR Suite: receivables dashboard"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    dso_days = fields.Float(string="DSO (days)", compute="_compute_kpis", digits=(16, 1))
    amount_open = fields.Monetary(string="Open receivables", compute="_compute_kpis")
    amount_overdue = fields.Monetary(string="Overdue", compute="_compute_kpis")
    overdue_share = fields.Float(string="Overdue share (%)", compute="_compute_kpis", digits=(16, 1))
    amount_expected_30 = fields.Monetary(string="Cash expected in 30 days", compute="_compute_kpis")
    amount_not_due = fields.Monetary(string="Not due", compute="_compute_kpis")
    amount_1_30 = fields.Monetary(string="1-30 days", compute="_compute_kpis")
    amount_31_60 = fields.Monetary(string="31-60 days", compute="_compute_kpis")
    amount_61_90 = fields.Monetary(string="61-90 days", compute="_compute_kpis")
    amount_90_plus = fields.Monetary(string="Over 90 days", compute="_compute_kpis")
    dispute_open_count = fields.Integer(string="Open disputes", compute="_compute_kpis")
    amount_disputed = fields.Monetary(string="Disputed amount", compute="_compute_kpis")
    autopay_share = fields.Float(string="Autopay share (%)", compute="_compute_kpis", digits=(16, 1))
    autopay_customer_count = fields.Integer(string="Customers on autopay", compute="_compute_kpis")
    open_customer_count = fields.Integer(string="Customers with open items", compute="_compute_kpis")
    dunning_html = fields.Html(string="Amounts per dunning level", compute="_compute_kpis", sanitize=False)
    peppol_html = fields.Html(string="Peppol delivery states", compute="_compute_kpis", sanitize=False)
    promise_open_count = fields.Integer(string="Open promises to pay", compute="_compute_promises")
    promise_requested_count = fields.Integer(string="Promises to review", compute="_compute_promises")
    amount_promised = fields.Monetary(
        string="Under promise",
        compute="_compute_promises",
        help="What the invoices under an open promise to pay still owe (company currency).",
    )
    promise_resolved_count = fields.Integer(string="Promises kept or broken", compute="_compute_promises")
    promise_kept_share = fields.Float(
        string="Promises kept (%)",
        compute="_compute_promises",
        digits=(16, 1),
        help="Promises kept among those kept or broken in the last 12 months.",
    )
    plan_running_count = fields.Integer(string="Running payment plans", compute="_compute_plans")
    plan_proposed_count = fields.Integer(string="Payment plans to review", compute="_compute_plans")
    amount_under_plan = fields.Monetary(
        string="Under payment plan",
        compute="_compute_plans",
        help="What the instalments of running payment plans still owe (company currency).",
    )
    amount_under_arrangement = fields.Monetary(
        string="Under arrangement",
        compute="_compute_plans",
        help="Under an open promise to pay or a running payment plan: held out of the reminders while kept.",
    )
    plan_resolved_count = fields.Integer(string="Plans completed or broken", compute="_compute_plans")
    plan_completed_share = fields.Float(
        string="Plans completed (%)",
        compute="_compute_plans",
        digits=(16, 1),
        help="Payment plans completed among those completed or broken in the last 12 months.",
    )
    arrangement_week_html = fields.Html(
        string="Cash expected from arrangements per week", compute="_compute_plans", sanitize=False
    )
    credit_over_limit_count = fields.Integer(string="Customers over their credit limit", compute="_compute_credit")
    credit_over_limit_exposure = fields.Monetary(string="Exposure over the limit", compute="_compute_credit")
    credit_exposure = fields.Monetary(string="Credit exposure", compute="_compute_credit")
    credit_grade_html = fields.Html(string="Customers per risk grade", compute="_compute_credit", sanitize=False)

    @api.depends("company_id")
    def _compute_display_name(self):
        for dash in self:
            dash.display_name = self.env._("Receivables Dashboard")

    # ------------------------------------------------------------------ KPIs
    def _report_domain(self, *extra):
        self.ensure_one()
        return Domain.AND([Domain("company_id", "=", self.company_id.id), *[Domain(d) for d in extra]])

    @api.depends("company_id")
    def _compute_kpis(self):
        report = self.env["ar.suite.receivable.report"]
        today = fields.Date.context_today(self)
        for dash in self:
            open_domain = dash._report_domain([("is_open", "=", True)])
            [(amount_open, overdue, expected, customers)] = report._read_group(
                open_domain,
                aggregates=[
                    "amount_residual:sum",
                    "amount_overdue:sum",
                    "amount_expected_30:sum",
                    "partner_id:count_distinct",
                ],
            )
            dash.amount_open = amount_open
            dash.amount_overdue = overdue
            dash.overdue_share = 100.0 * overdue / amount_open if amount_open else 0.0
            dash.amount_expected_30 = expected
            dash.open_customer_count = customers
            buckets = dict(report._read_group(open_domain, ["ageing"], ["amount_residual:sum"]))
            for key, _label in AGEING_SELECTION:
                if key != "paid":
                    dash[f"amount_{key}"] = buckets.get(key, 0.0)
            # DSO (countback) over the sales of the last twelve 30-day periods
            start = today - timedelta(days=360)
            sales = report._read_group(
                dash._report_domain([("invoice_date", ">", start), ("invoice_date", "<=", today)]),
                ["invoice_date:day"],
                ["amount_total:sum"],
            )
            periods = [0.0] * 12
            for day, amount in sales:
                index = min((today - day).days // 30, 11)
                periods[index] += amount
            dash.dso_days = countback_dso(amount_open, periods)
            # disputes
            [(disputes, disputed)] = report._read_group(
                dash._report_domain([("dispute_state", "=", "open")]),
                aggregates=["move_id:count_distinct", "amount_residual:sum"],
            )
            dash.dispute_open_count = disputes
            dash.amount_disputed = disputed
            # autopay: share of the customers with open items that pay automatically
            [(autopay_customers,)] = report._read_group(
                Domain.AND([open_domain, [("autopay", "=", True)]]), aggregates=["partner_id:count_distinct"]
            )
            dash.autopay_customer_count = autopay_customers
            dash.autopay_share = 100.0 * autopay_customers / customers if customers else 0.0
            dash.dunning_html = dash._html_table(
                dash._sorted_by_ladder(
                    report._read_group(
                        open_domain, ["dunning_level"], ["move_id:count_distinct", "amount_residual:sum"]
                    )
                ),
                self.env._("Dunning level"),
                self.env._("No level yet"),
            )
            dash.peppol_html = dash._html_table(
                report._read_group(
                    dash._report_domain([("peppol_state", "!=", False)]),
                    ["peppol_state"],
                    ["move_id:count_distinct", "amount_total:sum"],
                ),
                self.env._("Peppol state"),
                self.env._("Not sent by Peppol"),
            )

    @api.depends("company_id")
    def _compute_promises(self):
        """ar_dunning's promises to pay: how many, what they hold, how many were kept (a few grouped queries)."""
        Promise = self.env["ar.dunning.promise"]
        Move = self.env["account.move"]
        since = fields.Date.context_today(self) - timedelta(days=365)
        for dash in self:
            company = Domain("company_id", "=", dash.company_id.id)
            # the holding promises, and those kept or broken in the last 12 months, per state
            counts = dict(
                Promise._read_group(
                    company
                    & (
                        Domain("state", "in", ("requested", "open"))
                        | (Domain("state", "in", ("kept", "broken")) & Domain("date_resolved", ">=", since))
                    ),
                    ["state"],
                    ["__count"],
                )
            )
            dash.promise_open_count = counts.get("open", 0)
            dash.promise_requested_count = counts.get("requested", 0)
            resolved = counts.get("kept", 0) + counts.get("broken", 0)
            dash.promise_resolved_count = resolved
            dash.promise_kept_share = 100.0 * counts.get("kept", 0) / resolved if resolved else 0.0
            [(promised,)] = Move._read_group(
                company & Domain("ar_dunning_promise_line_ids", "any", [("state", "=", "open")]),
                aggregates=["amount_residual_signed:sum"],
            )
            # promises keyed in without invoices hold the amount promised
            [(whole,)] = Promise._read_group(
                company & Domain("state", "=", "open") & Domain("line_ids", "=", False), aggregates=["amount:sum"]
            )
            dash.amount_promised = promised + whole

    @api.depends("company_id", "amount_promised")
    def _compute_plans(self):
        """ar_dunning's payment plans: running, to review, completed; cash expected from arrangements."""
        Plan = self.env["ar.dunning.plan"]
        Line = self.env["account.move.line"]
        Kpi = self.env["ar.dunning.kpi"]
        since = fields.Date.context_today(self) - timedelta(days=365)
        for dash in self:
            company = Domain("company_id", "=", dash.company_id.id)
            counts = dict(
                Plan._read_group(
                    company
                    & (
                        Domain("state", "in", ("proposed", "active", "late"))
                        | (Domain("state", "in", ("completed", "broken")) & Domain("date_resolved", ">=", since))
                    ),
                    ["state"],
                    ["__count"],
                )
            )
            dash.plan_running_count = counts.get("active", 0) + counts.get("late", 0)
            dash.plan_proposed_count = counts.get("proposed", 0)
            resolved = counts.get("completed", 0) + counts.get("broken", 0)
            dash.plan_resolved_count = resolved
            dash.plan_completed_share = 100.0 * counts.get("completed", 0) / resolved if resolved else 0.0
            # the open due lines of running plans, in company currency
            [(planned,)] = Line._read_group(
                company
                & Domain("display_type", "=", "payment_term")
                & Domain("reconciled", "=", False)
                & Domain("parent_state", "=", "posted")
                & Domain("move_id.ar_dunning_plan_invoice_ids", "any", [("state", "in", ("active", "late"))]),
                aggregates=["amount_residual:sum"],
            )
            dash.amount_under_plan = planned
            dash.amount_under_arrangement = planned + dash.amount_promised
            weeks = Kpi._ar_arrangement_cash_by_week(dash.company_id, weeks=8)
            dash.arrangement_week_html = dash._html_table(
                [(fields.Date.to_string(start), "", amount) for start, amount in weeks if amount],
                self.env._("Week from"),
                "",
                count_label=" ",
            )

    def action_open_plans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_dunning.ar_dunning_plan_action")
        action["domain"] = [("company_id", "=", self.company_id.id)]
        action["context"] = {"search_default_group_state": 1}
        return action

    def action_open_promises(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_dunning.ar_dunning_promise_action")
        action["domain"] = [("company_id", "=", self.company_id.id)]
        action["context"] = {"search_default_group_state": 1}
        return action

    @api.depends("company_id")
    def _compute_credit(self):
        """Credit monitoring's last nightly assessment (ar_dunning's ar.credit.risk), in one query."""
        risk = self.env["ar.credit.risk"]
        for dash in self:
            rows = risk._read_group(
                [("company_id", "=", dash.company_id.id)],
                ["grade", "over_limit"],
                ["__count", "exposure:sum", "credit_limit:sum"],
            )
            per_grade = {}
            over_count = over_exposure = exposure = 0.0
            for grade, over, count, amount, limit in rows:
                exposure += amount
                if over:
                    over_count += count
                    over_exposure += amount - limit
                total = per_grade.setdefault(grade, [0, 0.0])
                total[0] += count
                total[1] += amount
            dash.credit_over_limit_count = int(over_count)
            dash.credit_over_limit_exposure = over_exposure
            dash.credit_exposure = exposure
            dash.credit_grade_html = dash._html_table(
                [
                    (grade, count, amount)
                    for grade, (count, amount) in sorted(per_grade.items(), key=lambda r: r[0] or "")
                ],
                self.env._("Risk grade"),
                self.env._("Not assessed"),
                count_label=self.env._("Customers"),
            )

    def _sorted_by_ladder(self, rows):
        """Dunning rows in ladder order (no level first), not alphabetically."""
        self.ensure_one()
        levels = self.env["ar.dunning.level"].search([("company_id", "=", self.company_id.id)])
        rank = {level.name: (level.offset_days, level.sequence) for level in levels}
        return sorted(rows, key=lambda row: (row[0] is not False and row[0] is not None, rank.get(row[0], (0, 0))))

    def _html_table(self, rows, title, empty_label, count_label=None):
        """A small read-only table (label, invoices or ``count_label``, amount) for the dashboard."""
        self.ensure_one()
        if not rows:
            return Markup("<p class='text-muted'>%s</p>") % self.env._("Nothing to show yet.")
        labels = self._selection_labels()
        body = Markup().join(
            Markup("<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td></tr>")
            % (
                labels.get(key, key) if key else empty_label,
                count,
                format_amount(self.env, amount, self.currency_id),
            )
            for key, count, amount in rows
        )
        return Markup(
            "<table class='table table-sm o_ar_suite_table'><thead><tr><th>%s</th>"
            "<th class='text-end'>%s</th><th class='text-end'>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (escape(title), count_label or self.env._("Invoices"), self.env._("Amount"), body)

    def _selection_labels(self):
        """Readable labels of the Peppol states when ar_peppol_edi declares them as a selection."""
        labels = {}
        field = self.env["account.move"]._fields.get("ar_peppol_state")
        if field is not None and field.type == "selection":
            labels.update(dict(field._description_selection(self.env)))
        return labels

    # ------------------------------------------------------------------ actions
    @api.model
    def action_open_dashboard(self):
        dashboard = self.create({"company_id": self.env.company.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Receivables Dashboard"),
            "res_model": self._name,
            "res_id": dashboard.id,
            "view_mode": "form",
            "views": [(self.env.ref("ar_suite.ar_suite_dashboard_view_form").id, "form")],
            "target": "current",
        }

    def action_refresh(self):
        self.ensure_one()
        return self.action_open_dashboard()

    def action_drill_credit(self):
        """Open credit monitoring: the customers over their limit (``ar_drill`` = over_limit) or all, per grade."""
        self.ensure_one()
        over_limit = self.env.context.get("ar_drill") == "over_limit"
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_dunning.ar_credit_risk_action")
        action["domain"] = [("company_id", "=", self.company_id.id)] + (
            [("over_limit", "=", True)] if over_limit else []
        )
        action["context"] = {} if over_limit else {"group_by": ["grade"]}
        return action

    def action_drill(self):
        """Open the receivables analysis for the KPI named in the button's context ``ar_drill``."""
        self.ensure_one()
        drill = self.env.context.get("ar_drill", "open")
        company = [("company_id", "=", self.company_id.id)]
        spec = {
            "open": ([("is_open", "=", True)], ["partner_id"], "list", self.env._("Open receivables")),
            "overdue": ([("is_overdue", "=", True)], ["partner_id"], "list", self.env._("Overdue receivables")),
            "ageing": ([("is_open", "=", True)], ["ageing"], "pivot", self.env._("Overdue ageing")),
            "expected": (
                [("due_next_30", "=", True)],
                ["date_maturity:week"],
                "graph",
                self.env._("Cash expected in 30 days"),
            ),
            "dunning": ([("is_open", "=", True)], ["dunning_level"], "pivot", self.env._("Amounts per dunning level")),
            "disputes": ([("dispute_state", "=", "open")], ["partner_id"], "list", self.env._("Open disputes")),
            "peppol": (
                [("peppol_state", "!=", False)],
                ["peppol_state"],
                "graph",
                self.env._("Peppol delivery states"),
            ),
            "autopay": (
                [("is_open", "=", True), ("autopay", "=", True)],
                ["partner_id"],
                "list",
                self.env._("Autopay customers"),
            ),
            "dso": (
                [("invoice_date", ">", fields.Date.context_today(self) - timedelta(days=360))],
                ["invoice_date:month"],
                "graph",
                self.env._("Credit sales (DSO basis)"),
            ),
        }[drill]
        domain, groupby, first_view, name = spec
        views = ["list", "pivot", "graph"]
        views.remove(first_view)
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "ar.suite.receivable.report",
            "view_mode": ",".join([first_view, *views]),
            "views": [(False, v) for v in [first_view, *views]],
            "domain": company + domain,
            "context": {"group_by": groupby, "pivot_row_groupby": groupby, "graph_groupbys": groupby},
            "target": "current",
        }
