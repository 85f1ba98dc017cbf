from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

from ..tools.dunning_level import tone_from_score, tone_score
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

    @api.depends_context("company")
    def _compute_ar_dunning_tone(self):
        data = self._ar_dunning_tone_data()
        for partner in self:
            score, tone, explanation = data[partner.commercial_partner_id.id]
            partner.ar_dunning_tone_score = score
            partner.ar_dunning_tone = tone
            partner.ar_dunning_tone_explanation = explanation

    def _ar_dunning_history(self, on_date=None):
        """Payment history of the last 12 months per commercial partner, in a bounded number of queries.

        :returns: {commercial_partner_id: {avg_days_late, share_late, broken, disputes_lost}}
        """
        on_date = on_date or fields.Date.context_today(self)
        since = on_date - timedelta(days=365)
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
            "broken_promises": self.env._("Broken promises to pay"),
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

    def _ar_dunning_de_date_agreed(self, company):
        """§ 286(2) no. 1 BGB: was the payment date agreed with this customer (customer, else company setting)?"""
        self.ensure_one()
        choice = self.commercial_partner_id.with_company(company).ar_dunning_de_agreed_date
        return company.ar_dunning_de_agreed_date if not choice else choice == "agreed"

    def action_ar_dunning_lift_credit_hold(self):
        self.ar_dunning_credit_hold = False

    def _ar_dunning_open_promise_domain(self, on_date):
        return (
            Domain("partner_id", "in", self.commercial_partner_id.ids)
            & Domain("state", "=", "open")
            & Domain("promise_date", ">=", on_date)
        )
