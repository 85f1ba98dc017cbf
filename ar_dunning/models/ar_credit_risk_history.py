from markupsafe import Markup

from odoo import api, fields, models

from .ar_credit_risk import GRADE_SELECTION


class ArCreditRiskHistory(models.Model):
    """One row per change of a customer's credit risk (grade, limit crossed, DSO doubled)."""

    _name = "ar.credit.risk.history"
    _description = "Customer Credit Risk Change"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    risk_id = fields.Many2one("ar.credit.risk", required=True, index=True, ondelete="cascade", check_company=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True)
    previous_grade = fields.Selection(GRADE_SELECTION)
    grade = fields.Selection(GRADE_SELECTION)
    previous_score = fields.Float(digits=(16, 1))
    score = fields.Float(digits=(16, 1))
    exposure = fields.Monetary(string="Credit Exposure")
    credit_limit = fields.Monetary()
    over_limit = fields.Boolean(string="Over Credit Limit")
    previous_dso = fields.Float(string="Previous DSO", digits=(16, 1))
    dso = fields.Float(string="DSO", digits=(16, 1))
    is_first = fields.Boolean(string="First Assessment")
    grade_dropped = fields.Boolean(string="Grade Lowered")
    limit_crossed = fields.Boolean()
    dso_doubled = fields.Boolean(string="DSO Doubled")
    reason_codes = fields.Json(help="The reasons of the grade as codes and figures, worded in the reader's language.")
    reasons = fields.Text(compute="_compute_reasons")
    activity_id = fields.Many2one("mail.activity", string="Alert", ondelete="set null", readonly=True)

    @api.depends("reason_codes")
    @api.depends_context("lang")
    def _compute_reasons(self):
        Risk = self.env["ar.credit.risk"]
        for row in self:
            row.reasons = Risk._render_reasons(row.reason_codes, row.currency_id)

    def _alert_summary(self):
        self.ensure_one()
        parts = []
        if self.limit_crossed:
            parts.append(self.env._("credit limit exceeded"))
        if self.grade_dropped:
            parts.append(self.env._("grade lowered from %(old)s to %(new)s", old=self.previous_grade, new=self.grade))
        if self.dso_doubled:
            parts.append(
                self.env._(
                    "DSO doubled to %(dso)s days (was %(old)s)", dso=f"{self.dso:.0f}", old=f"{self.previous_dso:.0f}"
                )
            )
        return self.env._("Credit: %(changes)s", changes=", ".join(parts))

    def _create_alert_activities(self, default_policy):
        """One to-do per change for the customer's follow-up user (collector, salesperson, else a controller)."""
        controllers = self.env.ref("ar_dunning.group_credit_controller").all_user_ids.filtered(
            lambda u: u.active and not u.share
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("res.partner")
        vals_list = []
        for row in self:
            company_controllers = controllers.filtered(lambda u, c=row.company_id: c in u.company_ids)
            user = row.partner_id._ar_credit_follow_up_user(default_policy) or company_controllers[:1] or self.env.user
            # worded in the language of the user the to-do is for
            worded = row.with_context(lang=user.lang or self.env.lang)
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": row.partner_id.id,
                    "activity_type_id": todo.id,
                    "summary": worded._alert_summary(),
                    "note": Markup("<p>%s</p>") % Markup("<br/>").join((worded.reasons or "").splitlines()),
                    "user_id": user.id,
                    "date_deadline": row.date,
                }
            )
        # sudo: the nightly job files to-dos on customers for their follow-up users (one per change, batched)
        activities = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        for row, activity in zip(self, activities, strict=True):
            row.activity_id = activity
