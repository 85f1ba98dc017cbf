from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_amount, split_every
from odoo.tools.misc import formatLang

from ..tools.credit_risk import (
    GRADES,
    dso_doubled,
    grade_dropped,
    next_dso_reference,
    reason_codes,
    risk_score,
    suggested_limit,
)
from ..tools.dunning_level import dso_countback, tone_score

GRADE_SELECTION = [(g, g) for g in GRADES]


def month_periods(on_date, count=12):
    """``[(first day of month, days counted)]`` from the current month (up to ``on_date``) backwards."""
    periods = []
    cursor = on_date.replace(day=1)
    for _i in range(count):
        next_month = (cursor + timedelta(days=32)).replace(day=1)
        days = (on_date - cursor).days + 1 if cursor == on_date.replace(day=1) else (next_month - cursor).days
        periods.append((cursor, days))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    return periods


class ArCreditRisk(models.Model):
    """Credit monitoring of one customer in one company: the nightly snapshot of exposure and risk."""

    _name = "ar.credit.risk"
    _description = "Customer Credit Risk"
    _order = "score desc, id"
    _check_company_auto = True
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Assessed On", readonly=True)
    grade = fields.Selection(GRADE_SELECTION, readonly=True, help="A: no concern … E: serious concern.")
    score = fields.Float(string="Risk Score", digits=(16, 1), readonly=True, aggregator="avg")
    reason_codes = fields.Json(
        readonly=True, help="The reasons of the grade as codes and figures, worded in the reader's language."
    )
    reasons = fields.Text(compute="_compute_reasons")
    behaviour_12m = fields.Float(string="Payment Behaviour (12 Months)", digits=(16, 1), readonly=True)
    behaviour_3m = fields.Float(string="Payment Behaviour (3 Months)", digits=(16, 1), readonly=True)
    open_amount = fields.Monetary(string="Open Receivables", readonly=True, aggregator="sum")
    overdue_amount = fields.Monetary(string="Overdue", readonly=True, aggregator="sum")
    draft_amount = fields.Monetary(string="Draft Invoices", readonly=True, aggregator="sum")
    to_invoice_amount = fields.Monetary(string="Ordered, Not Invoiced", readonly=True, aggregator="sum")
    exposure = fields.Monetary(string="Credit Exposure", readonly=True, aggregator="sum")
    credit_limit = fields.Monetary(readonly=True, aggregator="sum", help="Odoo's credit limit of the customer.")
    headroom = fields.Monetary(
        string="Left Within Limit", compute="_compute_headroom", help="Negative: over the limit."
    )
    over_limit = fields.Boolean(string="Over Credit Limit", readonly=True, index=True)
    overdue_share = fields.Float(string="Overdue Share (%)", digits=(16, 1), readonly=True)
    dso = fields.Float(string="DSO (Days)", digits=(16, 1), readonly=True)
    book_dso = fields.Float(string="Book DSO (Days)", digits=(16, 1), readonly=True)
    dso_reference = fields.Float(
        string="DSO Reference",
        digits=(16, 1),
        readonly=True,
        help="The DSO a doubling is measured from (lowest since the last alert).",
    )
    suggested_limit = fields.Monetary(readonly=True, help="A lower limit for a grade C, D or E.")
    history_ids = fields.One2many("ar.credit.risk.history", "risk_id", string="Changes", readonly=True)

    _partner_company_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id)", "A customer has one credit risk assessment per company."
    )

    @api.depends("reason_codes")
    @api.depends_context("lang")
    def _compute_reasons(self):
        for risk in self:
            risk.reasons = risk._render_reasons(risk.reason_codes, risk.currency_id)

    @api.depends("credit_limit", "exposure")
    def _compute_headroom(self):
        for risk in self:
            risk.headroom = risk.credit_limit - risk.exposure if risk.credit_limit else 0.0

    # ------------------------------------------------------------------ nightly recomputation
    @api.model
    def _cron_compute(self):
        for company in self.env["res.company"].search([("active", "=", True)]):
            if not self.with_company(company)._compute_company():
                return  # out of time: the cron is called again for the rest

    def action_recompute(self):
        """Recompute the assessments of the current company now (same code as the night), for a credit controller."""
        if not self.env.user.has_group("ar_dunning.group_credit_controller"):
            raise AccessError(self.env._("Only a credit controller can recompute the credit assessments."))
        self.env["ar.credit.risk"]._compute_company()
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def _compute_company(self, on_date=None, batch_size=200):
        """Assess every customer of the current company with receivables, drafts or an assessment.

        Batches of ``batch_size`` customers, each in a fixed number of queries; under the cron each
        batch is committed (``ir.cron._commit_progress``) and a run cut short by the cron's time
        limit resumes with the customers not assessed on ``on_date`` yet.

        :returns: False when the cron's time is up before the end
        """
        # sudo: the assessment is a snapshot of the whole book written by the system (nightly, or when a credit
        # controller asks); users only read it. Limited to the current company.
        risk_sudo = self.sudo()
        company = self.env.company
        on_date = on_date or fields.Date.context_today(self)
        candidates = risk_sudo._candidate_partner_ids(company, on_date)
        done = set(risk_sudo.search([("company_id", "=", company.id), ("date", "=", on_date)]).partner_id.ids)
        todo = sorted(candidates - done)
        book = risk_sudo._book_figures(company, on_date)
        default_policy = risk_sudo.env["ar.dunning.policy"].search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        if in_cron:
            self.env["ir.cron"]._commit_progress(0, remaining=len(todo))
        processed = 0
        for batch in split_every(batch_size, todo):
            risk_sudo._compute_batch(risk_sudo.env["res.partner"].browse(batch), on_date, book, default_policy)
            processed += len(batch)
            if in_cron and not self.env["ir.cron"]._commit_progress(len(batch), remaining=len(todo) - processed):
                return processed == len(todo)
        return True

    @api.model
    def _candidate_partner_ids(self, company, on_date):
        """Customers with open receivables, receivable movements in 12 months, drafts, orders still to invoice
        (with `sale`), or an assessment."""
        since = on_date - timedelta(days=365)
        Line = self.env["account.move.line"]
        lines = Line._read_group(
            [
                ("company_id", "=", company.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("partner_id", "!=", False),
                "|",
                ("reconciled", "=", False),
                ("date", ">", since),
            ],
            ["partner_id"],
        )
        ids = {partner.commercial_partner_id.id for (partner,) in lines}
        drafts = self.env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("state", "=", "draft"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("commercial_partner_id", "!=", False),
            ],
            ["commercial_partner_id"],
        )
        ids.update(partner.id for (partner,) in drafts)
        if "sale.order" in self.env:  # with `sale` (no dependency): confirmed orders still to invoice
            orders = self.env["sale.order"]._read_group(
                [("company_id", "=", company.id), ("state", "=", "sale"), ("invoice_status", "=", "to invoice")],
                ["partner_invoice_id"],
            )
            ids.update(partner.commercial_partner_id.id for (partner,) in orders)
        ids.update(self.search([("company_id", "=", company.id)]).partner_id.ids)
        return ids

    @api.model
    def _monthly_sales(self, company, on_date, partner_ids=None):
        """``{commercial_partner_id or None: {month_start: sales}}`` of the last 12 months."""
        periods = month_periods(on_date)
        domain = [
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("invoice_date", ">=", periods[-1][0]),
            ("invoice_date", "<=", on_date),
        ]
        sales = defaultdict(dict)
        if partner_ids is None:
            for month, amount in self.env["account.move"]._read_group(
                domain, ["invoice_date:month"], ["amount_total_signed:sum"]
            ):
                sales[None][month] = amount
        else:
            for partner, month, amount in self.env["account.move"]._read_group(
                [*domain, ("commercial_partner_id", "in", partner_ids)],
                ["commercial_partner_id", "invoice_date:month"],
                ["amount_total_signed:sum"],
            ):
                sales[partner.id][month] = amount
        return sales

    @api.model
    def _book_figures(self, company, on_date):
        """The whole book's DSO (countback), the yardstick of each customer's."""
        [(receivable,)] = self.env["account.move.line"]._read_group(
            [
                ("company_id", "=", company.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
            ],
            aggregates=["amount_residual:sum"],
        )
        sales = self._monthly_sales(company, on_date)[None]
        series = [(sales.get(month, 0.0), days) for month, days in month_periods(on_date)]
        return {"dso": dso_countback(receivable, series)}

    @api.model
    def _compute_batch(self, partners, on_date, book, default_policy):
        """Assess one batch of commercial partners; history rows and alerts for what changed."""
        company = self.env.company
        partners = partners.with_company(company)
        exposure = partners._ar_credit_exposure_data(on_date)
        history_12 = partners._ar_dunning_history(on_date)
        history_3 = partners._ar_dunning_history(on_date, period_days=91)
        sales = self._monthly_sales(company, on_date, partners.ids)
        periods = month_periods(on_date)
        risks = {
            risk.partner_id.id: risk
            for risk in self.search([("company_id", "=", company.id), ("partner_id", "in", partners.ids)])
        }
        new_vals, history_vals = [], []
        for partner in partners:
            figures = exposure[partner.id]
            behaviour = {}
            for key, history in (("12m", history_12), ("3m", history_3)):
                h = history[partner.id]
                behaviour[key] = tone_score(
                    h["avg_days_late"], h["share_late"], h["broken"], h["disputes_lost"], partner.trust
                )[0]
            series = [(sales[partner.id].get(month, 0.0), days) for month, days in periods]
            dso = dso_countback(figures["open"], series)
            share = min(1.0, figures["overdue"] / figures["exposure"]) if figures["exposure"] > 0 else 0.0
            score, grade, reasons = risk_score(behaviour["12m"], behaviour["3m"], share, dso, book["dso"])
            risk = risks.get(partner.id)
            reference = risk.dso_reference if risk else dso
            doubled = bool(risk) and dso_doubled(reference, dso)
            vals = {
                "date": on_date,
                "grade": grade,
                "score": score,
                "reason_codes": reason_codes(
                    grade,
                    score,
                    reasons,
                    behaviour_12m=behaviour["12m"],
                    behaviour_3m=behaviour["3m"],
                    overdue_share=share,
                    exposure=figures["exposure"],
                    dso=dso,
                    book_dso=book["dso"],
                    over_limit=figures["over_limit"],
                    limit=figures["limit"],
                ),
                "behaviour_12m": behaviour["12m"],
                "behaviour_3m": behaviour["3m"],
                "open_amount": figures["open"],
                "overdue_amount": figures["overdue"],
                "draft_amount": figures["draft"],
                "to_invoice_amount": figures["to_invoice"],
                "exposure": figures["exposure"],
                "credit_limit": figures["limit"],
                "over_limit": figures["over_limit"],
                "overdue_share": round(share * 100, 1),
                "dso": dso,
                "book_dso": book["dso"],
                "dso_reference": next_dso_reference(reference, dso, doubled),
                "suggested_limit": suggested_limit(figures["limit"], figures["exposure"], grade),
            }
            change = {
                "first": not risk,
                "grade_dropped": bool(risk) and grade_dropped(risk.grade, grade),
                "limit_crossed": figures["over_limit"] and not (risk and risk.over_limit),
                "dso_doubled": doubled,
            }
            changed = (
                change["first"]
                or risk.grade != grade
                or risk.over_limit != figures["over_limit"]
                or change["dso_doubled"]
            )
            if changed:
                history_vals.append(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "date": on_date,
                        "previous_grade": risk.grade if risk else False,
                        "grade": grade,
                        "previous_score": risk.score if risk else 0.0,
                        "score": score,
                        "exposure": figures["exposure"],
                        "credit_limit": figures["limit"],
                        "over_limit": figures["over_limit"],
                        "previous_dso": risk.dso if risk else 0.0,
                        "dso": dso,
                        "is_first": change["first"],
                        "grade_dropped": change["grade_dropped"],
                        "limit_crossed": change["limit_crossed"],
                        "dso_doubled": change["dso_doubled"],
                        "reason_codes": vals["reason_codes"],
                    }
                )
            if risk:
                risk.write(vals)
            else:
                new_vals.append({**vals, "partner_id": partner.id, "company_id": company.id})
        if new_vals:
            created = self.create(new_vals)
            risks.update({risk.partner_id.id: risk for risk in created})
        for vals in history_vals:
            vals["risk_id"] = risks[vals["partner_id"]].id
        rows = self.env["ar.credit.risk.history"].create(history_vals)
        alerts = rows.filtered(lambda r: r.grade_dropped or r.limit_crossed or r.dso_doubled)
        if alerts:
            alerts._create_alert_activities(default_policy)
        return rows

    @api.model
    def _render_reasons(self, codes, currency):
        """The reasons stored as codes (``tools.credit_risk.reason_codes``), one per line, in the language of
        the environment (the reader's): figures and amounts formatted for that language too."""
        env = self.env

        def number(value, digits=1):
            return formatLang(env, value or 0.0, digits=digits)

        def amount(value):
            return format_amount(env, value or 0.0, currency) if currency else number(value, 2)

        lines = []
        for item in codes or []:
            code = item.get("code")
            if code == "grade":
                text = env._(
                    "Grade %(grade)s (risk score %(score)s / 100)", grade=item["grade"], score=number(item["score"])
                )
            elif code == "behaviour":
                text = env._(
                    "Payment behaviour over 12 months: score %(score)s / 100 (days late, invoices paid late, broken "
                    "promises, disputes lost)",
                    score=number(item["score"]),
                )
            elif code == "trend_worse":
                text = env._(
                    "The last 3 months are worse than the year: score %(recent)s against %(year)s",
                    recent=number(item["recent"]),
                    year=number(item["year"]),
                )
            elif code == "trend_not_worse":
                text = env._(
                    "The last 3 months are no worse than the year: score %(recent)s against %(year)s",
                    recent=number(item["recent"]),
                    year=number(item["year"]),
                )
            elif code == "overdue_share":
                text = env._(
                    "Overdue: %(share)s%% of the exposure of %(exposure)s",
                    share=number(item["share"], 0),
                    exposure=amount(item["exposure"]),
                )
            elif code == "dso":
                text = env._(
                    "Days sales outstanding: %(dso)s days, against %(book)s for the whole book",
                    dso=number(item["dso"], 0),
                    book=number(item["book"], 0),
                )
            elif code == "over_limit":
                text = env._(
                    "Over its credit limit: exposure %(exposure)s, limit %(limit)s",
                    exposure=amount(item["exposure"]),
                    limit=amount(item["limit"]),
                )
            else:  # "text": a sentence kept as it was written before the codes
                text = item.get("text") or ""
            if "points" in item:
                points = item["points"] or 0.0
                text = f"{text} → {'+' if points >= 0 else '-'}{number(abs(points))}"
            if text:
                lines.append(text)
        return "\n".join(lines)

    # ------------------------------------------------------------------ weekly digest
    @api.model
    def _cron_send_digest(self):
        """Mail the AR team (the credit controllers) the changes of the last 7 days, per company."""
        template = self.env.ref("ar_dunning.mail_template_ar_credit_digest", raise_if_not_found=False)
        team = self.env.ref("ar_dunning.group_credit_controller").all_user_ids.filtered(
            lambda u: u.active and u.email and not u.share
        )
        if not template or not team:
            return
        since = fields.Date.context_today(self) - timedelta(days=7)
        History = self.env["ar.credit.risk.history"]
        for company in self.env["res.company"].search([("active", "=", True)]):
            changes = History.search(
                [("company_id", "=", company.id), ("date", ">", since), ("is_first", "=", False)],
                order="date desc, id desc",
            )
            recipients = team.filtered(lambda u, c=company: c in u.company_ids)
            if not changes or not recipients:
                continue
            # one mail per language of the recipients, worded (reasons too) in that language; the template is
            # rendered on the latest change (its company signs), the table lists them all
            default_lang = company.partner_id.lang or "en_US"
            for lang, readers in recipients.grouped(lambda u, d=default_lang: u.lang or d).items():
                template.with_context(ar_credit_lang=lang, ar_credit_changes=changes.with_context(lang=lang)).send_mail(
                    changes[0].id, email_values={"recipient_ids": [(6, 0, readers.partner_id.ids)]}
                )

    # ------------------------------------------------------------------ one-click actions (customer's)
    def _partners_in_own_company(self, method):
        """Apply the customer's one-click action in the company of each assessment, not the user's current one."""
        for risk in self:
            getattr(risk.partner_id.with_company(risk.company_id), method)()
        return True

    def action_lower_limit(self):
        return self._partners_in_own_company("action_ar_credit_lower_limit")

    def action_shorten_terms(self):
        return self._partners_in_own_company("action_ar_credit_shorten_terms")

    def action_require_prepayment(self):
        return self._partners_in_own_company("action_ar_credit_require_prepayment")

    def action_credit_hold(self):
        return self._partners_in_own_company("action_ar_credit_hold")

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
