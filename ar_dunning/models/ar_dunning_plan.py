from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import SQL, format_amount, format_date, plaintext2html

from ..tools.consumer_credit_de import call_in_warning_deadline
from .ar_dunning_policy import TONE_SELECTION
from .ar_dunning_promise import HOLDING_STATES as PROMISE_HOLDING_STATES
from .ar_dunning_promise import MAX_NOTE

# states in which a plan holds its invoices: one such plan per invoice at a time (ar.dunning.plan.invoice's
# unique index), and no promise to pay on them meanwhile
PLAN_HOLDING_STATES = ("proposed", "active", "late")
# states in which the plan's instalments are booked and the dunning leaves its invoices alone
PLAN_SCHEDULED_STATES = ("active", "late")
FREQUENCIES = [("weekly", "Weekly"), ("biweekly", "Every Two Weeks"), ("monthly", "Monthly")]
# Consumer credit, the law applied since 20 November 2026: Directive (EU) 2023/2225 ("CCD2",
# https://eur-lex.europa.eu/eli/dir/2023/2225): transposed by 20 November 2025, applied from 20 November 2026; it
# repealed Directive 2008/48/EC (https://www.regulationtomorrow.com/eu/published-in-oj-ccd-ii/). History only:
# 2008/48/EC art. 2(2)(f) left out credit free of interest and charges and credit repaid within three months with
# insignificant charges, art. 2(2)(j) a deferred payment, free of charge, of an existing debt; BE (art. VII.3 CEL),
# NL (art. 7:57-7:58 BW) and DE (§ 491(2) no. 3, § 506 BGB) followed it. CCD2 drops both exclusions of art. 2(2)(f)
# (Member States may only lighten some obligations for such credit, a "light regime": finnius.com, "BNPL and SECCI
# update"; hoganlovells.com, "EU Second Consumer Credit Directive: scope and impact for BNPL"); its art. 2(2)(h)
# leaves out a supplier's own interest-free deferral of the price (the Dutch bill: paid within 50 days, 14 for a
# large enterprise; vast-online.nl, 14 May 2025). Whether a creditor's free-of-charge instalment arrangement for an
# overdue debt is still outside consumer-credit law, and for how long, depends on the national transposition - not
# verified here as enacted: DE Regierungsentwurf of 3 September 2025 (§ 491, § 506 BGB-E bring in free-of-charge
# Zahlungsaufschübe and delete § 491(2) no. 3; noerr.com, 9 September 2025); NL Implementatiewet herziene richtlijn
# consumentenkrediet (drops the free-credit and three-month exclusions of art. 1:20 Wft; loyensloeff.com); BE Book
# VII CEL (transposing law not found). So 3 months is the PRODUCT's conservative policy, not a legal threshold: a
# consumer plan is accepted without the accountant only when free of interest and costs and ending within 3 months
# of the plan date; everything else is reviewed, and the reviewer checks the customer's national law (USAGE.md,
# "The law, as the plans apply it"). § 498 BGB still governs calling in a German consumer's instalments.
CONSUMER_MAX_MONTHS = 3
MAX_INSTALMENTS = 60
# Interest on a business plan: Directive 2011/7/EU (Late Payment Directive) art. 3(1) and (3)(a): between
# undertakings, interest for late payment is due from the day following the date or the end of the period for
# payment until payment (DE § 288(2) BGB, NL art. 6:119a BW, BE art. 5 Law of 2 August 2002). A payment arrangement
# made afterwards grants time to pay; it does not waive the interest already accrued, nor the interest that keeps
# running, unless that is agreed. The plan rule's "Interest Runs" is that agreement: ticked, the interest runs on
# each instalment from the invoice's original due date until the instalment is paid and is invoiced once, when the
# plan is completed; unticked, the plan waives it for instalments paid on time. Consumers' plans never bear
# interest (consumer-credit law, see above).


class ArDunningPlanRule(models.Model):
    """The limits a dunning policy sets for the payment plans buyers propose (issue 16, point 2)."""

    _name = "ar.dunning.plan.rule"
    _description = "Payment Plan Rule"
    _order = "policy_id, sequence, id"
    _check_company_auto = True

    policy_id = fields.Many2one("ar.dunning.policy", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    tone = fields.Selection(
        TONE_SELECTION, help="The customer's tone (payment behaviour) this rule applies to. Empty: every tone."
    )
    max_instalments = fields.Integer(string="Maximum Instalments", default=6)
    currency_id = fields.Many2one(related="policy_id.company_id.currency_id")
    min_instalment_amount = fields.Monetary(string="Minimum Instalment", currency_field="currency_id")
    max_total = fields.Monetary(
        string="Maximum Total", currency_field="currency_id", help="Largest amount a plan may cover. 0: no maximum."
    )
    max_months = fields.Integer(
        string="Maximum Duration (Months)",
        default=6,
        help="Months from the plan date to the last instalment. A consumer's plan is never longer than 3 months "
        "without the accountant's review: our policy under consumer-credit law (Directive (EU) 2023/2225 as "
        "transposed in the customer's country).",
    )
    interest = fields.Boolean(
        string="Interest Runs",
        help="Business customers only: the statutory late-payment interest keeps running on the amounts under the "
        "plan, from the invoices' original due dates until each instalment is paid; it is invoiced once the plan "
        "is paid. A consumer's plan with interest goes to the accountant (consumer-credit law: Directive (EU) "
        "2023/2225 as transposed in the customer's country).",
    )
    require_mandate = fields.Boolean(
        string="Mandate or Saved Card Required",
        help="The buyer must collect the instalments by direct debit (SEPA mandate) or a saved card.",
    )
    auto_accept = fields.Boolean(
        string="Accept Automatically", help="A plan within these limits is accepted at once; else it is reviewed."
    )

    @api.constrains("max_instalments", "min_instalment_amount", "max_total", "max_months")
    def _check_limits(self):
        for rule in self:
            if rule.max_instalments < 2 or rule.max_instalments > MAX_INSTALMENTS:
                raise ValidationError(
                    self.env._("A payment plan has from 2 to %(max)s instalments.", max=MAX_INSTALMENTS)
                )
            if rule.min_instalment_amount < 0 or rule.max_total < 0 or rule.max_months < 1:
                raise ValidationError(self.env._("The limits of a payment plan rule cannot be negative."))

    def _ar_matches(self, partner, tone):
        """Does this rule apply to ``partner`` (commercial partner) with payment-behaviour ``tone``?
        The umbrella adds the customer segment."""
        self.ensure_one()
        return not self.tone or self.tone == tone


class ArDunningPlan(models.Model):
    """A payment plan: the customer pays (some of) its open invoices in instalments.

    Proposed by the buyer (portal, signed link) or keyed in by the accountant, within the limits of
    the policy's plan rules. Accepting a plan books it: each invoice's open receivable is split into
    one due line (``display_type`` payment_term, as Odoo's multi-line payment terms) per instalment, so
    that ageing, the portal's amount due, the dunning and the reconciliation work on instalments.

    States: ``proposed`` (for the accountant) → ``active`` (on schedule) → ``late`` (an instalment past
    due, within the policy's grace days) → ``broken`` (grace passed: the dunning resumes at the level
    reached before) or ``completed`` (all paid); also ``declined`` and ``cancelled`` (never booked).
    """

    _name = "ar.dunning.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin", "ar.dunning.arrangement"]
    _order = "id desc"
    _rec_names_search = ["partner_id"]
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")  # not stored: in the reader's language
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, domain=[("parent_id", "=", False)], readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, readonly=True
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    source = fields.Selection(
        [("backoffice", "Back office"), ("portal", "Customer portal"), ("guest", "Signed link")],
        default="backoffice",
        required=True,
        readonly=True,
    )
    requested_by_id = fields.Many2one("res.partner", readonly=True, help="The buyer's contact who proposed the plan.")
    requested_user_id = fields.Many2one("res.users", string="Requesting User", readonly=True)
    notify_partner_id = fields.Many2one("res.partner", compute="_compute_notify_partner_id", string="Buyer Contact")
    note = fields.Text(help="The buyer's note, shown as typed (escaped).", readonly=True)
    collect_mode = fields.Selection(
        [("manual", "Paid by the customer"), ("autopay", "Collected automatically")],
        default="manual",
        required=True,
        help="Collected automatically: each instalment is collected by direct debit or from a saved card.",
    )
    frequency = fields.Selection(FREQUENCIES, required=True, default="monthly", readonly=True)
    instalment_count = fields.Integer(string="Instalments", required=True, readonly=True)
    first_date = fields.Date(string="First Instalment", required=True, readonly=True)
    date = fields.Date(
        string="Plan Date", required=True, readonly=True, default=fields.Date.context_today, help="When it was made."
    )
    invoice_ids = fields.One2many("ar.dunning.plan.invoice", "plan_id", string="Invoice Lines", readonly=True)
    move_ids = fields.Many2many(
        "account.move", string="Invoices", compute="_compute_move_ids", search="_search_move_ids"
    )
    instalment_ids = fields.One2many("ar.dunning.plan.instalment", "plan_id", string="Schedule", readonly=True)
    amount_total = fields.Monetary(readonly=True, help="The invoices' open amounts when the plan was made.")
    amount_residual = fields.Monetary(string="Still Open", compute="_compute_amount_residual")
    amount_paid = fields.Monetary(string="Paid", compute="_compute_amount_residual")
    progress = fields.Float(compute="_compute_amount_residual", help="Share of the plan's amount paid.")
    next_date = fields.Date(string="Next Instalment", compute="_compute_amount_residual")
    next_amount = fields.Monetary(compute="_compute_amount_residual")
    consumer = fields.Boolean(readonly=True, help="Made with a consumer: consumer-credit law limits it.")
    law_country_id = fields.Many2one("res.country", string="Governing Law", readonly=True)
    interest = fields.Boolean(
        string="Interest Runs",
        readonly=True,
        help="The statutory interest keeps running on each instalment from the invoice's original due date until the "
        "instalment is paid (business customers only); it is invoiced once the plan is paid.",
    )
    interest_accrued = fields.Monetary(
        compute="_compute_interest_accrued",
        help="The statutory interest that ran on the instalments from the invoices' original due dates until they "
        "were paid (an open instalment: until today), less the interest reminders already invoiced for these "
        "invoices. It is invoiced once the plan is paid.",
    )
    interest_rate_missing = fields.Char(
        string="Missing Interest Rates",
        compute="_compute_interest_accrued",
        help="Country / customer type / half-year without a statutory rate: the interest cannot be invoiced until "
        "the rate is entered (Invoicing > Configuration > Follow-up > Late-Payment Interest Rates).",
    )
    interest_move_id = fields.Many2one(
        "account.move",
        string="Interest Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The invoice of the interest that ran on the instalments, made once when the plan was completed.",
    )
    interest_pending = fields.Boolean(
        string="Interest to Invoice",
        readonly=True,
        copy=False,
        help="The plan is completed but its interest could not be invoiced (a missing rate, no sales journal): "
        "fix the cause, then press Invoice Interest.",
    )
    require_mandate = fields.Boolean(string="Mandate Required", readonly=True)
    review_reason = fields.Text(readonly=True, help="Why the plan was not accepted at once.")
    state = fields.Selection(
        [
            ("proposed", "Proposed"),
            ("active", "On Schedule"),
            ("late", "Late"),
            ("broken", "Broken"),
            ("completed", "Completed"),
            ("declined", "Declined"),
            ("cancelled", "Cancelled"),
        ],
        default="proposed",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
        group_expand="_ar_expand_states",
    )
    date_accepted = fields.Date(readonly=True, copy=False)
    date_resolved = fields.Date(string="Resolved On", readonly=True, copy=False)
    date_called_in = fields.Date(string="Called In On", readonly=True, copy=False)
    grace_days = fields.Integer(compute="_compute_grace_days")
    de_call_in_notice_date = fields.Date(
        string="Call-in Warning Given On",
        readonly=True,
        copy=False,
        help="German consumers (§ 498 German Civil Code): the day the customer was given two weeks to pay the arrears "
        "with the warning that the whole remaining amount becomes due otherwise.",
    )
    de_call_in_deadline = fields.Date(
        string="Call-in Warning Deadline",
        compute="_compute_de_call_in_deadline",
        store=True,
        help="The last day to pay the arrears stated in the call-in warning: its date + 14 days, moved to the next "
        "working day after a weekend or a German public holiday (§§ 188, 193 German Civil Code). The plan can be "
        "called in from the day after.",
    )
    de_call_in_amount = fields.Monetary(
        string="Arrears Stated in the Warning",
        readonly=True,
        copy=False,
        help="The arrears the customer was asked to pay.",
    )
    de_call_in_letter_id = fields.Many2one(
        "ir.attachment", string="Call-in Warning Letter", readonly=True, copy=False, help="The letter as sent (PDF)."
    )
    de_consumer = fields.Boolean(
        string="German Consumer",
        compute="_compute_de_consumer",
        help="A private customer's plan under German law: calling it in needs the warning of § 498 German Civil Code.",
    )
    de_call_in_warning_possible = fields.Boolean(string="Call-in Warning Possible", compute="_compute_de_consumer")

    # one plan per interest invoice (the invoice's own link allows one interest invoice per plan)
    _interest_move_uniq = models.UniqueIndex(
        "(interest_move_id) WHERE interest_move_id IS NOT NULL",
        "This invoice claims the interest of another payment plan already.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends_context("lang")
    @api.depends("partner_id", "date")
    def _compute_name(self):
        for plan in self:
            plan.name = self.env._(
                "Payment plan of %(customer)s of %(date)s",
                customer=plan.partner_id.name or "",
                date=fields.Date.to_string(plan.date) if plan.date else "",
            )

    @api.depends("invoice_ids.move_id")
    def _compute_move_ids(self):
        for plan in self:
            plan.move_ids = plan.invoice_ids.move_id

    def _search_move_ids(self, operator, value):
        return [("invoice_ids.move_id", operator, value)]

    @api.depends("instalment_ids.amount_residual", "instalment_ids.amount", "amount_total")
    def _compute_amount_residual(self):
        for plan in self:
            if plan.instalment_ids.line_ids:
                residual = sum(plan.instalment_ids.mapped("amount_residual"))
            else:  # not booked (yet): what the invoices owe
                residual = sum(plan.invoice_ids.move_id.mapped("amount_residual")) if plan.state == "proposed" else 0
            plan.amount_residual = residual
            plan.amount_paid = max(0.0, plan.amount_total - residual) if plan.instalment_ids.line_ids else 0.0
            plan.progress = 100.0 * plan.amount_paid / plan.amount_total if plan.amount_total else 0.0
            upcoming = plan.instalment_ids.filtered(lambda i: i.amount_residual > 0).sorted("number")[:1]
            plan.next_date = upcoming.date
            plan.next_amount = upcoming.amount_residual

    @api.depends("de_call_in_notice_date")
    def _compute_de_call_in_deadline(self):
        for plan in self:
            notice = plan.de_call_in_notice_date
            plan.de_call_in_deadline = call_in_warning_deadline(notice) if notice else False

    @api.depends_context("tz")
    @api.depends("consumer", "law_country_id", "state", "de_call_in_deadline")
    def _compute_de_consumer(self):
        today = fields.Date.context_today(self)
        for plan in self:
            plan.de_consumer = plan.consumer and plan.law_country_id.code == "DE"
            # the button: no warning whose period still runs (a new one once it has passed, e.g. new arrears)
            plan.de_call_in_warning_possible = (
                plan.de_consumer
                and plan.state in ("late", "broken")
                and not (plan.de_call_in_deadline and plan.de_call_in_deadline >= today)
            )

    @api.depends(
        "interest",
        "consumer",
        "state",
        "invoice_ids.date_due_original",
        "instalment_ids.amount_residual",
        "interest_move_id.amount_total",
    )
    def _compute_interest_accrued(self):
        today = fields.Date.context_today(self)
        for plan in self:
            if plan.interest_move_id:
                plan.interest_accrued, plan.interest_rate_missing = plan.interest_move_id.amount_total, False
                continue
            due, missing = plan._ar_interest_due(today)
            plan.interest_accrued = sum(due.values())
            plan.interest_rate_missing = ", ".join(missing) or False

    @api.depends("partner_id", "company_id")
    def _compute_grace_days(self):
        for plan in self:
            policy = plan.partner_id._ar_dunning_policy(plan.company_id) if plan.partner_id else False
            plan.grace_days = policy.plan_grace_days if policy else 0

    # ------------------------------------------------------------------
    # What may be planned, and the schedule
    # ------------------------------------------------------------------

    @api.model
    def _ar_plan_candidates(self, partner, company):
        """Open invoices of the customer a plan may cover: posted, not paid, undisputed, not handed over,
        not under a promise to pay or another plan (overdue or not)."""
        domain = (
            Domain("commercial_partner_id", "=", partner.commercial_partner_id.id)
            & Domain("company_id", "=", company.id)
            & Domain("move_type", "in", ("out_invoice", "out_receipt"))
            & Domain("state", "=", "posted")
            & Domain("payment_state", "in", ("not_paid", "partial"))
            & Domain("ar_dunning_handed_over", "=", False)
            & Domain("ar_dunning_promise_line_ids", "not any", Domain("state", "in", PROMISE_HOLDING_STATES))
            & Domain("ar_dunning_plan_invoice_ids", "not any", Domain("state", "in", PLAN_HOLDING_STATES))
        )
        moves = self.env["account.move"].search(domain, order="invoice_date_due, id")
        return moves.filtered(lambda m: not m.no_followup and m.amount_residual > 0)

    @api.model
    def _ar_schedule_dates(self, frequency, count, first_date):
        if frequency == "weekly":
            return [first_date + timedelta(days=7 * k) for k in range(count)]
        if frequency == "biweekly":
            return [first_date + timedelta(days=14 * k) for k in range(count)]
        return [first_date + relativedelta(months=k) for k in range(count)]

    @api.model
    def _ar_split(self, moves, count):
        """{move: [share of instalment 1..count]} of each invoice's open amount (invoice currency): equal
        shares, the rounding remainder on the last one. The schedule is the sum per instalment."""
        shares = {}
        for move in moves:
            currency = move.currency_id
            residual = move.amount_residual
            part = currency.round(residual / count)
            shares[move] = [part] * (count - 1) + [currency.round(residual - part * (count - 1))]
        return shares

    @api.model
    def _ar_rule(self, partner, company):
        """(policy, rule) for the customer: the first plan rule of its policy that matches it."""
        policy = partner._ar_dunning_policy(company)
        if not policy:
            return policy, self.env["ar.dunning.plan.rule"]
        partner = partner.commercial_partner_id.with_company(company)
        tone = partner._ar_dunning_tone_data(policy=policy)[partner.id][1]
        rule = policy.plan_rule_ids.sorted(lambda r: (r.sequence, r.id)).filtered(
            lambda r: r._ar_matches(partner, tone)
        )[:1]
        return policy, rule

    @api.model
    def _ar_plan_has_mandate(self, partner, company):
        """Can the customer's instalments be collected automatically (SEPA mandate or saved card)?
        ar_dunning cannot know it: the suite (ar_customer_centric's mandates and tokens) overrides this."""
        return False

    @api.model
    def _ar_plan_input_errors(self, moves, instalment_count, frequency, first_date):
        """Why the buyer's choice cannot be planned at all (translated sentences; empty: it can)."""
        env = self.env
        today = fields.Date.context_today(self)
        partner = moves.commercial_partner_id
        company = moves.company_id

        def not_allowed():
            return moves - self._ar_plan_candidates(partner, company)

        # (refused when, why), checked in order: the first that applies is the answer
        checks = [
            (lambda: not moves, lambda: env._("Select at least one open invoice.")),
            (
                lambda: len(partner) != 1 or len(company) != 1,
                lambda: env._("Select invoices of one customer and one company."),
            ),
            (
                lambda: len(moves.currency_id) != 1,
                lambda: env._("Select invoices of one currency: make one plan per currency."),
            ),
            (
                lambda: bool(not_allowed()),
                lambda: env._(
                    "These invoices cannot be paid in instalments (paid, disputed, or under a promise or a plan "
                    "already): %(names)s.",
                    names=", ".join(not_allowed().mapped("name")),
                ),
            ),
            (
                lambda: not 2 <= instalment_count <= MAX_INSTALMENTS,
                lambda: env._("Choose from 2 to %(max)s instalments.", max=MAX_INSTALMENTS),
            ),
            (
                lambda: frequency not in dict(FREQUENCIES),
                lambda: env._("Choose how often you pay: weekly, every two weeks or monthly."),
            ),
            (
                lambda: not first_date or first_date < today,
                lambda: env._("Choose a first payment date from today on."),
            ),
            (
                lambda: first_date > today + timedelta(days=31),
                lambda: env._("Choose a first payment date within a month."),
            ),
        ]
        for refused, why in checks:
            if refused():
                return [why()]
        return []

    @api.model
    def _ar_plan_rule_reasons(self, rule, moves, *, amounts, dates, collect_mode, consumer):
        """Why a valid plan goes to the accountant under the policy's rule (empty: accepted at once)."""
        env = self.env
        if not rule:
            return [env._("Your payment plan will be reviewed by our accounts department.")]
        company = moves.company_id
        currency = moves.currency_id
        today = fields.Date.context_today(self)
        company_currency = company.currency_id
        total = currency._convert(sum(amounts), company_currency, company, today)
        smallest = currency._convert(min(amounts), company_currency, company, today)
        reasons = []
        if len(amounts) > rule.max_instalments:
            reasons.append(
                env._(
                    "More than %(max)s instalments need our accounts department's approval.", max=rule.max_instalments
                )
            )
        if rule.min_instalment_amount and company_currency.compare_amounts(smallest, rule.min_instalment_amount) < 0:
            reasons.append(env._("An instalment under the minimum amount needs our accounts department's approval."))
        if rule.max_total and company_currency.compare_amounts(total, rule.max_total) > 0:
            reasons.append(env._("A plan over the maximum amount needs our accounts department's approval."))
        if not consumer and dates[-1] > today + relativedelta(months=rule.max_months):
            reasons.append(
                env._(
                    "A plan longer than %(months)s months needs our accounts department's approval.",
                    months=rule.max_months,
                )
            )
        if rule.require_mandate and not (
            collect_mode == "autopay" and self._ar_plan_has_mandate(moves.commercial_partner_id, company)
        ):
            reasons.append(
                env._("Without a direct debit mandate or a saved card, our accounts department reviews the plan.")
            )
        if not rule.auto_accept:
            reasons.append(env._("Our accounts department reviews every payment plan."))
        return reasons

    @api.model
    def _ar_plan_consumer_reasons(self, rule, dates, company=None):
        """Consumer-credit law (see CONSUMER_MAX_MONTHS): a consumer's plan offered without review is free of
        interest and costs and ends within 3 months (the product's policy, not a CCD2 threshold); anything else
        goes to the accountant with this reason, which asks for the national transposition to be checked."""
        env = self.env
        today = fields.Date.context_today(self)
        reasons = []
        if company and not company.ar_plan_consumer_confirmed:
            # CCD2's national transpositions may make any consumer plan consumer credit: unknown, so reviewed
            reasons.append(
                env._(
                    "A plan for a private customer is reviewed by our accounts department (consumer-credit law: "
                    "Directive (EU) 2023/2225 as transposed in the customer's country)."
                )
            )
        if dates[-1] > today + relativedelta(months=CONSUMER_MAX_MONTHS):
            reasons.append(
                env._(
                    "A plan for a private customer that ends more than 3 months from today is not offered "
                    "automatically (consumer-credit law: Directive (EU) 2023/2225 as transposed in the customer's "
                    "country): our accounts department will review it."
                )
            )
        if rule and rule.interest:
            reasons.append(
                env._(
                    "A plan for a private customer is free of interest and costs (consumer-credit law: Directive (EU) "
                    "2023/2225 as transposed in the customer's country): our accounts department will review it."
                )
            )
        return reasons

    @api.model
    def _ar_plan_preview(self, moves, instalment_count, frequency, first_date, collect_mode="manual"):
        """The schedule and the decision for a plan the buyer considers; computed on the server.

        :returns: {schedule: [{number, date, amount}], amount_total, currency, decision ('accept', 'review',
                  'refuse'), reasons: [translated sentences], limits: {...}, consumer, interest, interest_note
                  (the sentence telling the buyer that the interest runs, or False), require_mandate}
        """
        try:
            instalment_count = int(instalment_count)
        except (TypeError, ValueError):
            instalment_count = 0
        first_date = fields.Date.to_date(first_date)
        result = {
            "schedule": [],
            "amount_total": 0.0,
            "currency": moves.currency_id[:1],
            "decision": "refuse",
            "reasons": self._ar_plan_input_errors(moves, instalment_count, frequency, first_date),
            "limits": {},
            "consumer": False,
            "interest": False,
            "interest_note": False,
            "require_mandate": False,
        }
        if result["reasons"]:
            return result
        currency = moves.currency_id
        dates = self._ar_schedule_dates(frequency, instalment_count, first_date)
        shares = self._ar_split(moves, instalment_count)
        amounts = [currency.round(sum(s[k] for s in shares.values())) for k in range(instalment_count)]
        result["schedule"] = [
            {"number": k + 1, "date": dates[k], "amount": amounts[k]} for k in range(instalment_count)
        ]
        result["amount_total"] = currency.round(sum(moves.mapped("amount_residual")))
        if min(amounts) <= 0:
            result["reasons"].append(self.env._("The amount is too small for so many instalments."))
            return result
        partner = moves.commercial_partner_id
        company = moves.company_id
        _policy, rule = self._ar_rule(partner, company)
        consumer = partner._ar_dunning_customer_type() == "b2c"
        if rule:
            result["limits"] = {
                "max_instalments": rule.max_instalments,
                "min_instalment_amount": rule.min_instalment_amount,
                "max_total": rule.max_total,
                "max_months": CONSUMER_MAX_MONTHS if consumer else rule.max_months,
                "interest": rule.interest and not consumer,
                "require_mandate": rule.require_mandate,
                "auto_accept": rule.auto_accept,
                "currency": company.currency_id,
            }
        reasons = self._ar_plan_rule_reasons(
            rule, moves, amounts=amounts, dates=dates, collect_mode=collect_mode, consumer=consumer
        )
        if consumer:
            reasons += self._ar_plan_consumer_reasons(rule, dates, company=company)
        interest = bool(rule.interest) and not consumer
        result.update(
            consumer=consumer,
            interest=interest,
            interest_note=interest
            and self.env._(
                "The statutory late-payment interest keeps running on these invoices from their original due dates "
                "until each instalment is paid; it is invoiced once the plan is paid."
            ),
            require_mandate=bool(rule.require_mandate),
            decision="review" if reasons else "accept",
            reasons=reasons,
        )
        return result

    # ------------------------------------------------------------------
    # Made by the buyer (or keyed in by the accountant)
    # ------------------------------------------------------------------

    @api.model
    def _ar_propose(
        self,
        moves,
        instalment_count,
        frequency,
        first_date,
        *,
        note=None,
        source="portal",
        requester=None,
        user=None,
        collect_mode="manual",
    ):
        """The buyer proposes to pay ``moves`` in instalments. Within the policy's limits and with
        auto-accept the plan is booked and active at once; else it is proposed to the accountant (activity).
        Raises UserError when refused. Amounts are the server's: the invoices' open amounts under lock."""
        if not moves:
            raise UserError(self.env._("Select at least one open invoice."))
        # lock the invoices: a plan, a promise or a payment on them at the same moment waits; the residuals
        # are read again after the lock, so a payment that arrived meanwhile is counted once
        self._ar_lock_moves(moves)
        preview = self._ar_plan_preview(moves, instalment_count, frequency, first_date, collect_mode=collect_mode)
        if preview["decision"] == "refuse":
            raise UserError(" ".join(preview["reasons"]))
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            raise UserError(self.env._("Write a note of at most %(max)s characters.", max=MAX_NOTE))
        partner = moves.commercial_partner_id
        company = moves.company_id
        review_reason = False
        if preview["decision"] == "review":
            # the reasons for the accountant who reviews, in their language (the buyer reads them in theirs)
            reviewer = self.new({"partner_id": partner.id, "company_id": company.id})._ar_follow_up_user(
                partner._ar_dunning_policy(company)
            )
            lang = reviewer.lang or company.partner_id.lang or "en_US"
            review_reason = "\n".join(
                self.with_context(lang=lang)._ar_plan_preview(
                    moves, instalment_count, frequency, first_date, collect_mode=collect_mode
                )["reasons"]
            )
        plan = self.create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "currency_id": moves.currency_id.id,
                "source": source,
                "requested_by_id": (requester or partner).id,
                "requested_user_id": user.id if user else False,
                "note": note or False,
                "collect_mode": collect_mode,
                "frequency": frequency,
                "instalment_count": int(instalment_count),
                "first_date": fields.Date.to_date(first_date),
                "amount_total": preview["amount_total"],
                "consumer": preview["consumer"],
                "law_country_id": partner._ar_dunning_law_country(company).id,
                "interest": preview["interest"],
                "require_mandate": preview["require_mandate"],
                "review_reason": review_reason,
                "invoice_ids": [Command.create({"move_id": move.id, "amount": move.amount_residual}) for move in moves],
                "instalment_ids": [
                    Command.create({"number": row["number"], "date": row["date"], "amount": row["amount"]})
                    for row in preview["schedule"]
                ],
            }
        )
        if note:
            # the buyer's note as they typed it: escaped, never markup
            plan.message_post(
                body=Markup("<p>%s</p>") % note,
                author_id=(requester or partner).id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        if preview["decision"] == "accept":
            plan._ar_book()
            plan._ar_notify_buyer("ar_dunning.mail_template_plan_accepted")
        else:
            plan._ar_schedule_review()
            plan._ar_notify_buyer("ar_dunning.mail_template_plan_proposed")
        return plan

    def _ar_lock_moves(self, moves):
        """Row-lock the invoices before their due dates or amounts are rebooked, in the order Odoo's payments
        lock them: first their receivable (payable) due lines and the lines reconciled with them, invoice by
        invoice, then the invoices, by id; the caches are then read again from this transaction.

        Odoo's Register Payment (``account.payment.register._create_payments``) posts the payment, then
        ``reconcile()`` creates the partials, whose ``create`` numbers every line of the reconciliation
        (``account.partial.reconcile._update_matching_number``: an UPDATE of account_move_line); the flush then
        writes the lines' open amounts and, last, the invoice's ``amount_residual`` and ``payment_state`` (an
        UPDATE of account_move). Nothing before locks the invoice's row (linking the payment to the invoice,
        account_move__account_payment, takes FOR KEY SHARE, which FOR NO KEY UPDATE does not block). Locking the
        invoice first and its lines after would wait for the payment's line while the payment waits for the
        invoice: PostgreSQL ends one of them (deadlock detected). In this order one waits for the other's commit;
        a rebooking that waited for a payment is then retried by the request (serialization failure) and books
        what the payment left open. Invoice by invoice (by id) as a direct debit collection registers its
        payments (``ar.sepa.collection.action_reconcile``)."""
        terms = moves.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
        lines = terms._all_reconciled_lines()
        if lines:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM account_move_line WHERE id IN %s ORDER BY move_id, id FOR NO KEY UPDATE",
                    tuple(lines.ids),
                )
            )
        self.env.cr.execute(
            SQL("SELECT id FROM account_move WHERE id IN %s ORDER BY id FOR NO KEY UPDATE", tuple(moves.ids))
        )
        moves.invalidate_recordset()
        moves.line_ids.invalidate_recordset()
        lines.invalidate_recordset()

    @api.model
    def _ar_expand_states(self, states, domain):
        """Kanban columns in the order of the plan's life, with the closed ones only when they hold plans."""
        workflow = ["proposed", "active", "late", "broken", "completed"]
        return workflow + [state for state in ("declined", "cancelled") if state in states]

    def _ar_schedule_review(self):
        for plan in self:
            policy = plan.partner_id._ar_dunning_policy(plan.company_id)
            user = plan._ar_follow_up_user(policy)
            if not user:
                continue
            # the To-Do is for the reviewer: in their language, not the buyer's who proposed the plan
            reviewer_env = self.with_context(lang=user.lang or self.env.lang).env
            plan.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=reviewer_env._(
                    "Accept or decline the payment plan of %(customer)s (%(count)s instalments)",
                    customer=plan.partner_id.name,
                    count=plan.instalment_count,
                ),
                note=plaintext2html(plan.review_reason) if plan.review_reason else False,
            )

    # ------------------------------------------------------------------
    # The accountant's decisions
    # ------------------------------------------------------------------

    def action_accept(self):
        """Accept proposed plans: book their instalments on the invoices; the buyer is told."""
        if self.filtered(lambda p: p.state != "proposed"):
            raise UserError(self.env._("Only proposed payment plans can be accepted."))
        for plan in self:
            plan._ar_book()
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._ar_notify_buyer("ar_dunning.mail_template_plan_accepted")
        return True

    def action_decline(self):
        """Decline proposed plans: nothing is booked, the invoices are reminded as before."""
        if self.filtered(lambda p: p.state != "proposed"):
            raise UserError(self.env._("Only proposed payment plans can be declined."))
        self.write({"state": "declined", "date_resolved": fields.Date.context_today(self)})
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._ar_notify_buyer("ar_dunning.mail_template_plan_declined")
        return True

    def action_cancel(self):
        if self.filtered(lambda p: p.state != "proposed"):
            raise UserError(self.env._("Only a payment plan not yet accepted can be cancelled."))
        self.write({"state": "cancelled", "date_resolved": fields.Date.context_today(self)})
        self.activity_unlink(["mail.mail_activity_data_todo"])
        return True

    # ------------------------------------------------------------------
    # Booking: one due line per instalment on each invoice's receivable
    # ------------------------------------------------------------------

    def _ar_check_bookable(self, moves):
        """Refuse, naming the invoice and the fix, what Odoo would refuse or what must stay unaltered."""
        for move in moves:
            if move.inalterable_hash:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is secured by the inalterability hash: its due dates cannot be split "
                        "into instalments. Leave it out of the plan, or agree a promise to pay for it instead.",
                        invoice=move.name,
                    )
                )
            try:
                move._check_fiscal_lock_dates()
            except UserError as exc:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is in a locked period: its due dates cannot be split into instalments "
                        "(%(reason)s). Leave it out of the plan, or have the adviser reopen the period.",
                        invoice=move.name,
                        reason=exc.args[0] if exc.args else "",
                    )
                ) from exc

    def _ar_book(self):
        """Book the plan: all its invoices or none (one transaction, the invoices locked).

        For each invoice the open receivable due lines are re-cut into one line per instalment: unpaid due
        lines are reused (their amount and due date rewritten), the others created; a partly paid due line
        keeps its paid part (and its reconciliation, made again on the smaller amount) and gives its open part
        to the instalments. The invoice's open amount does not change; its due date becomes the last
        instalment's, as Odoo's multi-line payment terms do (``_compute_invoice_date_due``).
        """
        self.ensure_one()
        moves = self.invoice_ids.move_id
        self._ar_lock_moves(moves)
        # the plan holds its invoices already (unique index), so only a payment or a promise can have come
        promised = moves.filtered(
            lambda m: m.ar_dunning_promise_line_ids.filtered(lambda p: p.state in PROMISE_HOLDING_STATES)
        )
        paid = moves.filtered(lambda m: m.payment_state not in ("not_paid", "partial") or m.state != "posted")
        if promised or paid:
            raise UserError(
                self.env._(
                    "These invoices were paid or promised meanwhile: %(names)s. Propose the plan again.",
                    names=", ".join((promised | paid).mapped("name")),
                )
            )
        self._ar_check_bookable(moves)
        count = self.instalment_count
        dates = self.instalment_ids.sorted("number").mapped("date")
        # the amounts of today, after the lock: a payment that arrived since the proposal is not planned twice
        shares = self._ar_split(moves, count)
        instalments = self.instalment_ids.sorted("number")
        line_ids_by_number = {k: [] for k in range(count)}
        for move in moves:
            self.invoice_ids.filtered(lambda i, m=move: i.move_id == m).date_due_original = move.invoice_date_due
            new_lines = self._ar_book_move(move, shares[move], dates)
            for k, line in enumerate(new_lines):
                line_ids_by_number[k].append(line.id)
            self.invoice_ids.filtered(lambda i, m=move: i.move_id == m).amount = move.amount_residual
        for k, instalment in enumerate(instalments):
            lines = self.env["account.move.line"].browse(line_ids_by_number[k])
            instalment.write(
                {
                    "line_ids": [Command.set(lines.ids)],
                    "amount": self.currency_id.round(
                        sum(-ln.move_id.direction_sign * ln.amount_currency for ln in lines)
                    ),
                }
            )
        self.write(
            {
                "state": "active",
                "date_accepted": fields.Date.context_today(self),
                "amount_total": self.currency_id.round(sum(instalments.mapped("amount"))),
            }
        )
        self.message_post(
            body=self.env._(
                "Payment plan booked: the invoices' open amounts are due in %(count)s instalments.", count=count
            )
        )

    def _ar_book_move(self, move, shares, dates):
        """Split one invoice's open due lines into the instalments; returns the due lines, in order."""
        sign = -move.direction_sign  # +1 for a customer invoice: its receivable is a debit
        terms = move.line_ids.filtered(lambda ln: ln.display_type == "payment_term" and not ln.reconciled)
        terms = terms.sorted(lambda ln: (ln.date_maturity or ln.date, ln.id))
        partly = terms.filtered(
            lambda ln: ln.currency_id.compare_amounts(ln.amount_residual_currency, ln.amount_currency)
        )
        unpaid = terms - partly
        if len(unpaid) > len(shares):
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s already has %(count)s open instalments: choose at least as many in the plan.",
                    invoice=move.name,
                    count=len(unpaid),
                )
            )
        template = terms[:1]
        # the company-currency part of each share, pro rata of the open amounts (the remainder on the last)
        open_cur = sum(terms.mapped("amount_residual_currency"))
        open_bal = sum(terms.mapped("amount_residual"))
        company_currency = move.company_currency_id
        balances, rest = [], open_bal
        for k, share in enumerate(shares):
            if k == len(shares) - 1:
                balances.append(company_currency.round(rest))
            else:
                part = company_currency.round(open_bal * sign * share / open_cur) if open_cur else 0.0
                balances.append(part)
                rest -= part
        counterparts = {}
        commands = []
        for line in partly:
            # keep the paid part on the line (its original due date); its reconciliation is made again below
            counterparts[line] = line.matched_debit_ids.debit_move_id | line.matched_credit_ids.credit_move_id
            commands.append(
                Command.update(
                    line.id,
                    {
                        "amount_currency": line.amount_currency - line.amount_residual_currency,
                        "balance": line.balance - line.amount_residual,
                    },
                )
            )
        for k, share in enumerate(shares):
            vals = {
                "amount_currency": sign * share,
                "balance": balances[k],
                "date_maturity": dates[k],
            }
            if k < len(unpaid):
                if unpaid[k].discount_date:
                    # the plan replaces the payment terms: no early payment discount on an instalment
                    vals.update(discount_date=False, discount_amount_currency=0.0, discount_balance=0.0)
                commands.append(Command.update(unpaid[k].id, vals))
            else:
                commands.append(
                    Command.create(
                        dict(
                            vals,
                            move_id=move.id,
                            display_type="payment_term",
                            account_id=template.account_id.id,
                            partner_id=template.partner_id.id,
                            currency_id=template.currency_id.id,
                            name=template.name,
                        )
                    )
                )
        before = set(move.line_ids.ids)
        # the invoice lines do not change: Odoo must not re-create the payment terms from the invoice's term
        # (skip_invoice_sync); only the receivable's due lines of a posted invoice change, as Odoo's own bank
        # statement lines rewrite their posted entries (skip_readonly_check); hash and lock dates checked above
        move.with_context(skip_invoice_sync=True, skip_readonly_check=True).write(
            {"line_ids": commands, "invoice_date_due": max(dates)}
        )
        for line, others in counterparts.items():
            # Odoo reverses the exchange-difference entry of a foreign-currency payment with its partials: that
            # entry's line is settled by its reversal, and reconciling again books the difference anew
            still_open = others.filtered(lambda ln: not ln.reconciled)
            if still_open:
                (line | still_open).reconcile()
        created = move.line_ids.filtered(lambda ln: ln.id not in before)
        return (unpaid | created).sorted(lambda ln: (ln.date_maturity, ln.id))

    # ------------------------------------------------------------------
    # Calling the plan in
    # ------------------------------------------------------------------
    # § 498 BGB, Gesamtfälligstellung bei Teilzahlungsdarlehen (https://www.gesetze-im-internet.de/bgb/__498.html),
    # applied to instalment deals (Teilzahlungsgeschäfte) by § 508 BGB:
    # (1) Der Darlehensgeber kann den Verbraucherdarlehensvertrag bei einem Darlehen, das in Teilzahlungen zu
    # tilgen ist, wegen Zahlungsverzugs des Darlehensnehmers nur dann kündigen, wenn
    #   1. der Darlehensnehmer
    #      a) mit mindestens zwei aufeinander folgenden Teilzahlungen ganz oder teilweise in Verzug ist,
    #      b) bei einer Vertragslaufzeit bis zu drei Jahren mit mindestens 10 Prozent oder bei einer
    #         Vertragslaufzeit von mehr als drei Jahren mit mindestens 5 Prozent des Nennbetrags des Darlehens in
    #         Verzug ist und
    #   2. der Darlehensgeber dem Darlehensnehmer erfolglos eine zweiwöchige Frist zur Zahlung des rückständigen
    #      Betrags mit der Erklärung gesetzt hat, dass er bei Nichtzahlung innerhalb der Frist die gesamte
    #      Restschuld verlange.
    # Der Darlehensgeber soll dem Darlehensnehmer spätestens mit der Fristsetzung ein Gespräch über die
    # Möglichkeiten einer einverständlichen Regelung anbieten.
    # No. 1 is ``_ar_de_arrears_missing``; the warning of no. 2 with the offer of sentence 2 is the letter of
    # ``action_de_call_in_notice`` (report ``action_report_plan_de_call_in_warning``); its period is checked by
    # ``_ar_de_notice_missing``, counted by ``tools.consumer_credit_de``.

    def _ar_de_arrears(self, on_date):
        """The instalments in arrears on ``on_date``: due before it and not (wholly) paid, in order."""
        self.ensure_one()
        return self.instalment_ids.sorted("number").filtered(
            lambda i: i.date < on_date and i.currency_id.compare_amounts(i.amount_residual, 0) > 0
        )

    def _ar_de_arrears_missing(self, on_date):
        """§ 498(1) sentence 1 no. 1 BGB: the unmet arrears conditions on ``on_date``, as translated sentences.
        At least two consecutive instalments in arrears, wholly or partly (a), amounting to at least 10 % of the
        nominal amount, 5 % when the term exceeds three years (b)."""
        self.ensure_one()
        env = self.env
        missing = []
        arrears = self._ar_de_arrears(on_date)
        numbers = arrears.mapped("number")
        if not any(b == a + 1 for a, b in pairwise(numbers)):
            missing.append(env._("the customer is not in arrears with two consecutive instalments"))
        instalments = self.instalment_ids.sorted("number")
        long_term = instalments and instalments[-1].date > self.date + relativedelta(years=3)
        share = 5.0 if long_term else 10.0
        amount = sum(arrears.mapped("amount_residual"))
        if self.currency_id.compare_amounts(amount, self.amount_total * share / 100.0) < 0:
            missing.append(env._("the arrears are less than %(share)s %% of the plan's amount", share=f"{share:g}"))
        return missing

    def _ar_de_notice_missing(self, on_date):
        """§ 498(1) sentence 1 no. 2 BGB: what is missing on ``on_date`` about the warning, as translated sentences.
        The deadline stated in the letter must have passed (the plan is called in from the day after), and the
        arrears it stated must not have been paid meanwhile (then the warning was successful: a new one is needed
        for new arrears)."""
        self.ensure_one()
        env = self.env
        notice, deadline = self.de_call_in_notice_date, self.de_call_in_deadline
        if not notice:
            return [env._("no call-in warning with a two-week period to pay the arrears has been given")]
        if on_date <= deadline:
            return [
                env._(
                    "the two-week period of the call-in warning of %(date)s runs until %(deadline)s",
                    date=format_date(env, notice),
                    deadline=format_date(env, deadline),
                )
            ]
        if not self._ar_de_arrears(notice) & self._ar_de_arrears(on_date):
            return [
                env._(
                    "the arrears stated in the call-in warning of %(date)s have been paid: give a new warning",
                    date=format_date(env, notice),
                )
            ]
        return []

    def _ar_de_call_in_conditions(self, on_date):
        """§ 498(1) BGB (with § 508 for instalment sales): the unmet conditions for calling a German consumer's plan
        in on ``on_date``, as translated sentences (empty: it may be called in)."""
        self.ensure_one()
        return self._ar_de_arrears_missing(on_date) + self._ar_de_notice_missing(on_date)

    def _ar_de_call_in_warning_missing(self, on_date):
        """What prevents giving the § 498 warning on ``on_date`` (translated sentences): without the arrears of
        no. 1 the warning is void; a warning whose period runs is not given twice; the offer of a conversation
        (sentence 2) needs the company's phone or e-mail; the letter goes to the buyer's e-mail address."""
        self.ensure_one()
        env = self.env
        missing = self._ar_de_arrears_missing(on_date)
        if self.de_call_in_deadline and on_date <= self.de_call_in_deadline:
            missing.append(
                env._(
                    "a call-in warning was given on %(date)s and its period runs until %(deadline)s (print it again "
                    "from the plan)",
                    date=format_date(env, self.de_call_in_notice_date),
                    deadline=format_date(env, self.de_call_in_deadline),
                )
            )
        if not (self.company_id.phone or self.company_id.email):
            missing.append(
                env._("the company has no phone number or e-mail address to offer the customer a conversation")
            )
        if not self.notify_partner_id.email:
            missing.append(env._("the customer has no e-mail address to send the warning to"))
        return missing

    def _ar_de_call_in_lang(self):
        """The letter's language: the buyer's, German when none is set (the letter is a German consumer's)."""
        self.ensure_one()
        return self.notify_partner_id.lang or self.partner_id.lang or "de_DE"

    def _ar_de_call_in_letter_values(self):
        """What the warning letter states, in the language of ``self.env`` (the report renders it; the figures are
        those of the warning's date). The sentences that carry the law are whole translated sentences."""
        self.ensure_one()
        env = self.env
        currency = self.currency_id

        def strong(text):
            return Markup("<strong>%s</strong>") % text

        bank = self.company_id.partner_id.bank_ids[:1]
        invoices = ", ".join(self.move_ids.mapped("name"))
        return {
            "arrears": self._ar_de_arrears(self.de_call_in_notice_date),
            "arrears_total": self.de_call_in_amount,
            "reference": env._(
                "Payment plan no. %(number)s of %(date)s, invoices %(invoices)s",
                number=self.id,
                date=format_date(env, self.date),
                invoices=invoices,
            ),
            # § 498(1) sentence 1 no. 2 BGB: the period to pay the arrears, stated as a date ...
            "period": env._(
                "We hereby set you a period of two weeks, until %(deadline)s, to pay the arrears of %(arrears)s.",
                deadline=strong(format_date(env, self.de_call_in_deadline)),
                arrears=strong(format_amount(env, self.de_call_in_amount, currency)),
            ),
            # ... with the statement that the whole remaining debt will be claimed otherwise
            "call_in": env._(
                "If you do not pay the arrears by this date, we will call in the payment plan and demand the whole "
                "remaining debt of %(remaining)s at once (section 498 German Civil Code).",
                remaining=strong(format_amount(env, self.amount_residual, currency)),
            ),
            "bank": bank
            and env._(
                "Please transfer the amount to our account %(account)s, quoting the invoice numbers %(invoices)s.",
                account=bank.acc_number,
                invoices=invoices,
            ),
        }

    def _ar_de_call_in_letter_pdf(self):
        """The warning letter as PDF bytes, rendered as the dunning letters are (``ar.dunning.line._render_letters``:
        wkhtmltopdf called directly, which also runs in tests)."""
        self.ensure_one()
        report_ref = "ar_dunning.action_report_plan_de_call_in_warning"
        Report = self.env["ir.actions.report"]
        html = Report._render_qweb_html(report_ref, self.ids)[0]
        bodies, _ids, _header, _footer, specific_args = Report._prepare_html(html, report_model=self._name)
        return Report._run_wkhtmltopdf(bodies, report_ref=report_ref, specific_paperformat_args=specific_args)

    def action_de_call_in_notice(self):
        """Give a German consumer the warning of § 498(1) sentence 1 no. 2 BGB: a letter setting two weeks to pay
        the arrears, stating that the whole remaining debt will otherwise be claimed, with the offer of a
        conversation about an amicable settlement (sentence 2). The letter (PDF) is attached to the plan's chatter
        and e-mailed to the buyer; the warning's date is recorded only with both (all or nothing)."""
        today = fields.Date.context_today(self)
        for plan in self:
            if not plan.de_consumer:
                raise UserError(
                    self.env._(
                        "The call-in warning of § 498 German Civil Code is only for a private customer's payment plan "
                        "under German law."
                    )
                )
            if plan.state not in ("late", "broken"):
                raise UserError(self.env._("The call-in warning is only given for a late or broken payment plan."))
            missing = plan._ar_de_call_in_warning_missing(today)
            if missing:
                raise UserError(
                    self.env._(
                        "The call-in warning cannot be given (§ 498 German Civil Code): %(missing)s.",
                        missing="; ".join(missing),
                    )
                )
        template = self.env.ref("ar_dunning.mail_template_plan_de_call_in_warning")
        for plan in self:
            # one savepoint per letter: a failed rendering or mail leaves neither the date nor a half letter
            with self.env.cr.savepoint():
                plan._ar_de_call_in_warn(today, template)
        return True

    def _ar_de_call_in_warn(self, today, template):
        self.ensure_one()
        arrears = self._ar_de_arrears(today)
        self.write({"de_call_in_notice_date": today, "de_call_in_amount": sum(arrears.mapped("amount_residual"))})
        plan = self.with_context(lang=self._ar_de_call_in_lang())
        attachment = self.env["ir.attachment"].create(
            {
                "name": plan.env._("Call-in warning %(date)s.pdf", date=fields.Date.to_string(today)),
                "raw": plan._ar_de_call_in_letter_pdf(),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )
        self.de_call_in_letter_id = attachment
        # not _ar_notify_buyer: the warning is a legal notice, sent whatever the plan's source and never skipped
        template.send_mail(self.id, email_values={"attachment_ids": [Command.link(attachment.id)]})
        self.message_post(
            body=self.env._(
                "Call-in warning sent to %(contact)s: arrears of %(arrears)s to be paid by %(deadline)s, else the "
                "whole remaining amount of %(remaining)s becomes due (§ 498 German Civil Code); a conversation "
                "about an amicable settlement was offered.",
                contact=self.notify_partner_id.email,
                arrears=format_amount(self.env, self.de_call_in_amount, self.currency_id),
                deadline=format_date(self.env, self.de_call_in_deadline),
                remaining=format_amount(self.env, self.amount_residual, self.currency_id),
            ),
            attachment_ids=attachment.ids,
        )

    def action_de_call_in_letter_print(self):
        """Download the warning letter as it was sent (never rendered again: its date and deadline stay)."""
        self.ensure_one()
        if not self.de_call_in_letter_id:
            raise UserError(self.env._("No call-in warning letter has been sent for this payment plan."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.de_call_in_letter_id.id}?download=true",
            "target": "download",
        }

    def action_call_in(self):
        """Call the plan in: every remaining instalment becomes due today (its due lines' due date).

        A business plan may be called in once late or broken. A German consumer's only under § 498(1) BGB
        (``_ar_de_call_in_conditions``); another consumer's once broken."""
        today = fields.Date.context_today(self)
        for plan in self:
            if plan.state not in ("late", "broken"):
                raise UserError(self.env._("Only a late or broken payment plan can be called in."))
            if plan.consumer and plan.law_country_id.code == "DE":
                missing = plan._ar_de_call_in_conditions(today)
                if missing:
                    raise UserError(
                        self.env._(
                            "This German consumer's payment plan cannot be called in yet (§ 498 German Civil Code): "
                            "%(missing)s.",
                            missing="; ".join(missing),
                        )
                    )
            elif plan.consumer and plan.state != "broken":
                raise UserError(self.env._("A private customer's payment plan can only be called in once broken."))
            # a payment on the invoices at the same moment: the due lines, then the invoices (see _ar_lock_moves)
            self._ar_lock_moves(plan.invoice_ids.move_id)
            lines = plan.instalment_ids.line_ids.filtered(lambda ln: not ln.reconciled and ln.date_maturity > today)
            for move, move_lines in lines.grouped("move_id").items():
                self._ar_check_bookable(move)
                # only due dates of the receivable change (see _ar_book_move)
                move.with_context(skip_invoice_sync=True, skip_readonly_check=True).write(
                    {
                        "line_ids": [Command.update(line.id, {"date_maturity": today}) for line in move_lines],
                        "invoice_date_due": today,
                    }
                )
            plan.instalment_ids.filtered(lambda i, t=today: i.date > t and i.amount_residual > 0).date = today
            plan.write({"state": "broken", "date_called_in": today, "date_resolved": plan.date_resolved or today})
            plan.message_post(body=self.env._("Payment plan called in: the remaining instalments are due today."))
        return True

    # ------------------------------------------------------------------
    # On schedule, late, broken, completed
    # ------------------------------------------------------------------

    def _ar_schedule_state(self, on_date):
        """Where a booked plan stands on ``on_date``, without changing it: "completed" when every instalment is
        paid, "broken" when one is still open after the policy's grace days, "late" when one is past due,
        else "active". Read from the due lines themselves: a payment being reconciled right now counts at once."""
        self.ensure_one()
        open_instalments = self.instalment_ids.filtered(lambda i: any(not ln.reconciled for ln in i.line_ids))
        if not open_instalments:
            return "completed"
        past = open_instalments.filtered(lambda i: i.date < on_date)
        if any(i.date + timedelta(days=self.grace_days) < on_date for i in past):
            return "broken"
        return "late" if past else "active"

    def _ar_update_states(self, on_date=None):
        """Follow the booked plans: completed when all is paid, late when an instalment is past due,
        broken when one is still open after the policy's grace days. Returns the plans broken now.

        ``on_date`` is today or earlier: a plan breaks (and its buyer is told) on the day it happens, never
        because someone looks ahead (a run dated later uses ``_ar_schedule_state``)."""
        on_date = on_date or fields.Date.context_today(self)
        broken = self.browse()
        for plan in self.filtered(lambda p: p.state in PLAN_SCHEDULED_STATES):
            state = plan._ar_schedule_state(on_date)
            if state == "completed":
                plan._ar_complete(on_date)
            elif state == "broken":
                plan.write({"state": state, "date_resolved": on_date})
                broken |= plan
            elif plan.state != state:
                plan.state = state
        if broken:
            broken._ar_notify_buyer("ar_dunning.mail_template_plan_broken")
        return broken

    def _ar_complete(self, on_date):
        """All instalments paid: the plans are completed, and the interest that ran on them is invoiced (once)."""
        self.write({"state": "completed", "date_resolved": on_date})
        self._ar_invoice_plan_interest(on_date)

    @api.model
    def _cron_update_states(self):
        plans = self.search([("state", "in", PLAN_SCHEDULED_STATES)])
        for company, company_plans in plans.grouped("company_id").items():
            company_plans.with_company(company)._ar_update_states()

    # ------------------------------------------------------------------
    # Interest of a business plan whose interest runs (see the comment on the Late Payment Directive above)
    # ------------------------------------------------------------------

    @staticmethod
    def _ar_line_payments(line, on_date):
        """[(amount, until)] of an instalment's due line, in the invoice's currency: each part paid until the day
        it was paid (the date of its reconciliation), the part still open until ``on_date``."""
        parts = [(partial.debit_amount_currency, partial.max_date) for partial in line.matched_credit_ids]
        parts += [(partial.credit_amount_currency, partial.max_date) for partial in line.matched_debit_ids]
        residual = abs(line.amount_residual_currency)
        if residual and not line.reconciled:
            parts.append((residual, on_date))
        return parts

    def _ar_interest_accrued(self, on_date):
        """({invoice: interest}, [missing rates]): the statutory interest that ran on the plan's instalments, each
        part from the day after the invoice's original due date until it was paid (open: until ``on_date``),
        in the plan's currency. The rates are the dunning run's (``ar.dunning.interest.rate``, business rate of
        the law governing the customer's contract); a day without a rate is named in ``missing``, never 0 %."""
        self.ensure_one()
        accrued = defaultdict(float)
        if not self.interest or self.consumer:
            return accrued, []
        company = self.company_id
        country = self.law_country_id or self.partner_id._ar_dunning_law_country(company)
        # sudo: rates are configuration, read for computing claims (as the dunning run does)
        rates = (
            self.env["ar.dunning.interest.rate"]
            .sudo()
            .search([("country_id", "=", country.id), ("customer_type", "=", "b2b")])
        )
        periods = rates._get_periods(country, "b2b")
        original = {i.move_id: i.date_due_original for i in self.invoice_ids if i.date_due_original}
        missing = []
        for line in self.instalment_ids.line_ids:
            if line.move_id not in original:
                continue
            start = original[line.move_id] + timedelta(days=1)
            for amount, until in self._ar_line_payments(line, on_date):
                interest, lacking = rates._compute_interest(
                    amount, start, until, country=country, customer_type="b2b", periods=periods
                )
                accrued[line.move_id] += interest
                missing += [label for label in lacking if label not in missing]
        return accrued, missing

    def _ar_interest_due(self, on_date):
        """({invoice: interest still to invoice}, [missing rates]): the interest accrued on each invoice's
        instalments less the interest reminders already invoiced for that invoice (the dunning run's history,
        before and during the plan), so that the same days are never claimed twice."""
        self.ensure_one()
        accrued, missing = self._ar_interest_accrued(on_date)
        if not accrued:
            return {}, missing
        moves = self.env["account.move"].concat(*accrued)
        invoiced = self.env["ar.dunning.run"]._legal_history(moves)["invoiced"]
        currency = self.currency_id
        due = {}
        for move in moves:
            amount = currency.round(accrued[move] - invoiced.get(move.id, (0.0, 0.0))[0])
            if currency.compare_amounts(amount, 0) > 0:
                due[move] = amount
        return due, missing

    def _ar_invoice_plan_interest(self, on_date=None, *, raise_problem=False):
        """Invoice the interest that ran on completed plans whose interest runs: once per plan (the plan's link,
        the invoice's unique link to its plan, and the plan's row locked meanwhile). When it cannot be invoiced
        (a missing rate, no sales journal) nothing is computed with 0: the plan stays completed, the accountant
        gets a note and an activity naming the cause and the fix, and presses Invoice Interest once fixed
        (``raise_problem``: the cause is raised to the user instead). Returns the invoices made."""
        on_date = on_date or fields.Date.context_today(self)
        moves = self.env["account.move"]
        for plan in self.filtered(lambda p: p.state == "completed" and p.interest and not p.consumer):
            # a second caller at the same moment waits here, then sees the invoice of the first
            self.env.cr.execute(
                SQL("SELECT interest_move_id FROM ar_dunning_plan WHERE id = %s FOR NO KEY UPDATE", plan.id)
            )
            plan.invalidate_recordset(["interest_move_id"])
            if plan.interest_move_id:
                continue
            # notes and errors for the accountant in their language (a buyer's payment may complete the plan)
            user = plan._ar_follow_up_user(plan.partner_id._ar_dunning_policy(plan.company_id))
            staff = plan
            if not raise_problem:
                staff = plan.with_context(lang=user.lang or plan.company_id.partner_id.lang or self.env.lang)
            try:
                with self.env.cr.savepoint():
                    move, problem = staff._ar_make_interest_invoice(on_date)
            except UserError as exc:
                # the payment that completed the plan must not fail for its interest: the accountant fixes the
                # cause and retries (the savepoint undid the half-made invoice)
                move, problem = False, exc.args[0] if exc.args else str(exc)
            if problem and raise_problem:
                raise UserError(problem)
            if problem:
                staff._ar_interest_problem(problem, user)
                continue
            staff._ar_interest_activity_done(user)
            if move:
                moves |= move
        return moves

    def _ar_make_interest_invoice(self, on_date):
        """(invoice or False, problem or False) for one completed plan; raises UserError from the invoice."""
        self.ensure_one()
        env = self.env
        due, missing = self._ar_interest_due(on_date)
        if missing:
            return False, env._(
                "The statutory interest rate is missing for %(rates)s. Enter it under Invoicing > Configuration > "
                "Follow-up > Late-Payment Interest Rates, then press Invoice Interest on the payment plan.",
                rates=", ".join(missing),
            )
        if not due:
            self.interest_pending = False
            self.message_post(
                body=env._(
                    "Payment plan completed: no interest is left to invoice (paid on the original due dates, or "
                    "already invoiced with the reminders)."
                ),
                subtype_xmlid="mail.mt_note",
            )
            return False, False
        partner = self.partner_id
        # the invoice is the customer's: its texts in the customer's language
        customer_env = self.with_context(lang=partner.lang or "en_US").env
        plan_date = format_date(customer_env, self.date, lang_code=customer_env.lang)
        original = {i.move_id: i.date_due_original for i in self.invoice_ids}
        line_vals = [
            {
                "name": customer_env._(
                    "Late-payment interest on %(invoice)s from its due date %(due)s until each instalment of the "
                    "payment plan of %(date)s was paid",
                    invoice=move.name,
                    due=format_date(customer_env, original[move], lang_code=customer_env.lang),
                    date=plan_date,
                ),
                "price_unit": amount,
            }
            for move, amount in due.items()
        ]
        move = env["account.move"]._ar_dunning_post_charges(
            partner,
            line_vals,
            company=self.company_id,
            currency=self.currency_id,
            invoice_date=on_date,
            ref=customer_env._(
                "Late-payment interest, payment plan of %(date)s: %(invoices)s",
                date=plan_date,
                invoices=", ".join(m.name for m in due),
            ),
            ar_dunning_interest_plan_id=self.id,
        )
        self.write({"interest_move_id": move.id, "interest_pending": False})
        # the customer receives it as any invoice: queued for Odoo's sending cron, which delivers it on the
        # customer's own channel, sent in the name of the plan's follow-up user (the payer may be a portal user)
        if not move.sending_data:
            author = self._ar_follow_up_user(partner._ar_dunning_policy(self.company_id))
            move.sending_data = {"author_user_id": author.id, "author_partner_id": author.partner_id.id}
            env.ref("account.ir_cron_account_move_send")._trigger()
        self.message_post(
            body=Markup("%s %s")
            % (
                env._("Payment plan completed: the interest that ran on its instalments is invoiced:"),
                move._get_html_link(),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return move, False

    def _ar_interest_activity_summary(self, user):
        return self.with_context(lang=user.lang or self.env.lang).env._(
            "Invoice the interest of the payment plan of %(customer)s", customer=self.partner_id.name
        )

    def _ar_interest_problem(self, problem, user):
        """The interest of this completed plan could not be invoiced: a note, and an activity for the accountant
        ``user`` (the plan's follow-up user)."""
        self.ensure_one()
        self.interest_pending = True
        self.message_post(
            body=self.env._("The interest of this payment plan is not invoiced yet: %(problem)s", problem=problem),
            subtype_xmlid="mail.mt_note",
        )
        if not user:
            return
        summary = self._ar_interest_activity_summary(user)
        if self.activity_ids.filtered(lambda a: a.summary == summary and a.user_id == user):
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=user.id, summary=summary, note=plaintext2html(problem)
        )

    def _ar_interest_activity_done(self, user):
        self.ensure_one()
        if user:
            summary = self._ar_interest_activity_summary(user)
            self.activity_ids.filtered(lambda a: a.summary == summary).action_feedback()

    def action_invoice_interest(self):
        """Invoice the interest of completed plans that could not be invoiced at completion (Invoice Interest)."""
        for plan in self:
            if plan.state != "completed" or not plan.interest or plan.interest_move_id:
                raise UserError(
                    self.env._("Only the interest of a completed payment plan whose interest runs can be invoiced.")
                )
            plan._ar_invoice_plan_interest(raise_problem=True)
        return True

    # ------------------------------------------------------------------
    # For the portal
    # ------------------------------------------------------------------

    def _ar_portal_values(self):
        self.ensure_one()
        states = dict(self._fields["state"]._description_selection(self.env))
        istates = dict(self.env["ar.dunning.plan.instalment"]._fields["state"]._description_selection(self.env))
        instalments = [
            {
                "number": i.number,
                "date": i.date,
                "amount": i.amount,
                "amount_residual": i.amount_residual,
                "state": i.state,
                "state_label": istates.get(i.state),
            }
            for i in self.instalment_ids.sorted("number")
        ]
        paid = self.amount_paid
        return {
            "plan": self,
            "name": self.name,
            "state": self.state,
            "state_label": states.get(self.state),
            "currency": self.currency_id,
            "amount_total": self.amount_total,
            "amount_residual": self.amount_residual,
            "instalments": instalments,
            "progress": {"paid": paid, "total": self.amount_total, "percent": round(self.progress)},
            "next": {"date": self.next_date, "amount": self.next_amount} if self.next_date else False,
            "invoices": self.move_ids,
            "collect_mode": self.collect_mode,
            # a business plan whose interest runs: what ran so far, invoiced once the plan is paid
            "interest_accrued": self.interest_accrued if self.interest else False,
        }


class ArDunningPlanInvoice(models.Model):
    _name = "ar.dunning.plan.invoice"
    _description = "Invoice under a Payment Plan"
    _order = "plan_id, id"
    _check_company_auto = True

    plan_id = fields.Many2one("ar.dunning.plan", required=True, index=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, check_company=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    state = fields.Selection(related="plan_id.state", store=True, index=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount = fields.Monetary(currency_field="currency_id", readonly=True, help="The invoice's open amount planned.")
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Still Open")
    date_due_original = fields.Date(
        string="Original Due Date",
        readonly=True,
        help="The invoice's due date before the plan: with a plan whose interest runs, the statutory interest on a "
        "missed instalment is counted from it.",
    )

    # one proposed or running plan per invoice, enforced by PostgreSQL (concurrent proposals included)
    _move_holding_uniq = models.UniqueIndex(
        "(move_id) WHERE state IN ('proposed', 'active', 'late')",
        "This invoice is already under a payment plan.",
    )


class ArDunningPlanInstalment(models.Model):
    _name = "ar.dunning.plan.instalment"
    _description = "Payment Plan Instalment"
    _order = "plan_id, number"
    _check_company_auto = True

    plan_id = fields.Many2one("ar.dunning.plan", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    number = fields.Integer(required=True)
    date = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(currency_field="currency_id")
    line_ids = fields.Many2many(
        "account.move.line",
        "ar_dunning_plan_instalment_aml_rel",
        "instalment_id",
        "line_id",
        string="Due Lines",
        readonly=True,
    )
    amount_residual = fields.Monetary(
        string="Still Open", currency_field="currency_id", compute="_compute_amount_residual", store=True
    )
    state = fields.Selection(
        [("planned", "Planned"), ("due", "Due"), ("paid", "Paid"), ("late", "Late")], compute="_compute_state"
    )

    @api.depends("line_ids.amount_residual_currency", "amount")
    def _compute_amount_residual(self):
        for instalment in self:
            if instalment.line_ids:
                instalment.amount_residual = sum(
                    -line.move_id.direction_sign * line.amount_residual_currency for line in instalment.line_ids
                )
            else:
                instalment.amount_residual = instalment.amount

    @api.depends("amount_residual", "date")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for instalment in self:
            if instalment.line_ids and instalment.currency_id.is_zero(instalment.amount_residual):
                instalment.state = "paid"
            elif instalment.date < today:
                instalment.state = "late"
            elif instalment.date == today:
                instalment.state = "due"
            else:
                instalment.state = "planned"
