import calendar
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..tools.dunning_level import ageing_bucket, collection_effectiveness, dso_countback


class ArDunningKpi(models.Model):
    _name = "ar.dunning.kpi"
    _description = "Receivable KPIs per Customer"
    _order = "company_id, overdue desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    company_id = fields.Many2one("res.company", required=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True, help="Empty: the company as a whole.")
    scope = fields.Selection([("partner", "Customer"), ("company", "Company")], required=True, default="partner")
    date = fields.Date(required=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    receivable = fields.Monetary(aggregator="sum")
    overdue = fields.Monetary(aggregator="sum")
    not_due = fields.Monetary(aggregator="sum")
    d1_30 = fields.Monetary(aggregator="sum", string="1-30 Days")
    d31_60 = fields.Monetary(aggregator="sum", string="31-60 Days")
    d61_90 = fields.Monetary(aggregator="sum", string="61-90 Days")
    d90 = fields.Monetary(aggregator="sum", string="Over 90 Days")
    sales_12m = fields.Monetary(string="Sales (12 Months)", aggregator="sum")
    dso = fields.Float(string="DSO (Countback)", aggregator="avg", digits=(16, 1))
    cei = fields.Float(
        string="CEI (%)", aggregator="avg", digits=(16, 1), help="Collection effectiveness index over 12 months."
    )
    on_time_share = fields.Float(string="Paid on Time (%)", aggregator="avg", digits=(16, 1))
    avg_days_late = fields.Float(string="Average Days Late", aggregator="avg", digits=(16, 1))
    promise_kept_share = fields.Float(
        string="Promises Kept (%)",
        aggregator="avg",
        digits=(16, 1),
        help="Promises to pay kept among those kept or broken over 12 months "
        "(0 when none was resolved: see Promises Resolved).",
    )
    promise_count = fields.Integer(string="Promises Resolved", aggregator="sum")
    plan_completed_share = fields.Float(
        string="Plans Completed (%)",
        aggregator="avg",
        digits=(16, 1),
        help="Payment plans completed among those completed or broken over 12 months "
        "(0 when none was resolved: see Plans Resolved).",
    )
    plan_count = fields.Integer(string="Plans Resolved", aggregator="sum")
    arrangement_amount = fields.Monetary(
        string="Under Arrangement",
        aggregator="sum",
        help="What the invoices under an open promise to pay or a running payment plan still owe.",
    )
    arrangement_expected_week = fields.Monetary(
        string="Expected This Week (Arrangements)",
        aggregator="sum",
        help="Cash expected in the next 7 days from promises to pay and payment plan instalments.",
    )

    @api.model
    def _cron_refresh(self):
        for company in self.env["res.company"].search([("active", "=", True)]):
            self.with_company(company)._refresh()

    def action_refresh(self):
        self._refresh()
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def _refresh(self, on_date=None):
        """Recompute the KPIs of the current company in a bounded number of queries."""
        company = self.env.company
        on_date = on_date or fields.Date.context_today(self)
        since = on_date - timedelta(days=365)
        self.search([("company_id", "=", company.id)]).unlink()
        Line = self.env["account.move.line"]
        base = [
            ("company_id", "=", company.id),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
        ]
        open_lines = Line.search_fetch(
            [*base, ("reconciled", "=", False), ("amount_residual", "!=", 0), ("partner_id", "!=", False)],
            ["partner_id", "date_maturity", "date", "amount_residual"],
        )
        stats = defaultdict(lambda: defaultdict(float))
        for line in open_lines:
            partner = line.partner_id.commercial_partner_id.id
            days = (on_date - (line.date_maturity or line.date)).days
            s = stats[partner]
            s["receivable"] += line.amount_residual
            s[ageing_bucket(days)] += line.amount_residual
            if days > 0:
                s["overdue"] += line.amount_residual
        period = Line._read_group(
            [*base, ("date", ">", since), ("date", "<=", on_date), ("partner_id", "!=", False)],
            ["partner_id"],
            ["debit:sum", "credit:sum"],
        )
        for partner, debit, credit in period:
            s = stats[partner.commercial_partner_id.id]
            s["debit"] += debit
            s["credit"] += credit
        month_start = on_date.replace(day=1)
        monthly = self.env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("invoice_date", ">", since),
                ("invoice_date", "<=", on_date),
            ],
            ["commercial_partner_id", "invoice_date:month"],
            ["amount_total_signed:sum"],
        )
        sales = defaultdict(dict)
        for partner, month, amount in monthly:
            sales[partner.id][month] = amount
        months = []
        cursor = month_start
        for _i in range(12):
            month_days = calendar.monthrange(cursor.year, cursor.month)[1]
            days = (on_date - cursor).days + 1 if cursor == month_start else month_days
            months.append((cursor, days))
            cursor = (cursor - timedelta(days=1)).replace(day=1)
        promises = self._promise_stats(company, since)
        plans, arrangements = self._plan_stats(company, since), self._arrangement_stats(company, on_date)
        # a customer under arrangement gets its row (its receivable makes one anyway)
        stats.update({pid: defaultdict(float) for pid in arrangements if pid not in stats})
        partners = self.env["res.partner"].browse(list(stats))
        history = partners.with_company(company)._ar_dunning_history(on_date) if partners else {}
        vals_list = []
        totals = defaultdict(float)
        total_sales = defaultdict(float)
        for pid, s in stats.items():
            series = [(sales[pid].get(m, 0.0), d) for m, d in months]
            for m, _d in months:
                total_sales[m] += sales[pid].get(m, 0.0)
            h = history.get(pid, {"avg_days_late": 0.0, "share_late": 0.0})
            vals = self._kpi_vals(company, on_date, s, series, h) | {"partner_id": pid}
            vals |= self._promise_vals(*promises.get(pid, (0, 0))) | self._arrangement_vals(
                [plans.get(pid, (0, 0))], [arrangements.get(pid, (0.0, 0.0))]
            )
            vals_list.append(vals)
            for key in ("receivable", "overdue", "not_due", "d1_30", "d31_60", "d61_90", "d90", "debit", "credit"):
                totals[key] += s[key]
        if stats:
            company_vals = self._kpi_vals(
                company,
                on_date,
                totals,
                [(total_sales[m], d) for m, d in months],
                {
                    "avg_days_late": sum(v["avg_days_late"] for v in vals_list) / len(vals_list),
                    "share_late": 1 - sum(v["on_time_share"] for v in vals_list) / len(vals_list) / 100,
                },
            )
            company_vals |= (
                {"scope": "company"}
                | self._promise_vals(
                    sum(kept for kept, _broken in promises.values()),
                    sum(broken for _kept, broken in promises.values()),
                )
                | self._arrangement_vals(plans.values(), arrangements.values())
            )
            vals_list.append(company_vals)
        return self.create(vals_list)

    @api.model
    def _promise_stats(self, company, since):
        """{customer id: (kept, broken)} promises to pay resolved since ``since``."""
        stats = {}
        for partner, state, count in self.env["ar.dunning.promise"]._read_group(
            [("company_id", "=", company.id), ("state", "in", ("kept", "broken")), ("date_resolved", ">=", since)],
            ["partner_id", "state"],
            ["__count"],
        ):
            kept, broken = stats.get(partner.id, (0, 0))
            stats[partner.id] = (kept + count, broken) if state == "kept" else (kept, broken + count)
        return stats

    @api.model
    def _plan_stats(self, company, since):
        """{customer id: (completed, broken)} payment plans resolved since ``since``."""
        stats = {}
        for partner, state, count in self.env["ar.dunning.plan"]._read_group(
            [("company_id", "=", company.id), ("state", "in", ("completed", "broken")), ("date_resolved", ">=", since)],
            ["partner_id", "state"],
            ["__count"],
        ):
            done, broken = stats.get(partner.id, (0, 0))
            stats[partner.id] = (done + count, broken) if state == "completed" else (done, broken + count)
        return stats

    @api.model
    def _arrangement_vals(self, plans, arrangements):
        """KPI values of payment plans [(completed, broken)] and arrangements [(under, this week)], summed."""
        completed = sum(done for done, _broken in plans)
        total = completed + sum(broken for _done, broken in plans)
        return {
            "plan_count": total,
            "plan_completed_share": round(100.0 * completed / total, 1) if total else 0.0,
            "arrangement_amount": sum(under for under, _week in arrangements),
            "arrangement_expected_week": sum(week for _under, week in arrangements),
        }

    @api.model
    def _arrangement_cash(self, company, date_from, date_to):
        """[(customer id, date, amount)] expected from arrangements between the dates (inclusive), company
        currency: the open promises' invoices by their date, the open due lines of running payment plans by
        their due date (what they still owe)."""
        rows = []
        Line = self.env["account.move.line"]
        promise_lines = Line.search_fetch(
            [
                ("company_id", "=", company.id),
                ("account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("parent_state", "=", "posted"),
                ("move_id.ar_dunning_promise_line_ids", "any", [("state", "=", "open")]),
            ],
            ["move_id", "amount_residual", "partner_id"],
        )
        for line in promise_lines:
            promise = line.move_id.ar_dunning_promise_line_ids.filtered(lambda p: p.state == "open")[:1].promise_id
            if date_from <= promise.promise_date <= date_to:
                rows.append((line.partner_id.commercial_partner_id.id, promise.promise_date, line.amount_residual))
        plan_lines = Line.search_fetch(
            [
                ("company_id", "=", company.id),
                ("reconciled", "=", False),
                ("parent_state", "=", "posted"),
                ("date_maturity", ">=", date_from),
                ("date_maturity", "<=", date_to),
                ("move_id.ar_dunning_plan_invoice_ids", "any", [("state", "in", ("active", "late"))]),
                ("display_type", "=", "payment_term"),
            ],
            ["date_maturity", "amount_residual", "partner_id"],
        )
        rows += [(ln.partner_id.commercial_partner_id.id, ln.date_maturity, ln.amount_residual) for ln in plan_lines]
        return rows

    @api.model
    def _arrangement_stats(self, company, on_date):
        """{customer id: (amount under arrangement, expected in the next 7 days)} (company currency)."""
        stats = defaultdict(lambda: [0.0, 0.0])
        for partner, amount in self.env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                "|",
                ("ar_dunning_promise_line_ids", "any", [("state", "=", "open")]),
                ("ar_dunning_plan_invoice_ids", "any", [("state", "in", ("active", "late"))]),
            ],
            ["commercial_partner_id"],
            ["amount_residual_signed:sum"],
        ):
            stats[partner.id][0] += amount
        for pid, _date, amount in self._arrangement_cash(company, on_date, on_date + timedelta(days=6)):
            stats[pid][1] += amount
        return {pid: tuple(values) for pid, values in stats.items()}

    @api.model
    def _ar_arrangement_cash_by_week(self, company=None, on_date=None, weeks=8):
        """[(first day of the week, amount)] cash expected from promises and plan instalments, week by week
        from ``on_date`` (the AR dashboard's series; company currency)."""
        company = company or self.env.company
        on_date = on_date or fields.Date.context_today(self)
        totals = [0.0] * weeks
        for _pid, day, amount in self._arrangement_cash(company, on_date, on_date + timedelta(days=7 * weeks - 1)):
            totals[(day - on_date).days // 7] += amount
        return [(on_date + timedelta(days=7 * k), company.currency_id.round(total)) for k, total in enumerate(totals)]

    @api.model
    def _promise_vals(self, kept, broken):
        total = kept + broken
        return {"promise_count": total, "promise_kept_share": round(100.0 * kept / total, 1) if total else 0.0}

    @api.model
    def _kpi_vals(self, company, on_date, s, series, history):
        end_current = s["not_due"]
        begin = s["receivable"] - s["debit"] + s["credit"]
        return {
            "company_id": company.id,
            "date": on_date,
            "scope": "partner",
            "receivable": s["receivable"],
            "overdue": s["overdue"],
            "not_due": s["not_due"],
            "d1_30": s["d1_30"],
            "d31_60": s["d31_60"],
            "d61_90": s["d61_90"],
            "d90": s["d90"],
            "sales_12m": sum(amount for amount, _d in series),
            "dso": dso_countback(s["receivable"], series),
            "cei": collection_effectiveness(begin, s["debit"], s["receivable"], end_current),
            "on_time_share": round((1 - history["share_late"]) * 100, 1),
            "avg_days_late": round(history["avg_days_late"], 1),
        }
