import csv
import io
import logging
from collections import defaultdict
from datetime import date, timedelta

import psycopg2.errors

import odoo.modules.module
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_date, split_every
from odoo.tools.pdf import merge_pdf

from ..tools.dunning_level import days_overdue, next_level, tone_from_score
from ..tools.late_payment_law import (
    be_b2c_damages,
    be_b2c_interest_rate,
    be_b2c_period,
    de_default_start,
    nl_b2c_costs,
    nl_b2c_period,
)
from ..tools.locking import lock_free_rows

_logger = logging.getLogger(__name__)
# days we assume an invoice or a reminder letter takes to reach a German debtor (§ 286 BGB counts
# from receipt); later receipt means later default, never a claim too early
DE_LETTER_DAYS = 3


class ArDunningRun(models.Model):
    _name = "ar.dunning.run"
    _description = "Dunning Run"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    date = fields.Date(
        required=True, default=fields.Date.context_today, help="Reference date: levels and interest are computed on it."
    )
    policy_ids = fields.Many2many(
        "ar.dunning.policy",
        string="Policies",
        check_company=True,
        help="Empty: every active policy of the company.",
    )
    partner_ids = fields.Many2many(
        "res.partner", string="Only Customers", help="Restrict the run to these customers (empty: all)."
    )
    automatic = fields.Boolean(readonly=True, help="Started by the scheduled action.")
    date_previewed = fields.Date(
        string="Previewed On",
        readonly=True,
        copy=False,
        help="The day the preview was computed. A run dated later is only a look ahead: it is sent once previewed "
        "again on its date.",
    )
    look_ahead = fields.Boolean(
        compute="_compute_look_ahead",
        help="Previewed before its date: what would break by then is shown, nothing has broken yet.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("preview", "Preview"), ("running", "Running"), ("done", "Done")],
        default="draft",
        required=True,
        tracking=True,
    )
    line_ids = fields.One2many("ar.dunning.line", "run_id", string="Lines")
    line_count = fields.Integer(compute="_compute_progress")
    done_count = fields.Integer(string="Sent", compute="_compute_progress")
    todo_count = fields.Integer(string="To Send", compute="_compute_progress")
    excluded_count = fields.Integer(string="Excluded", compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Share of the selected lines already executed.")
    letter_attachment_id = fields.Many2one("ir.attachment", string="Letters to Print", readonly=True, copy=False)
    handover_csv_id = fields.Many2one("ir.attachment", string="Agency Dossier (CSV)", readonly=True, copy=False)
    handover_pdf_id = fields.Many2one("ir.attachment", string="Agency Dossier (PDF)", readonly=True, copy=False)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_progress", string="Overdue Claimed")
    blocked_count = fields.Integer(string="Blocked", compute="_compute_rate_warning")
    rate_warning = fields.Text(string="Missing Interest Rates", compute="_compute_rate_warning")

    @api.depends("date", "company_id")
    def _compute_name(self):
        for run in self:
            run.name = self.env._("Dunning %(date)s", date=run.date) if run.date else False

    @api.depends("line_ids.state", "line_ids.selected")
    def _compute_progress(self):
        groups = self.env["ar.dunning.line"]._read_group(
            [("run_id", "in", self.ids)], ["run_id", "state", "selected"], ["__count", "amount_overdue_company:sum"]
        )
        counts = defaultdict(lambda: defaultdict(int))
        amounts = defaultdict(float)
        for run, state, selected, count, amount in groups:
            key = "excluded" if state == "excluded" or (state == "draft" and not selected) else state
            counts[run.id][key] += count
            if key != "excluded":
                amounts[run.id] += amount
        for run in self:
            c = counts[run.id]
            run.line_count = sum(c.values())
            run.done_count = c["done"]
            run.todo_count = c["draft"]
            run.excluded_count = c["excluded"]
            total = c["done"] + c["draft"]
            run.progress = 100.0 * c["done"] / total if total else 0.0
            run.amount_total = amounts[run.id]

    @api.depends("line_ids.rate_missing", "line_ids.state", "line_ids.selected")
    def _compute_rate_warning(self):
        for run in self:
            blocked = run.line_ids.filtered(lambda x: x.blocked and x.state == "draft" and x.selected)
            labels = []
            for line in blocked:
                labels += [label for label in line.rate_missing.splitlines() if label not in labels]
            run.blocked_count = len(blocked)
            run.rate_warning = "\n".join(labels) or False

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------

    @api.model
    def _run_batch(self, *, date=None, policy_ids=None, partner_ids=None, execute=False, company=None, batch_size=200):
        """Server-side entry point (``odoo-bin shell``, cron, benchmark).

        ``env['ar.dunning.run']._run_batch(date='2026-03-31', policy_ids=[1], execute=True)``
        creates a run, computes its preview and, with ``execute=True``, sends it. Rerunning
        ``run.action_execute()`` after a crash resumes and sends each reminder exactly once.
        """
        company = company or self.env.company
        run = self.create(
            {
                "company_id": company.id,
                "date": fields.Date.to_date(date) if date else fields.Date.context_today(self),
                "policy_ids": [fields.Command.set(policy_ids or [])],
                "partner_ids": [fields.Command.set(partner_ids or [])],
                "automatic": bool(self.env.context.get("ar_dunning_automatic")),
            }
        )
        run.action_preview()
        if execute:
            run._execute(batch_size=batch_size)
        return run

    @api.model
    def _cron_run_automatic(self):
        # first resume the automatic runs an earlier crash left half-way
        for run in self.search([("state", "=", "running"), ("automatic", "=", True)]):
            run.with_company(run.company_id)._execute()
        policies = self.env["ar.dunning.policy"].search([("automatic", "=", True)])
        for company, company_policies in policies.grouped("company_id").items():
            run = (
                self.with_company(company)
                .with_context(ar_dunning_automatic=True)
                ._run_batch(policy_ids=company_policies.ids, company=company)
            )
            run._exclude_blocked()
            run._execute()

    # ------------------------------------------------------------------
    # Preview
    # ------------------------------------------------------------------

    def action_preview(self):
        for run in self:
            if run.state not in ("draft", "preview"):
                raise UserError(
                    self.env._("Run %(run)s is already being executed: it cannot be previewed again.", run=run.name)
                )
            run.line_ids.filtered(lambda line: line.state != "done").unlink()
            run.with_company(run.company_id)._compute_lines()  # company-dependent partner fields
            run.write({"state": "preview", "date_previewed": fields.Date.context_today(run)})
        return True

    def _get_policies(self):
        self.ensure_one()
        if self.policy_ids:
            return self.policy_ids
        return self.env["ar.dunning.policy"].search([("company_id", "=", self.company_id.id)])

    def _fetch_receivables(self):
        """Open receivable lines of the run's scope with what the preview needs, in a few queries."""
        env = self.env
        line_domain = Domain(
            [
                ("company_id", "=", self.company_id.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("partner_id", "!=", False),
                ("amount_residual", "!=", 0),
            ]
        )
        if self.partner_ids:
            line_domain &= Domain("partner_id.commercial_partner_id", "in", self.partner_ids.commercial_partner_id.ids)
        aml = env["account.move.line"].search_fetch(
            line_domain,
            [
                "partner_id",
                "move_id",
                "date_maturity",
                "date",
                "amount_residual",
                "amount_residual_currency",
                "currency_id",
                "company_currency_id",
                "no_followup",
            ],
            order="date_maturity, id",
        )
        moves = aml.move_id
        move_fields = [
            "move_type",
            "name",
            "invoice_date",
            "payment_state",
            "commercial_partner_id",
            "ar_dunning_level_id",
            "ar_dunning_first_date",
            "ar_dunning_handed_over",
        ]
        if "ar_dispute_state" in env["account.move"]._fields:
            move_fields.append("ar_dispute_state")
        moves.fetch(move_fields)
        moves.commercial_partner_id.fetch(
            ["ar_dunning_policy_id", "ar_dunning_on_hold", "country_id", "is_company", "vat", "lang", "trust", "name"]
        )
        by_partner = defaultdict(list)
        for line in aml:
            by_partner[line.move_id.commercial_partner_id].append(line)
        return by_partner, env["account.move"]._ar_dunning_pending_tx_move_ids(moves)

    @api.model
    def _item_exclusion(self, line, pending_tx):
        """Why this invoice must not be chased (False: it may)."""
        move = line.move_id
        if move.ar_dunning_handed_over:
            return "handed_over"
        if line.no_followup:
            disputed = "ar_dispute_state" in move._fields and move.ar_dispute_state == "open"
            return "disputed" if disputed else "no_followup"
        if move.payment_state == "in_payment" or move.id in pending_tx:
            return "in_payment"
        return False

    def _partner_items(
        self, lines, ladder, pending_tx, promised=frozenset(), resumed=frozenset(), *, planned=frozenset()
    ):
        """(best level index or None, [(line, days, level index, exclusion)]) for one customer.

        ``promised``: ids of the invoices an open promise holds (not chased); ``resumed``: ids of the
        invoices of a promise broken since the last reminder: they are reminded at the level they had
        reached before the promise (the first level if none), whatever their days overdue. ``planned``: ids
        of the invoices of a payment plan on schedule (or late within its grace days): not chased.
        """
        offsets = ladder.mapped("offset_days")
        items = []
        best = None
        for line in lines:
            move = line.move_id
            if line.amount_residual <= 0 or move.move_type not in ("out_invoice", "out_receipt"):
                continue
            days = days_overdue(line.date_maturity or line.date, self.date)
            last = ladder.ids.index(move.ar_dunning_level_id.id) if move.ar_dunning_level_id.id in ladder.ids else None
            new_index = next_level(offsets, days, last)
            if move.id in resumed and days > 0:
                new_index = last if last is not None else 0
            if days <= 0 and new_index is None:
                continue  # not due and no pre-due reminder: not in the statement
            reason = (
                self._item_exclusion(line, pending_tx)
                or ("plan" if move.id in planned else False)
                or ("promise" if move.id in promised else False)
            )
            if not reason and new_index is not None:
                best = new_index if best is None else max(best, new_index)
            items.append((line, days, None if reason else new_index, reason))
        return best, items

    def _legal_history(self, moves):
        """What earlier reminders mean legally, for the invoices of the run, in a few queries.

        :returns: {"notice": {move_id: (date, channel)} first reminder sent after the due date,
                   "invoiced": {move_id: [interest, fee]} already posted on a charges invoice,
                   "announced": {partner_id: (amount, currency)} costs announced by the first 14-day letter,
                   "plan": {move_line_id: instalment_id} the due lines of booked payment plans,
                   "plan_notice": {move_line_id: (date, channel)}, "plan_invoiced": {move_line_id: [interest, fee]}
                   and "plan_fee": {instalment_id: fee} the same since the plan was accepted,
                   "plan_fee_lines": the one open due line per instalment that carries its fee}
        ``interest`` and ``fee`` are in the invoice's currency.

        A payment plan's instalment is a new due date: what was sent or invoiced before the plan does not
        count for it (a Belgian or Dutch consumer gets a free first reminder / a 14-day letter for the missed
        instalment before any cost), and the fixed compensation is due once per late instalment, whatever the
        number of invoices it covers (CJEU C-78/22, ALD Automotive, 4 May 2023: per late payment).
        """
        done = self.env["ar.dunning.item"].search_fetch(
            [("move_id", "in", moves.ids), ("line_id.state", "=", "done"), ("days_overdue", ">", 0)],
            ["move_id", "move_line_id", "date", "line_id", "interest", "fee"],
            order="date, id",
        )
        done.line_id.fetch(["channel_email", "charge_move_ids", "fee_announced", "partner_id"])
        notice, invoiced, announced = {}, defaultdict(lambda: [0.0, 0.0]), {}
        plan, accepted, fee_lines, interest_from = self._plan_lines(moves)
        plan_notice, plan_invoiced, plan_fee = {}, defaultdict(lambda: [0.0, 0.0]), defaultdict(float)
        for move in moves:
            # reminders recorded on the invoice without a run (imported history): assume a letter,
            # whose period ends last
            if move.ar_dunning_first_date and move.ar_dunning_first_date > (move.invoice_date_due or date.max):
                notice[move.id] = (move.ar_dunning_first_date, "letter")
        for item in done:
            line = item.line_id
            channel = "email" if line.channel_email else "letter"
            if notice.get(item.move_id.id, (date.max,))[0] >= item.date:
                notice[item.move_id.id] = (item.date, channel)
            if line.charge_move_ids:
                invoiced[item.move_id.id][0] += item.interest
                invoiced[item.move_id.id][1] += item.fee
            aml_id = item.move_line_id.id
            if aml_id in plan and item.date >= accepted[aml_id]:
                plan_notice.setdefault(aml_id, (item.date, channel))
                if line.charge_move_ids:
                    plan_invoiced[aml_id][0] += item.interest
                    plan_invoiced[aml_id][1] += item.fee
                    plan_fee[plan[aml_id]] += item.fee
            if line.fee_announced:
                announced.setdefault(line.partner_id.id, (line.fee_announced, line.currency_id))
        return {
            "notice": notice,
            "invoiced": invoiced,
            "announced": announced,
            "plan": plan,
            "plan_notice": plan_notice,
            "plan_invoiced": plan_invoiced,
            "plan_fee": plan_fee,
            "plan_fee_lines": fee_lines,
            "plan_interest_from": interest_from,
        }

    def _plan_lines(self, moves):
        """({due line id: instalment id}, {due line id: plan acceptance date}, {fee-carrying line ids},
        {due line id: the invoice's original due date, for plans whose interest runs}) of the booked payment
        plans of ``moves``."""
        instalments = self.env["ar.dunning.plan.instalment"].search(
            [("plan_id.move_ids", "in", moves.ids), ("plan_id.state", "in", ("active", "late", "broken", "completed"))]
        )
        plan, accepted, fee_lines, interest_from = {}, {}, set(), {}
        for instalment in instalments:
            original = {
                i.move_id.id: i.date_due_original for i in instalment.plan_id.invoice_ids if instalment.plan_id.interest
            }
            open_lines = instalment.line_ids.filtered(lambda ln: not ln.reconciled)
            if open_lines:
                fee_lines.add(min(open_lines.ids))
            for aml in instalment.line_ids:
                plan[aml.id] = instalment.id
                accepted[aml.id] = instalment.plan_id.date_accepted or instalment.plan_id.date
                if original.get(aml.move_id.id):
                    interest_from[aml.id] = original[aml.move_id.id]
        return plan, accepted, fee_lines, interest_from

    @staticmethod
    def _ar_invoiced(aml, history):
        """(interest, fee already invoiced, whether this due line carries a fee) for one due line. A plan's
        instalment has its own history since the plan, and one fee per late instalment (C-78/22)."""
        instalment = history.get("plan", {}).get(aml.id)
        if instalment:
            return (
                history["plan_invoiced"].get(aml.id, (0.0, 0.0))[0],
                history["plan_fee"].get(instalment, 0.0),
                aml.id in history["plan_fee_lines"],
            )
        interest, fee = history["invoiced"].get(aml.move_id.id, (0.0, 0.0))
        return interest, fee, True

    @staticmethod
    def _ar_notice(aml, history):
        """(date, channel) of the first reminder that counts for this due line, or None."""
        if aml.id in history.get("plan", {}):
            return history["plan_notice"].get(aml.id)
        return history["notice"].get(aml.move_id.id)

    # ------------------------------------------------------------------
    # Currencies: interest in the invoice's currency, statutory EUR figures converted at the run date
    # ------------------------------------------------------------------

    def _ar_convert(self, amount, from_currency, to_currency):
        """``amount`` in ``to_currency`` at the rate of the reminder date (``res.currency._convert``)."""
        if from_currency == to_currency or not amount:
            return amount
        return from_currency._convert(amount, to_currency, self.company_id, self.date)

    def _ar_eur(self):
        # the late-payment laws fix their amounts in euro (EUR 40, the WIK scale, the Book XIX caps)
        return self.env.ref("base.EUR")

    @staticmethod
    def _ar_residual(aml):
        """(residual, currency) of a receivable line in its invoice's currency."""
        currency = aml.currency_id or aml.company_currency_id
        if currency == aml.company_currency_id:
            return aml.amount_residual, currency
        return aml.amount_residual_currency, currency

    def _ar_announced_eur(self, history, partner):
        """The costs the first 14-day letter announced, in EUR (None: no letter announced any)."""
        announced = history["announced"].get(partner.id)
        if announced is None:
            return None
        amount, currency = announced
        return self._ar_convert(amount, currency, self._ar_eur())

    def _interest_periods(self, rates, partner, ctype):
        """(periods, country and type to name when a rate is missing) for one customer."""
        company = self.company_id
        country = partner._ar_dunning_law_country(company)
        if country.code == "BE" and ctype == "b2c" and company.ar_dunning_be_b2c_clause:
            # art. XIX.4 § 1 CEL: the clause's rate, at most the rate of the Law of 2 Aug 2002
            periods = [
                (lo, hi, be_b2c_interest_rate(company.ar_dunning_be_b2c_clause_rate, rate, None))
                for lo, hi, rate in rates._get_periods(country, "b2b")
            ]
            return periods, (country, "b2b")
        return rates._get_periods(country, ctype), (country, ctype)

    def _item_charges(self, line, days, level, *, partner, ctype, regime, fee_rule, rates, history):
        """(interest, fee, fee_eur, fee_allowed, missing) claimed on one overdue invoice at this level.

        Which days bear interest and whether costs may be claimed follow the debtor's law
        (``tools/late_payment_law.py``); a day without a statutory rate is reported in ``missing``
        (the line is then blocked) instead of bearing 0 %. Interest and fee are in the invoice's
        currency: interest on its residual in that currency, the fee converted from the EUR figure
        of the law (``fee_eur``) at the rate of the reminder date.
        """
        move = line.move_id
        # a business plan whose interest runs: the missed instalment bears interest from the invoice's own due date
        due = history.get("plan_interest_from", {}).get(line.id) or line.date_maturity or line.date
        start = due + timedelta(days=1)
        fee_allowed = True
        notice = self._ar_notice(line, history)
        if days <= 0:
            return 0.0, 0.0, 0.0, False, []
        if regime == "be_b2c":
            # art. XIX.2 CEL: nothing before the 14 days after the free first reminder ended
            if not notice:
                return 0.0, 0.0, 0.0, False, []
            _first, last = be_b2c_period(*notice)
            if self.date <= last:
                return 0.0, 0.0, 0.0, False, []
            start = last + timedelta(days=1)
            fee_allowed = self.company_id.ar_dunning_be_b2c_clause
        elif regime == "nl_b2c":
            # art. 6:119 BW interest from the due date; costs only after the 14-day letter's period
            fee_allowed = bool(notice) and self.date > nl_b2c_period(*notice)[1]
        elif partner._ar_dunning_law_country(self.company_id).code == "DE":
            received = None
            if notice:
                received = notice[0] + timedelta(days=DE_LETTER_DAYS if notice[1] == "letter" else 1)
            start = de_default_start(
                due,
                agreed_date=partner._ar_dunning_de_date_agreed(self.company_id),
                consumer=ctype == "b2c",
                invoice_received=(move.invoice_date or due) + timedelta(days=DE_LETTER_DAYS),
                invoice_notice=move.ar_dunning_de_notice,
                reminder_received=received,
            )
            if not start or start > self.date:
                return 0.0, 0.0, 0.0, False, []
        interest = fee = fee_eur = 0.0
        missing = []
        residual, currency = self._ar_residual(line)
        invoiced_interest, invoiced_fee, fee_carrier = self._ar_invoiced(line, history)
        fee_rule = fee_rule if fee_carrier else False
        if level.apply_interest:
            periods, (country, rate_type) = self._interest_periods(rates, partner, ctype)
            interest, missing = rates._compute_interest(
                residual, start, self.date, country=country, customer_type=rate_type, periods=periods
            )
            interest = 0.0 if missing else max(0.0, currency.round(interest - invoiced_interest))
        if level.apply_fees and fee_rule and fee_rule.basis == "invoice" and fee_allowed:
            eur = self._ar_eur()
            full_eur = fee_rule._compute_fee(self._ar_convert(residual, currency, eur))
            full = self._ar_convert(full_eur, eur, currency)
            fee = max(0.0, currency.round(full - invoiced_fee))
            fee_eur = round(full_eur * fee / full, 2) if full else 0.0
        return interest, fee, fee_eur, fee_allowed, missing

    def _claim_fee(self, fee_rule, base_eur, *, regime, partner, history, moves):
        """Fee in EUR computed once on the amount due of the reminder in EUR (WIK scale, Belgian consumer caps)."""
        if not fee_rule or fee_rule.basis != "total" or base_eur <= 0:
            return 0.0
        fee = fee_rule._compute_fee(base_eur)
        if regime == "nl_b2c":
            announced = self._ar_announced_eur(history, partner)
            if announced is None:
                return 0.0  # no 14-day letter announced costs: none may be claimed (art. 6:96(6) BW)
            fee = min(fee, announced)
        eur = self._ar_eur()
        invoiced = sum(
            self._ar_convert(history["invoiced"].get(move.id, (0.0, 0.0))[1], move.currency_id, eur) for move in moves
        )
        return max(0.0, round(fee - invoiced, 2))

    @api.model
    def _partner_exclusion(self, partner, net, overdue, level, open_promise):
        if partner.ar_dunning_on_hold:
            return "on_hold"
        if partner.id in open_promise:
            return "promise"
        if net <= 0:
            return "net_balance"
        if overdue < level.min_amount:
            return "threshold"
        return False

    @api.depends("date", "date_previewed", "state")
    def _compute_look_ahead(self):
        for run in self:
            run.look_ahead = run.state == "preview" and bool(run.date_previewed) and run.date_previewed < run.date

    def _ar_arrangement_date(self):
        """The day up to which this run changes promises and plans: its own date, never after today.

        A run dated later is a look ahead: what would break by its date is shown in the preview, but nothing
        breaks and no buyer is told before the day comes (``_promise_scope``, ``_plan_scope``)."""
        return min(self.date, fields.Date.context_today(self))

    def _promise_scope(self, partners):
        """What the customers' promises to pay mean for this run.

        Open promises past their date and grace days with an invoice still open break now (paid ones
        are kept), up to today; those that would break by a later run date only count as broken in this
        preview. Returns ``(promised, open_promise, resumed, broken_by_partner)``: the ids of the
        invoices open promises hold, the customers a promise without invoices holds as a whole, the
        ids of the invoices of promises broken and not yet reminded (they resume at their level), and
        those broken promises per customer (the reminder mentions them).
        """
        Promise = self.env["ar.dunning.promise"]
        scope = Domain("partner_id", "in", partners.ids) & Domain("company_id", "=", self.company_id.id)
        today = self._ar_arrangement_date()
        Promise.search(scope & Domain("state", "=", "open"))._ar_break_due(today)
        holding = Promise.search(scope & Domain("state", "=", "open"))
        foreseen = holding._ar_due_to_break(self.date) if self.date > today else Promise
        holding -= foreseen
        promised = set(holding.line_ids.move_id.ids)
        open_promise = {p.partner_id.id for p in holding if not p.line_ids}
        broken = Promise.search(scope & Domain("state", "=", "broken") & Domain("date_resolved", "<=", self.date))
        if broken:
            mentioned = self.env["ar.dunning.line"].search(
                [("broken_promise_ids", "in", broken.ids), ("state", "=", "done")]
            )
            broken -= mentioned.broken_promise_ids
        broken |= foreseen
        # an invoice under a new open promise stays held, even if an older promise of it broke
        resumed = set(broken.line_ids.move_id.ids) - promised
        broken_by_partner = {partner.id: list(records) for partner, records in broken.grouped("partner_id").items()}
        return promised, open_promise, resumed, broken_by_partner

    def _plan_scope(self, partners):
        """What the customers' payment plans mean for this run, like ``_promise_scope``.

        Booked plans are followed first, up to today (completed, late, or broken once an instalment is open
        past the policy's grace days); those that would break by a later run date only count as broken in
        this preview. Returns ``(planned, resumed, broken_by_partner)``: the ids of the invoices of plans on
        schedule or late within grace (never chased), of those of plans broken and not yet reminded (they
        resume at the level reached before the plan), and those broken plans per customer.
        """
        Plan = self.env["ar.dunning.plan"]
        scope = Domain("partner_id", "in", partners.ids) & Domain("company_id", "=", self.company_id.id)
        today = self._ar_arrangement_date()
        Plan.search(scope & Domain("state", "in", ("active", "late")))._ar_update_states(today)
        holding = Plan.search(scope & Domain("state", "in", ("active", "late")))
        foreseen = (
            holding.filtered(lambda p: p._ar_schedule_state(self.date) == "broken") if self.date > today else Plan
        )
        holding -= foreseen
        planned = set(holding.move_ids.ids)
        broken = Plan.search(scope & Domain("state", "=", "broken") & Domain("date_resolved", "<=", self.date))
        if broken:
            mentioned = self.env["ar.dunning.line"].search(
                [("broken_plan_ids", "in", broken.ids), ("state", "=", "done")]
            )
            broken -= mentioned.broken_plan_ids
        broken |= foreseen
        resumed = set(broken.move_ids.ids) - planned
        broken_by_partner = {partner.id: list(records) for partner, records in broken.grouped("partner_id").items()}
        return planned, resumed, broken_by_partner

    def _compute_lines(self):
        """Build the preview lines: one per customer with something to remind, bounded queries."""
        self.ensure_one()
        env = self.env
        policies = self._get_policies()
        default_policy = policies.filtered("is_default")[:1]
        ladders = {p.id: p._get_ladder() for p in policies}
        by_partner, pending_tx = self._fetch_receivables()
        partners = env["res.partner"].concat(*by_partner)
        promised, open_promise, resumed, broken_by_partner = self._promise_scope(partners)
        planned, plan_resumed, broken_plans_by_partner = self._plan_scope(partners)
        resumed = (resumed - planned) | plan_resumed
        done_keys = set(
            env["ar.dunning.line"]
            .search_fetch([("key", "!=", False), ("state", "=", "done"), ("date", "=", self.date)], ["key"])
            .mapped("key")
        )
        candidates = []
        for partner, lines in by_partner.items():
            own = partner.ar_dunning_policy_id
            policy = own if own in policies else (default_policy if not own else False)
            ladder = ladders[policy.id] if policy else False
            if not ladder:
                continue
            best, items = self._partner_items(lines, ladder, pending_tx, promised, resumed, planned=planned)
            if best is not None:
                net = sum(line.amount_residual for line in lines)
                candidates.append((partner, policy, ladder, best, net, items, lines))

        tone_data = env["res.partner"].concat(*(c[0] for c in candidates))._ar_dunning_tone_data(self.date)
        # sudo: rates and fee scales are configuration, read for computing claims
        rates = env["ar.dunning.interest.rate"].sudo().search([("rate", ">=", 0)])
        fee_rules = env["ar.dunning.fee.rule"].sudo().search([("customer_type", "!=", False)])
        history = self._legal_history(
            env["account.move"].concat(*(item[0].move_id for c in candidates for item in c[5]))
        )
        line_vals, item_vals = [], []
        for partner, policy, ladder, best, net, items, lines in candidates:
            vals, vals_items = self._prepare_line_vals(
                partner,
                policy,
                ladder[best],
                net=net,
                items=items,
                tone_info=tone_data[partner.id],
                rates_rules=(rates, fee_rules),
                ladder=ladder,
                history=history,
                open_lines=lines,
            )
            if not vals["exclusion_reason"] and vals["key"] in done_keys:
                continue  # already reminded today at this level by another run
            vals["exclusion_reason"] = vals["exclusion_reason"] or (
                self._partner_exclusion(partner, net, vals["amount_overdue_company"], ladder[best], open_promise)
            )
            if vals["exclusion_reason"]:
                vals.update(state="excluded", selected=False, key=False)
            claimed_moves = {v["move_id"] for v in vals_items if not v["exclusion_reason"]}
            broken = [
                promise.id
                for promise in broken_by_partner.get(partner.id, [])
                if not promise.line_ids or claimed_moves & set(promise.line_ids.move_id.ids)
            ]
            if broken:
                vals["broken_promise_ids"] = [fields.Command.set(broken)]
            broken_plans = [
                plan.id
                for plan in broken_plans_by_partner.get(partner.id, [])
                if claimed_moves & set(plan.move_ids.ids)
            ]
            if broken_plans:
                vals["broken_plan_ids"] = [fields.Command.set(broken_plans)]
            item_vals.append(vals_items)
            line_vals.append(vals)
        new_lines = env["ar.dunning.line"].create(line_vals)
        env["ar.dunning.item"].create(
            [
                dict(vals, line_id=line.id)
                for line, vals_items in zip(new_lines, item_vals, strict=True)
                for vals in vals_items
            ]
        )
        return new_lines

    def _fee_rule(self, partner, ctype, fee_rules):
        company = self.company_id
        country = partner._ar_dunning_law_country(company)
        if country.code == "NL" and ctype == "b2b" and company.ar_dunning_nl_b2b_fee_rule_id:
            return company.ar_dunning_nl_b2b_fee_rule_id  # another rule agreed with business customers
        return fee_rules._find(country, ctype)

    def _prepare_line_vals(
        self, partner, policy, level, *, net, items, tone_info, rates_rules, ladder, history=None, open_lines=None
    ):
        """Values of one reminder and of its invoices.

        Each invoice's amounts are in its own currency. The reminder's totals are in the line's
        ``currency_id``: the currency of the invoices it claims, or, when they are in several currencies
        (``multi_currency``), the company currency as an equivalent at the reminder date for lists and
        totals only; the reminder itself states one total per currency (``_ar_currency_totals``).
        """
        ctype = partner._ar_dunning_customer_type()
        law_country = partner._ar_dunning_law_country(self.company_id)
        country = law_country.code
        regime = f"{country.lower()}_b2c" if ctype == "b2c" and country in ("BE", "NL", "DE") else ctype
        score, tone, explanation = tone_info
        if not partner.ar_dunning_tone_override:
            tone = tone_from_score(score, policy.tone_friendly_below, policy.tone_firm_from)
        rates, fee_rules = rates_rules
        fee_rule = self._fee_rule(partner, ctype, fee_rules)
        history = history or {"notice": {}, "invoiced": {}, "announced": {}}
        contact = partner._ar_dunning_get_contact()
        channel = "letter" if (level.action_letter or not contact.email) else "email"
        company_currency = self.company_id.currency_id
        eur = self._ar_eur()
        overdue_eur = fee_base_eur = 0.0
        missing = []
        items_vals = []
        fee_moves = []
        first_notice = False
        for aml_line, days, new_index, item_reason in items:
            residual, currency = self._ar_residual(aml_line)
            interest = fee = fee_eur = 0.0
            if not item_reason:
                overdue_eur += self._ar_convert(residual, currency, eur)
                if days > 0 and not self._ar_notice(aml_line, history):
                    first_notice = True
                interest, fee, fee_eur, fee_allowed, item_missing = self._item_charges(
                    aml_line,
                    days,
                    level,
                    partner=partner,
                    ctype=ctype,
                    regime=regime,
                    fee_rule=fee_rule,
                    rates=rates,
                    history=history,
                )
                missing += [label for label in item_missing if label not in missing]
                if fee_allowed:
                    fee_base_eur += self._ar_convert(residual, currency, eur)
                    fee_moves.append(aml_line.move_id)
            items_vals.append(
                {
                    "move_id": aml_line.move_id.id,
                    "move_line_id": aml_line.id,
                    "currency_id": currency.id,
                    "date_maturity": aml_line.date_maturity or aml_line.date,
                    "days_overdue": days,
                    "amount_residual": residual,
                    "level_id": ladder[new_index].id if new_index is not None else False,
                    "interest": interest,
                    "fee": fee,
                    "fee_eur": fee_eur,
                    "fee_legal_basis": (fee_rule.legal_basis or fee_rule.name) if fee else False,
                    "exclusion_reason": item_reason,
                }
            )
        if level.apply_fees:
            total_fee_eur = self._claim_fee(
                fee_rule, fee_base_eur, regime=regime, partner=partner, history=history, moves=fee_moves
            )
            self._spread_fee(items_vals, total_fee_eur, {m.id for m in fee_moves}, fee_rule)
        claimed = [v for v in items_vals if not v["exclusion_reason"]]
        currencies = self.env["res.currency"].browse(dict.fromkeys(v["currency_id"] for v in claimed))
        currency = currencies if len(currencies) == 1 else company_currency

        def total(key, to_currency=currency):
            return to_currency.round(
                sum(
                    self._ar_convert(v[key], self.env["res.currency"].browse(v["currency_id"]), to_currency)
                    for v in claimed
                )
            )

        announced = notice_end = False
        if regime in ("be_b2c", "nl_b2c") and first_notice:
            period = be_b2c_period if regime == "be_b2c" else nl_b2c_period
            notice_end = period(self.date, channel)[1]
            if not any(v["fee"] for v in claimed) and fee_rule and fee_rule.basis == "total":
                if regime == "nl_b2c":
                    # the 14-day letter states the exact costs; nothing later may claim more
                    announced = nl_b2c_costs(overdue_eur, self._ar_announced_eur(history, partner))
                elif self.company_id.ar_dunning_be_b2c_clause:
                    announced = be_b2c_damages(overdue_eur)
        balance = sum(
            self._ar_convert(residual, cur, currency)
            for residual, cur in (self._ar_residual(aml) for aml in open_lines or [])
        )
        vals = {
            "run_id": self.id,
            "company_id": self.company_id.id,
            "partner_id": partner.id,
            "contact_id": contact.id,
            "policy_id": policy.id,
            "level_id": level.id,
            "tone": tone,
            "tone_explanation": explanation,
            "legal_regime": regime,
            "law_country_id": law_country.id,
            "currency_id": currency.id,
            "multi_currency": len(currencies) > 1,
            "amount_overdue": total("amount_residual"),
            "amount_overdue_company": total("amount_residual", company_currency),
            "amount_balance": currency.round(balance) if balance else self._ar_convert(net, company_currency, currency),
            "interest_total": total("interest"),
            "fee_total": total("fee"),
            "fee_announced": self._ar_convert(announced, eur, currency) if announced else 0.0,
            "notice_end": notice_end,
            "first_notice": first_notice,
            "rate_missing": "\n".join(missing) or False,
            "state": "draft",
            "selected": True,
            "exclusion_reason": False,
            "key": f"{self.company_id.id}:{partner.id}:{level.id}:{self.date}",
        }
        return vals, items_vals

    def _spread_fee(self, items_vals, total_fee_eur, move_ids, fee_rule):
        """Put a fee computed in EUR on the total on the invoices it was computed on, pro rata, each share
        converted to its invoice's currency at the reminder date (cent-exact in EUR)."""
        targets = [v for v in items_vals if v["move_id"] in move_ids and not v["exclusion_reason"]]
        if not targets or not total_fee_eur:
            return
        eur = self._ar_eur()
        Currency = self.env["res.currency"]
        weights = [self._ar_convert(v["amount_residual"], Currency.browse(v["currency_id"]), eur) for v in targets]
        base = sum(weights)
        rest = total_fee_eur
        for index, vals in enumerate(targets):
            share = round(rest if index == len(targets) - 1 else total_fee_eur * weights[index] / base, 2)
            rest -= share
            currency = Currency.browse(vals["currency_id"])
            vals["fee"] += self._ar_convert(share, eur, currency)
            vals["fee_eur"] += share
            vals["fee_legal_basis"] = fee_rule.legal_basis or fee_rule.name

    # ------------------------------------------------------------------
    # Execute
    # ------------------------------------------------------------------

    def _exclude_blocked(self):
        """Unattended runs leave out the reminders that lack a statutory rate and say so on the run."""
        self.ensure_one()
        blocked = self.line_ids.filtered(lambda line: line.blocked and line.state == "draft")
        if not blocked:
            return
        blocked.write({"state": "excluded", "selected": False, "exclusion_reason": "rate_missing", "key": False})
        labels = dict.fromkeys(label for line in blocked for label in line.rate_missing.splitlines())
        self.message_post(
            body=self.env._(
                "%(count)s reminders were not sent: no statutory interest rate for %(missing)s. Enter the rates in "
                "Invoicing > Configuration > Follow-up > Late-Payment Interest Rates.",
                count=len(blocked),
                missing=", ".join(labels),
            )
        )

    def action_execute(self):
        for run in self:
            run._execute()
        return True

    def _ar_check_sendable(self):
        """A run is sent on its date, from a preview made that day.

        Sent earlier, its reminders would claim interest not yet accrued and tell customers that promises and
        plans broke before they did; previewed earlier, it would miss the payments, promises and plans since."""
        today = fields.Date.context_today(self)
        if self.date > today:
            raise UserError(
                self.env._(
                    "Run %(run)s is dated %(date)s: it can be previewed now and sent from that day on.",
                    run=self.name,
                    date=format_date(self.env, self.date),
                )
            )
        if self.date_previewed and self.date_previewed < self.date:
            raise UserError(
                self.env._(
                    "Run %(run)s was previewed on %(previewed)s, before its date %(date)s: preview it again so that "
                    "the payments, promises and payment plans since then count, then send it.",
                    run=self.name,
                    previewed=format_date(self.env, self.date_previewed),
                    date=format_date(self.env, self.date),
                )
            )

    def _ar_commit(self, processed, remaining):
        """Commit a finished batch so that a crash later never resends it.

        Not inside tests, and not while the registry is loading: a module install or update (the
        demo book executes real runs from its data file) is one transaction that must not be cut.
        """
        if odoo.modules.module.current_test or not self.env.registry.ready:
            return
        self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    def _execute(self, batch_size=200):
        """Send the selected lines in batches, committing each one.

        Several workers may execute the same run at once (the Execute button while the cron
        resumes it): each batch's lines are claimed with row locks (SKIP LOCKED), so that a line
        is sent by one worker only, and the worker that finds every line sent finishes the run.
        """
        self.ensure_one()
        if self.state == "draft":
            self.action_preview()
        if self.state == "done":
            return
        if self.state == "preview":
            self._ar_check_sendable()
        todo = self.line_ids.filtered(lambda line: line.state == "draft" and line.selected).sorted("id")
        blocked = todo.filtered("blocked")
        if blocked:
            raise UserError(
                self.env._(
                    "Run %(run)s cannot be executed: no statutory interest rate for %(missing)s "
                    "(%(count)s reminders). Enter the rate in Invoicing > Configuration > Follow-up > Late-Payment "
                    "Interest Rates and preview again, or untick these customers.",
                    run=self.name,
                    missing=", ".join(
                        dict.fromkeys(label for line in blocked for label in line.rate_missing.splitlines())
                    ),
                    count=len(blocked),
                )
            )
        if self.state != "running":
            unselected = self.line_ids.filtered(lambda line: line.state == "draft" and not line.selected)
            unselected.write({"state": "excluded", "exclusion_reason": "manual", "key": False})
            self.state = "running"
        self._ar_commit(0, len(todo))
        processed = 0
        for batch_ids in split_every(batch_size, todo.ids):
            batch = self.env["ar.dunning.line"].browse(batch_ids)
            # lines another worker holds, or has sent since, are left to it
            locked = lock_free_rows(batch).filtered(lambda line: line.state == "draft")
            with self.env.cr.savepoint():
                locked._execute_batch()
            processed += len(batch)
            self._ar_commit(len(batch), len(todo) - processed)
        self._ar_finish()

    def _ar_finish(self):
        """Letters, dossier and "done", by the one worker that finds every selected line sent."""
        cr = self.env.cr
        try:
            with cr.savepoint():
                cr.execute(
                    SQL("SELECT id FROM ar_dunning_run WHERE id = %s FOR NO KEY UPDATE", self.id), log_exceptions=False
                )
        except psycopg2.errors.SerializationFailure:
            return  # another worker finished the run meanwhile
        self.invalidate_recordset()
        self.line_ids.invalidate_recordset(["state"])
        if self.state == "done" or self.line_ids.filtered(lambda line: line.state == "draft" and line.selected):
            return  # finished already, or another worker is still sending lines: it finishes
        self._finalize()
        self.state = "done"
        self._ar_commit(0, 0)

    def _finalize(self):
        """Merged letters of the run and the collection agency dossier."""
        self.ensure_one()
        letters = self.line_ids.filtered(lambda line: line.state == "done" and line.channel_letter and line.pdf_id)
        if letters and not self.letter_attachment_id:
            pdf = merge_pdf([line.pdf_id.raw for line in letters])
            self.letter_attachment_id = self.env["ir.attachment"].create(
                {
                    "name": self.env._("Letters %(run)s.pdf", run=self.name),
                    "raw": pdf,
                    "res_model": self._name,
                    "res_id": self.id,
                    "mimetype": "application/pdf",
                }
            )
        handover = self.line_ids.filtered(lambda line: line.state == "done" and line.level_id.action_handover)
        if handover and not self.handover_csv_id:
            self._make_handover_dossier(handover)

    def _make_handover_dossier(self, lines):
        items = lines.item_ids.filtered(lambda i: not i.exclusion_reason)
        history = self.env["ar.dunning.item"].search_fetch(
            [("move_id", "in", items.move_id.ids), ("line_id.state", "=", "done"), ("level_id", "!=", False)],
            ["move_id", "level_id", "date"],
            order="date, id",
        )
        by_move = defaultdict(list)
        for h in history:
            by_move[h.move_id.id].append(f"{h.date} {h.level_id.name}")
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(
            [
                "agency",
                "customer",
                "vat",
                "street",
                "zip",
                "city",
                "country",
                "email",
                "invoice",
                "invoice_date",
                "due_date",
                "days_overdue",
                "amount_due",
                "interest",
                "fees",
                "currency",
                "reminders",
            ]
        )
        for item in items:
            partner = item.line_id.partner_id
            writer.writerow(
                [
                    item.line_id.policy_id.collection_agency_id.name or "",
                    partner.name,
                    partner.vat or "",
                    partner.street or "",
                    partner.zip or "",
                    partner.city or "",
                    partner.country_id.code or "",
                    partner.email or "",
                    item.move_id.name,
                    item.move_id.invoice_date or "",
                    item.date_maturity,
                    item.days_overdue,
                    f"{item.amount_residual:.2f}",
                    f"{item.interest:.2f}",
                    f"{item.fee:.2f}",
                    item.currency_id.name,
                    " | ".join(by_move[item.move_id.id]),
                ]
            )
        Attachment = self.env["ir.attachment"]
        self.handover_csv_id = Attachment.create(
            {
                "name": self.env._("Agency dossier %(run)s.csv", run=self.name),
                "raw": buf.getvalue().encode(),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "text/csv",
            }
        )
        pdfs = [line.pdf_id.raw for line in lines if line.pdf_id]
        Report = self.env["ir.actions.report"]
        for move in items.move_id:  # one document per call: Debian's wkhtmltopdf takes a single input
            streams = Report._render_qweb_pdf_prepare_streams("account.account_invoices", {}, res_ids=move.ids)
            pdfs += [s["stream"].getvalue() for key, s in streams.items() if key and s.get("stream")]
        if pdfs:
            self.handover_pdf_id = Attachment.create(
                {
                    "name": self.env._("Agency dossier %(run)s.pdf", run=self.name),
                    "raw": merge_pdf(pdfs),
                    "res_model": self._name,
                    "res_id": self.id,
                    "mimetype": "application/pdf",
                }
            )

    def action_open_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "ar.dunning.line",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
            "context": {"search_default_group_state": 1},
        }
