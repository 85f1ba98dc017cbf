from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import format_amount

from ..tools.dunning_level import tone_from_score, tone_score
from ..tools.vat_check import is_eu_vat, vat_syntax
from .ar_dunning_policy import TONE_SELECTION


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_dunning_policy_id = fields.Many2one(
        "ar.dunning.policy",
        string="Dunning Policy",
        groups="account.group_account_invoice",
        company_dependent=True,
        help="Overrides the company's default dunning policy for this customer.",
    )
    ar_dunning_contact_id = fields.Many2one(
        "res.partner",
        string="Dunning Contact",
        groups="account.group_account_invoice",
        help="Who receives reminders. Empty: the first invoice-address contact with an e-mail, else the customer.",
    )
    ar_dunning_on_hold = fields.Boolean(
        string="Reminders on Hold",
        company_dependent=True,
        groups="account.group_account_invoice",
        help="No reminder is sent to this customer while set.",
    )
    ar_dunning_credit_hold = fields.Boolean(
        string="Credit Hold",
        groups="account.group_account_invoice",
        company_dependent=True,
        help="Set by a dunning level (or by hand): no new customer invoice can be posted until it is lifted.",
    )
    ar_dunning_tone_override = fields.Selection(
        TONE_SELECTION,
        string="Reminder Tone Override",
        groups="account.group_account_invoice",
        company_dependent=True,
        help="Forces the tone of reminders instead of the one computed from the payment history.",
    )
    ar_dunning_de_agreed_date = fields.Selection(
        [("agreed", "Agreed in the contract"), ("not_agreed", "Not agreed")],
        string="Payment Date (German Law)",
        company_dependent=True,
        groups="account.group_account_invoice",
        help="Whether the payment date was agreed in the contract with this German customer (§ 286(2) BGB: "
        "default from the day after the due date). Empty: the company's setting.",
    )
    ar_dunning_governing_law_id = fields.Many2one(
        "res.country",
        string="Governing Law",
        company_dependent=True,
        groups="account.group_account_invoice",
        help="The country whose law your contract with this business customer chose, when it is not your "
        "company's. Empty: your company's country, the seller's law (Rome I Regulation, art. 4(1)(a) and (b)). "
        "Not used for consumers: their own country's protective rules apply (art. 6).",
    )
    ar_dunning_tone_score = fields.Float(
        string="Payment Score", compute="_compute_ar_dunning_tone", groups="account.group_account_invoice"
    )
    ar_dunning_tone = fields.Selection(
        TONE_SELECTION,
        string="Reminder Tone",
        compute="_compute_ar_dunning_tone",
        groups="account.group_account_invoice",
    )
    ar_dunning_tone_explanation = fields.Text(
        string="Tone Explanation", compute="_compute_ar_dunning_tone", groups="account.group_account_invoice"
    )
    ar_dunning_promise_ids = fields.One2many(
        "ar.dunning.promise", "partner_id", string="Promises to Pay", groups="account.group_account_invoice"
    )
    ar_dunning_plan_count = fields.Integer(
        string="Payment Plans", compute="_compute_ar_dunning_plan_count", groups="account.group_account_invoice"
    )
    # credit monitoring: exposure against Odoo's own credit limit (credit_limit), live
    ar_credit_open = fields.Monetary(
        string="Open Receivables",
        compute="_compute_ar_credit_exposure",
        groups="account.group_account_invoice",
        help="Posted, unpaid customer invoices less credit notes and unreconciled payments.",
    )
    ar_credit_overdue = fields.Monetary(
        string="Overdue", compute="_compute_ar_credit_exposure", groups="account.group_account_invoice"
    )
    ar_credit_draft = fields.Monetary(
        string="Draft Invoices",
        compute="_compute_ar_credit_exposure",
        groups="account.group_account_invoice",
        help="Customer invoices and credit notes not posted yet.",
    )
    ar_credit_to_invoice = fields.Monetary(
        string="Ordered, Not Invoiced",
        compute="_compute_ar_credit_exposure",
        groups="account.group_account_invoice",
        help="What Odoo counts as still to invoice on confirmed sales orders (only with the Sales app).",
    )
    ar_credit_exposure = fields.Monetary(
        string="Credit Exposure",
        compute="_compute_ar_credit_exposure",
        groups="account.group_account_invoice",
        help="Open receivables + draft invoices + ordered but not invoiced, in the company's currency.",
    )
    ar_credit_headroom = fields.Monetary(
        string="Left Within Limit",
        compute="_compute_ar_credit_exposure",
        groups="account.group_account_invoice",
        help="Credit limit less the exposure; negative when the customer is over its limit.",
    )
    ar_credit_over_limit = fields.Boolean(
        string="Over Credit Limit", compute="_compute_ar_credit_exposure", groups="account.group_account_invoice"
    )
    ar_credit_risk_id = fields.Many2one(
        "ar.credit.risk",
        string="Credit Risk",
        compute="_compute_ar_credit_risk_id",
        groups="account.group_account_invoice",
    )
    ar_credit_grade = fields.Selection(
        [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E")],
        string="Risk Grade",
        compute="_compute_ar_credit_risk_id",
        groups="account.group_account_invoice",
        help="From the last nightly assessment: A no concern … E serious concern.",
    )
    ar_credit_reasons = fields.Text(
        string="Risk Reasons", compute="_compute_ar_credit_risk_id", groups="account.group_account_invoice"
    )
    ar_vat_check = fields.Selection(
        [
            ("valid", "Valid syntax"),
            ("invalid", "Invalid syntax"),
            ("unknown", "No syntax rule for the country"),
            ("vies_valid", "Confirmed by VIES"),
            ("vies_invalid", "Not confirmed by VIES"),
        ],
        string="VAT Check",
        compute="_compute_ar_vat_check",
        store=True,
        help="Checked when the customer is created or its VAT number changes: the number's syntax (python-stdnum) "
        "and, when a company verifies VAT numbers with VIES (Settings), Odoo's own VIES answer.",
    )
    ar_vat_check_date = fields.Date(string="VAT Checked On", compute="_compute_ar_vat_check", store=True)
    ar_credit_prepayment = fields.Boolean(
        string="Prepayment Required",
        company_dependent=True,
        groups="account.group_account_invoice",
        help="Set from credit monitoring: new invoices are due immediately and work starts once they are paid.",
    )

    @api.depends(lambda self: ["vat", "country_id"] + (["vies_valid"] if "vies_valid" in self._fields else []))
    def _compute_ar_vat_check(self):
        # Odoo's VIES check (base_vat, when installed) runs when one of the companies enabled it
        vies = "vies_valid" in self._fields and bool(
            # sudo: only whether some company verifies VAT numbers with VIES (a setting)
            self.env["res.company"].sudo().search_count([("vat_check_vies", "=", True)], limit=1)
        )
        today = fields.Date.context_today(self)
        for partner in self:
            state = vat_syntax(partner.vat, partner.country_id.code)
            if state == "valid" and vies and is_eu_vat(partner.vat, partner.country_id.code):
                state = "vies_valid" if partner.vies_valid else "vies_invalid"
            partner.ar_vat_check = state or False
            partner.ar_vat_check_date = today if state else False

    @api.depends_context("company")
    def _compute_ar_credit_exposure(self):
        data = self.commercial_partner_id._ar_credit_exposure_data()
        for partner in self:
            figures = data[partner.commercial_partner_id.id]
            partner.ar_credit_open = figures["open"]
            partner.ar_credit_overdue = figures["overdue"]
            partner.ar_credit_draft = figures["draft"]
            partner.ar_credit_to_invoice = figures["to_invoice"]
            partner.ar_credit_exposure = figures["exposure"]
            partner.ar_credit_headroom = figures["limit"] - figures["exposure"] if figures["limit"] else 0.0
            partner.ar_credit_over_limit = figures["over_limit"]

    @api.depends_context("company", "lang")
    def _compute_ar_credit_risk_id(self):
        risks = (
            self.env["ar.credit.risk"]
            .search_fetch(
                [("partner_id", "in", self.commercial_partner_id.ids), ("company_id", "=", self.env.company.id)],
                ["partner_id", "grade", "reason_codes"],
            )
            .grouped("partner_id")
        )
        for partner in self:
            risk = risks.get(partner.commercial_partner_id, self.env["ar.credit.risk"])
            partner.ar_credit_risk_id = risk
            partner.ar_credit_grade = risk.grade
            partner.ar_credit_reasons = risk.reasons

    def _ar_credit_exposure_data(self, on_date=None):
        """Exposure of the commercial partners in self for the current company, in a bounded number of queries.

        :returns: {commercial_partner_id: {open, overdue, draft, to_invoice, exposure, limit, over_limit}}
        The limit is Odoo's own partner credit limit, and only when the company uses credit limits.
        """
        on_date = on_date or fields.Date.context_today(self)
        company = self.env.company
        partners = self.commercial_partner_id.with_company(company)
        zero = {"open": 0.0, "overdue": 0.0, "draft": 0.0, "to_invoice": 0.0}
        data = {p.id: dict(zero) for p in partners}
        if not partners:
            return data
        # sudo: aggregated receivable figures of the company's own customers, shown to accounting users
        Line = self.env["account.move.line"].sudo()
        base = [
            ("company_id", "=", company.id),
            ("partner_id", "in", partners.ids),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]
        for partner, amount in Line._read_group(base, ["partner_id"], ["amount_residual:sum"]):
            data[partner.id]["open"] += amount
        overdue = [*base, ("date_maturity", "<", on_date), ("amount_residual", ">", 0)]
        for partner, amount in Line._read_group(overdue, ["partner_id"], ["amount_residual:sum"]):
            data[partner.id]["overdue"] += amount
        # sudo: drafts of the company's customers, summed
        for partner, amount in (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("commercial_partner_id", "in", partners.ids),
                    ("state", "=", "draft"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                ],
                ["commercial_partner_id"],
                ["amount_total_signed:sum"],
            )
        ):
            data[partner.id]["draft"] += amount
        use_limit = company.account_use_credit_limit
        # credit_to_invoice: filled in by `sale` when installed (and the company uses credit limits)
        read_to_invoice = use_limit and "credit_to_invoice" in partners._fields
        # sudo: the limit and what is still to invoice are accounting figures, read for accounting users
        for partner in partners.sudo():
            figures = data[partner.id]
            figures["to_invoice"] = (partner.credit_to_invoice or 0.0) if read_to_invoice else 0.0
            figures["exposure"] = figures["open"] + figures["draft"] + figures["to_invoice"]
            figures["limit"] = partner.credit_limit if use_limit else 0.0
            figures["over_limit"] = bool(figures["limit"] > 0 and figures["exposure"] > figures["limit"])
        return data

    def _ar_credit_follow_up_user(self, default_policy=None):
        """Who follows this customer up: the dunning collector, else the salesperson (False if none)."""
        self.ensure_one()
        policy = self.ar_dunning_policy_id or default_policy
        return (policy.collector_id if policy else False) or self.user_id

    # ------------------------------------------------------------------ suggested actions (one click)
    def _ar_credit_controlled(self):
        """The customers in self, for a credit controller's one-click action (others: AccessError).

        sudo: a credit controller changes the credit terms of customers whose other data he may not edit;
        the callers write only the credit limit, payment term, prepayment and hold fields, and log it.
        """
        if not self.env.user.has_group("ar_dunning.group_credit_controller"):
            raise AccessError(self.env._("Only a credit controller can change a customer's credit terms."))
        return self.commercial_partner_id.sudo()

    def _ar_credit_log(self, body):
        for partner in self:
            partner.message_post(body=body, subtype_xmlid="mail.mt_note", author_id=self.env.user.partner_id.id)

    def action_ar_credit_lower_limit(self):
        """Lower Odoo's credit limit to the limit suggested from the grade."""
        for partner in self._ar_credit_controlled():
            risk = partner.ar_credit_risk_id
            if not risk or risk.suggested_limit >= risk.credit_limit > 0:
                continue
            old = partner.credit_limit
            partner.credit_limit = risk.suggested_limit
            risk.credit_limit = risk.suggested_limit
            currency = self.env.company.currency_id
            partner._ar_credit_log(
                self.env._(
                    "Credit limit lowered from %(old)s to %(new)s (credit monitoring, grade %(grade)s).",
                    old=format_amount(self.env, old, currency),
                    new=format_amount(self.env, risk.suggested_limit, currency),
                    grade=risk.grade,
                )
            )
        return True

    def action_ar_credit_shorten_terms(self):
        """New invoices get the next shorter payment term of the company."""
        for partner in self._ar_credit_controlled():
            current = partner.property_payment_term_id
            shorter = partner._ar_credit_shorter_term(current)
            if not shorter:
                continue
            partner.property_payment_term_id = shorter
            partner._ar_credit_log(
                self.env._(
                    "Payment terms for new invoices shortened from %(old)s to %(new)s (credit monitoring).",
                    old=current.display_name or self.env._("the company's default"),
                    new=shorter.display_name,
                )
            )
        return True

    def _ar_credit_shorter_term(self, current):
        """The company's payment term with the longest term strictly shorter than ``current`` (30 days if none)."""
        self.ensure_one()

        def length(term):
            return max(term.line_ids.mapped("nb_days") or [0])

        terms = self.env["account.payment.term"].search([("company_id", "in", (False, self.env.company.id))])
        current_days = length(current) if current else 30
        shorter = terms.filtered(lambda t: length(t) < current_days)
        return shorter.sorted(lambda t: (-length(t), t.sequence, t.id))[:1]

    def action_ar_credit_require_prepayment(self):
        """New invoices are due immediately, and the customer is marked as paying in advance."""
        immediate = self.env.ref("account.account_payment_term_immediate", raise_if_not_found=False)
        for partner in self._ar_credit_controlled():
            vals = {"ar_credit_prepayment": True}
            if immediate:
                vals["property_payment_term_id"] = immediate.id
            partner.write(vals)
            partner._ar_credit_log(self.env._("Prepayment required from now on (credit monitoring)."))
        return True

    def action_ar_credit_hold(self):
        """Put the customer on credit hold: posting a new invoice then needs a credit controller or an override."""
        for partner in self._ar_credit_controlled():
            partner.ar_dunning_credit_hold = True
            partner._ar_credit_log(self.env._("Credit hold set (credit monitoring)."))
        return True

    @api.depends_context("company")
    def _compute_ar_dunning_tone(self):
        data = self._ar_dunning_tone_data()
        for partner in self:
            score, tone, explanation = data[partner.commercial_partner_id.id]
            partner.ar_dunning_tone_score = score
            partner.ar_dunning_tone = tone
            partner.ar_dunning_tone_explanation = explanation

    def _ar_dunning_history(self, on_date=None, period_days=365):
        """Payment history of the last 12 months (or ``period_days``) per commercial partner, in bounded queries.

        :returns: {commercial_partner_id: {avg_days_late, share_late, broken, disputes_lost}}
        """
        on_date = on_date or fields.Date.context_today(self)
        since = on_date - timedelta(days=period_days)
        partners = self.commercial_partner_id
        company = self.env.company
        history = {p.id: {"avg_days_late": 0.0, "share_late": 0.0, "broken": 0, "disputes_lost": 0} for p in partners}
        if not partners:
            return history
        # sudo: the score only reads aggregated accounting figures of the company, shown to accounting users
        Partial = self.env["account.partial.reconcile"].sudo()
        groups = Partial._read_group(
            [
                ("debit_move_id.partner_id", "in", partners.ids),
                ("debit_move_id.account_type", "=", "asset_receivable"),
                ("debit_move_id.move_id.move_type", "=", "out_invoice"),
                ("debit_move_id.reconciled", "=", True),
                ("debit_move_id.company_id", "=", company.id),
                ("max_date", ">=", since),
            ],
            groupby=["debit_move_id"],
            aggregates=["max_date:max"],
        )
        stats = {}
        for line, paid_date in groups:
            late = max(0, (paid_date - (line.date_maturity or line.date)).days)
            s = stats.setdefault(line.partner_id.id, [0, 0, 0])
            s[0] += 1
            s[1] += late
            s[2] += 1 if late > 0 else 0
        for pid, (count, days, late_count) in stats.items():
            if pid in history:
                history[pid]["avg_days_late"] = days / count
                history[pid]["share_late"] = late_count / count
        for partner, count in (
            self.env["ar.dunning.promise"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("state", "=", "broken"),
                    ("promise_date", ">=", since),
                ],
                groupby=["partner_id"],
                aggregates=["__count"],
            )
        ):
            history[partner.id]["broken"] = count
        # a broken payment plan counts like a broken promise (issue 16, point 3);
        # sudo: aggregated counts of the company's plans, for the score
        for partner, count in (
            self.env["ar.dunning.plan"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("state", "=", "broken"),
                    ("date_resolved", ">=", since),
                ],
                groupby=["partner_id"],
                aggregates=["__count"],
            )
        ):
            history[partner.id]["broken"] += count
        Move = self.env["account.move"]
        if "ar_dispute_state" in Move._fields:
            # sudo: counting lost disputes of the company's invoices for the score
            for partner, count in Move.sudo()._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("ar_dispute_state", "=", "rejected"),
                    ("invoice_date", ">=", since),
                ],
                groupby=["commercial_partner_id"],
                aggregates=["__count"],
            ):
                history[partner.id]["disputes_lost"] = count
        return history

    def _ar_dunning_tone_data(self, on_date=None, policy=None):
        """{commercial_partner_id: (score, tone, explanation)} for the partners in self."""
        history = self._ar_dunning_history(on_date)
        labels = {
            "avg_days_late": self.env._("Average days late"),
            "share_late": self.env._("Share of invoices paid late"),
            "broken_promises": self.env._("Broken promises to pay and payment plans"),
            "disputes_lost": self.env._("Disputes lost"),
            "trust": self.env._("Degree of trust"),
        }
        tone_labels = dict(TONE_SELECTION)
        result = {}
        for partner in self.commercial_partner_id:
            h = history[partner.id]
            score, tone, reasons = tone_score(
                h["avg_days_late"], h["share_late"], h["broken"], h["disputes_lost"], partner.trust
            )
            if policy:
                tone = tone_from_score(score, policy.tone_friendly_below, policy.tone_firm_from)
            values = {
                "avg_days_late": f"{h['avg_days_late']:.1f}",
                "share_late": f"{h['share_late'] * 100:.0f}%",
                "broken_promises": str(h["broken"]),
                "disputes_lost": str(h["disputes_lost"]),
                "trust": partner.trust or "normal",
            }
            lines = [f"{labels[key]}: {values[key]} → {points:+.1f}" for key, points in reasons]
            override = partner.ar_dunning_tone_override
            if override:
                lines.append(self.env._("Overridden by the accountant: %(tone)s", tone=tone_labels[override]))
                tone = override
            lines.insert(0, self.env._("Score %(score)s / 100 → %(tone)s", score=score, tone=tone_labels[tone]))
            result[partner.id] = (score, tone, "\n".join(lines))
        return result

    def _ar_dunning_get_contact(self):
        """The contact reminders go to: explicit dunning contact, else an invoice address with e-mail, else self."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if partner.ar_dunning_contact_id:
            return partner.ar_dunning_contact_id
        invoice_contacts = partner.child_ids.filtered(lambda c: c.type == "invoice" and c.email)
        return invoice_contacts[:1] or partner

    def _ar_dunning_pay_url(self):
        """Absolute URL where the customer sees and pays all open invoices.

        The single place the reminder templates take their pay link from: ar_suite overrides it
        with ar_customer_centric's signed guest pay-all link.
        """
        self.ensure_one()
        return f"{self.get_base_url()}/my/invoices"

    def _ar_dunning_customer_type(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        return "b2b" if (partner.is_company or partner.vat) else "b2c"

    def _ar_dunning_law_country(self, company):
        """Country whose late-payment law governs what ``company`` may claim from this customer.

        Regulation (EC) No 593/2008 (Rome I), OJ L 177, 4.7.2008, p. 6:
        - consumers: the law of their habitual residence (art. 6(1)); a chosen law may not take away its
          protective rules (art. 6(2)), so their own country's rules always apply here;
        - business customers: the law the contract chose (art. 3), else the seller's or service provider's
          law (art. 4(1)(a) and (b)), i.e. of the company's central administration (art. 19(1)).
        An empty result (no company country) makes the run block the claim: a rate is never guessed.
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        if partner._ar_dunning_customer_type() == "b2c":
            return partner.country_id
        chosen = partner.with_company(company).ar_dunning_governing_law_id
        return chosen or company.account_fiscal_country_id or company.country_id

    def _ar_dunning_de_date_agreed(self, company):
        """§ 286(2) no. 1 BGB: was the payment date agreed with this customer (customer, else company setting)?"""
        self.ensure_one()
        choice = self.commercial_partner_id.with_company(company).ar_dunning_de_agreed_date
        return company.ar_dunning_de_agreed_date if not choice else choice == "agreed"

    def _compute_ar_dunning_plan_count(self):
        counts = dict(
            self.env["ar.dunning.plan"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.ar_dunning_plan_count = counts.get(partner.commercial_partner_id, 0)

    def action_ar_dunning_open_plans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_dunning.ar_dunning_plan_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action

    def action_ar_dunning_lift_credit_hold(self):
        self.ar_dunning_credit_hold = False

    def _ar_dunning_policy(self, company):
        """The dunning policy of this customer in ``company``: its own, else the company's default."""
        own = self.commercial_partner_id.with_company(company).ar_dunning_policy_id
        if own:
            return own
        return self.env["ar.dunning.policy"].search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )

    def _ar_dunning_open_promise_domain(self, on_date):
        return (
            Domain("partner_id", "in", self.commercial_partner_id.ids)
            & Domain("state", "=", "open")
            & Domain("promise_date", ">=", on_date)
        )
