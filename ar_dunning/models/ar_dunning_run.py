import csv
import io
import logging
import re
import time
from collections import defaultdict
from datetime import timedelta

import odoo.modules.module
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import split_every
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, merge_pdf

from ..tools.dunning_level import days_overdue, next_level, tone_from_score
from .ar_dunning_policy import TONE_SELECTION

_logger = logging.getLogger(__name__)
LETTER_REF_RE = re.compile(r"ARDL-(\d+)-R")

EXCLUSION_REASONS = [
    ("disputed", "Disputed"),
    ("no_followup", "No follow-up"),
    ("on_hold", "Customer on hold"),
    ("promise", "Promise to pay"),
    ("in_payment", "Being paid"),
    ("net_balance", "Net balance not positive"),
    ("threshold", "Under the minimum amount"),
    ("handed_over", "Handed over to agency"),
    ("no_contact", "No e-mail address"),
    ("manual", "Excluded by the accountant"),
]
LEGAL_REGIMES = [
    ("b2b", "Business"),
    ("be_b2c", "Belgian consumer"),
    ("nl_b2c", "Dutch consumer"),
    ("de_b2c", "German consumer"),
    ("b2c", "Consumer"),
]


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

    @api.depends("date", "company_id")
    def _compute_name(self):
        for run in self:
            run.name = self.env._("Dunning %(date)s", date=run.date) if run.date else False

    @api.depends("line_ids.state", "line_ids.selected")
    def _compute_progress(self):
        groups = self.env["ar.dunning.line"]._read_group(
            [("run_id", "in", self.ids)], ["run_id", "state", "selected"], ["__count", "amount_overdue:sum"]
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
            run.state = "preview"
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
            ["partner_id", "move_id", "date_maturity", "date", "amount_residual", "no_followup"],
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

    def _partner_items(self, lines, ladder, pending_tx):
        """(best level index or None, [(line, days, level index, exclusion)]) for one customer."""
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
            if days <= 0 and new_index is None:
                continue  # not due and no pre-due reminder: not in the statement
            reason = self._item_exclusion(line, pending_tx)
            if not reason and new_index is not None:
                best = new_index if best is None else max(best, new_index)
            items.append((line, days, None if reason else new_index, reason))
        return best, items

    def _item_charges(self, line, days, level, *, partner, ctype, charges):
        """(interest, fee) claimed on one overdue invoice at this level.

        Where the fee rule requires a prior notice (Belgian consumers: 14 days after the free
        first reminder; Dutch 14-day letter), neither costs nor interest are claimed before the
        notice period ended, and interest only runs from its end.
        """
        rates, fee_rule = charges
        interest = fee = 0.0
        due = line.date_maturity or line.date
        if days <= 0:
            return interest, fee
        notice = fee_rule.prior_notice_days if fee_rule else 0
        first = line.move_id.ar_dunning_first_date
        if notice:
            if not first or (self.date - first).days < notice:
                return interest, fee
            due = max(due, first + timedelta(days=notice))
        if level.apply_interest:
            interest = rates._compute_interest(line.amount_residual, due, self.date, partner.country_id, ctype)
        if level.apply_fees and fee_rule:
            fee = fee_rule._compute_fee(line.amount_residual)
        return interest, fee

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

    def _compute_lines(self):
        """Build the preview lines: one per customer with something to remind, bounded queries."""
        self.ensure_one()
        env = self.env
        policies = self._get_policies()
        default_policy = policies.filtered("is_default")[:1]
        ladders = {p.id: p._get_ladder() for p in policies}
        by_partner, pending_tx = self._fetch_receivables()
        partners = env["res.partner"].concat(*by_partner)
        promises = env["ar.dunning.promise"].search_fetch(
            [("partner_id", "in", partners.ids), ("state", "=", "open"), ("company_id", "=", self.company_id.id)],
            ["partner_id", "promise_date"],
        )
        open_promise = {p.partner_id.id for p in promises if p.promise_date >= self.date}
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
            best, items = self._partner_items(lines, ladder, pending_tx)
            if best is not None:
                net = sum(line.amount_residual for line in lines)
                candidates.append((partner, policy, ladder, best, net, items))

        tone_data = env["res.partner"].concat(*(c[0] for c in candidates))._ar_dunning_tone_data(self.date)
        # sudo: rates and fee scales are configuration, read for computing claims
        rates = env["ar.dunning.interest.rate"].sudo().search([("rate", ">=", 0)])
        fee_rules = env["ar.dunning.fee.rule"].sudo().search([("customer_type", "!=", False)])
        line_vals, item_vals = [], []
        for partner, policy, ladder, best, net, items in candidates:
            vals, vals_items = self._prepare_line_vals(
                partner,
                policy,
                ladder[best],
                net=net,
                items=items,
                tone_info=tone_data[partner.id],
                rates_rules=(rates, fee_rules),
                ladder=ladder,
            )
            if not vals["exclusion_reason"] and vals["key"] in done_keys:
                continue  # already reminded today at this level by another run
            vals["exclusion_reason"] = vals["exclusion_reason"] or (
                self._partner_exclusion(partner, net, vals["amount_overdue"], ladder[best], open_promise)
            )
            if vals["exclusion_reason"]:
                vals.update(state="excluded", selected=False, key=False)
            item_vals.append(vals_items)
            line_vals.append(vals)
        broken = promises.filtered(lambda p: p.promise_date < self.date)
        if broken:
            broken.state = "broken"
        new_lines = env["ar.dunning.line"].create(line_vals)
        env["ar.dunning.item"].create(
            [
                dict(vals, line_id=line.id)
                for line, vals_items in zip(new_lines, item_vals, strict=True)
                for vals in vals_items
            ]
        )
        return new_lines

    def _prepare_line_vals(self, partner, policy, level, *, net, items, tone_info, rates_rules, ladder):
        ctype = partner._ar_dunning_customer_type()
        country = partner.country_id.code
        regime = f"{country.lower()}_b2c" if ctype == "b2c" and country in ("BE", "NL", "DE") else ctype
        score, tone, explanation = tone_info
        if not partner.ar_dunning_tone_override:
            tone = tone_from_score(score, policy.tone_friendly_below, policy.tone_firm_from)
        rates, fee_rules = rates_rules
        fee_rule = fee_rules._find(partner.country_id, ctype)
        overdue = interest_sum = fee_sum = 0.0
        items_vals = []
        for aml_line, days, new_index, item_reason in items:
            interest = fee = 0.0
            if not item_reason:
                overdue += aml_line.amount_residual
                interest, fee = self._item_charges(
                    aml_line, days, level, partner=partner, ctype=ctype, charges=(rates, fee_rule)
                )
            interest_sum += interest
            fee_sum += fee
            items_vals.append(
                {
                    "move_id": aml_line.move_id.id,
                    "move_line_id": aml_line.id,
                    "date_maturity": aml_line.date_maturity or aml_line.date,
                    "days_overdue": days,
                    "amount_residual": aml_line.amount_residual,
                    "level_id": ladder[new_index].id if new_index is not None else False,
                    "interest": interest,
                    "fee": fee,
                    "exclusion_reason": item_reason,
                }
            )
        announced = 0.0
        if regime == "nl_b2c" and fee_rule and not fee_sum:
            announced = fee_rule._compute_fee(overdue)  # the 14-day letter states the exact costs
        vals = {
            "run_id": self.id,
            "company_id": self.company_id.id,
            "partner_id": partner.id,
            "contact_id": partner._ar_dunning_get_contact().id,
            "policy_id": policy.id,
            "level_id": level.id,
            "tone": tone,
            "tone_explanation": explanation,
            "legal_regime": regime,
            "amount_overdue": overdue,
            "amount_balance": net,
            "interest_total": interest_sum,
            "fee_total": fee_sum,
            "fee_announced": announced,
            "state": "draft",
            "selected": True,
            "exclusion_reason": False,
            "key": f"{self.company_id.id}:{partner.id}:{level.id}:{self.date}",
        }
        return vals, items_vals

    # ------------------------------------------------------------------
    # Execute
    # ------------------------------------------------------------------

    def action_execute(self):
        for run in self:
            run._execute()
        return True

    def _ar_commit(self, processed, remaining):
        """Commit a finished batch so that a crash later never resends it (not inside tests)."""
        if odoo.modules.module.current_test or self.env.context.get("ar_dunning_no_commit"):
            return
        self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    def _execute(self, batch_size=200):
        self.ensure_one()
        if self.state == "draft":
            self.action_preview()
        if self.state == "done":
            return
        self.state = "running"
        todo = self.line_ids.filtered(lambda line: line.state == "draft" and line.selected).sorted("id")
        unselected = self.line_ids.filtered(lambda line: line.state == "draft" and not line.selected)
        unselected.write({"state": "excluded", "exclusion_reason": "manual", "key": False})
        self._ar_commit(0, len(todo))
        processed = 0
        for batch_ids in split_every(batch_size, todo.ids):
            batch = self.env["ar.dunning.line"].browse(batch_ids)
            with self.env.cr.savepoint():
                locked = batch.try_lock_for_update()
                locked.invalidate_recordset(["state"])
                locked = locked.filtered(lambda line: line.state == "draft")
                locked._execute_batch(processed)
            processed += len(batch)
            self._ar_commit(len(batch), len(todo) - processed)
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


class ArDunningLine(models.Model):
    _name = "ar.dunning.line"
    _description = "Dunning Line (one reminder to one customer)"
    _order = "run_id desc, state, partner_id, id"
    _check_company_auto = True
    _rec_name = "partner_id"

    run_id = fields.Many2one("ar.dunning.run", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, index=True)
    date = fields.Date(related="run_id.date", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    contact_id = fields.Many2one("res.partner", string="Dunning Contact")
    lang = fields.Char(compute="_compute_lang")
    policy_id = fields.Many2one("ar.dunning.policy", required=True)
    level_id = fields.Many2one("ar.dunning.level", required=True)
    tone = fields.Selection(TONE_SELECTION, required=True)
    tone_explanation = fields.Text()
    legal_regime = fields.Selection(LEGAL_REGIMES, required=True, default="b2b")
    item_ids = fields.One2many("ar.dunning.item", "line_id", string="Invoices")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_overdue = fields.Monetary(string="Overdue")
    amount_balance = fields.Monetary(string="Net Balance", help="After credit notes and unreconciled payments.")
    interest_total = fields.Monetary(string="Interest")
    fee_total = fields.Monetary(string="Fees")
    fee_announced = fields.Monetary(
        string="Costs Announced",
        help="Collection costs the customer will owe if they do not pay in time (Dutch 14-day letter).",
    )
    amount_claimed = fields.Monetary(string="Total Claimed", compute="_compute_amount_claimed")
    state = fields.Selection(
        [("draft", "To Send"), ("excluded", "Excluded"), ("done", "Sent"), ("error", "Error")],
        default="draft",
        required=True,
        index=True,
    )
    selected = fields.Boolean(default=True, help="Untick to leave this customer out of the run.")
    exclusion_reason = fields.Selection(EXCLUSION_REASONS)
    key = fields.Char(
        string="Idempotency Key",
        readonly=True,
        copy=False,
        help="company:customer:level:date — one reminder per customer, level and day.",
    )
    channel_email = fields.Boolean(string="E-mail", compute="_compute_channels", store=True)
    channel_letter = fields.Boolean(string="Letter", compute="_compute_channels", store=True)
    channel_call = fields.Boolean(string="Call", related="level_id.action_activity")
    subject = fields.Char(readonly=True)
    body_html = fields.Html(readonly=True, sanitize=False)
    mail_id = fields.Many2one("mail.mail", readonly=True, index="btree_not_null")
    pdf_id = fields.Many2one("ir.attachment", string="Statement PDF", readonly=True)
    charge_move_id = fields.Many2one("account.move", string="Charges Invoice", readonly=True)
    payment_deadline = fields.Date(compute="_compute_payment_deadline")
    pay_url = fields.Char(compute="_compute_pay_url")
    statement_item_ids = fields.Many2many(
        "ar.dunning.item",
        compute="_compute_statement_item_ids",
        string="Statement",
        help="Invoices shown in the reminder.",
    )

    _key_uniq = models.UniqueIndex("(key) WHERE state = 'done'", "This reminder was already sent.")

    @api.depends("contact_id.lang", "partner_id.lang")
    def _compute_lang(self):
        for line in self:
            line.lang = line.contact_id.lang or line.partner_id.lang or "en_US"

    @api.depends("level_id.action_email", "level_id.action_letter", "contact_id.email")
    def _compute_channels(self):
        for line in self:
            line.channel_email = line.level_id.action_email and bool(line.contact_id.email)
            line.channel_letter = line.level_id.action_letter or (
                line.level_id.action_email and not line.contact_id.email
            )

    @api.depends("interest_total", "fee_total", "amount_overdue")
    def _compute_amount_claimed(self):
        for line in self:
            line.amount_claimed = line.amount_overdue + line.interest_total + line.fee_total

    @api.depends("run_id.date", "policy_id.payment_days")
    def _compute_payment_deadline(self):
        for line in self:
            line.payment_deadline = line.run_id.date + timedelta(days=line.policy_id.payment_days or 14)

    def _compute_pay_url(self):
        for line in self:
            line.pay_url = line.partner_id._ar_dunning_pay_url()

    @api.depends("item_ids.exclusion_reason")
    def _compute_statement_item_ids(self):
        for line in self:
            line.statement_item_ids = line.item_ids.filtered(lambda i: not i.exclusion_reason).sorted("date_maturity")

    def action_toggle_selected(self):
        for line in self.filtered(lambda x: x.state == "draft"):
            line.selected = not line.selected

    def action_include(self):
        """Send to an excluded customer after all (the accountant's decision)."""
        for line in self.filtered(lambda x: x.state == "excluded" and x.run_id.state == "preview"):
            line.write(
                {
                    "state": "draft",
                    "selected": True,
                    "exclusion_reason": False,
                    "key": f"{line.company_id.id}:{line.partner_id.id}:{line.level_id.id}:{line.date}",
                }
            )

    def _execute_batch(self, processed_before=0):
        """Render, queue and record one batch of reminders. Runs inside a savepoint."""
        if not self:
            return
        env = self.env
        run = self.run_id
        t0 = time.perf_counter()
        # prefetch what the templates and letters read, for the whole batch at once
        self.item_ids.fetch(["move_id", "date_maturity", "days_overdue", "amount_residual", "interest", "fee"])
        self.item_ids.move_id.fetch(["name", "invoice_date"])
        (self.partner_id | self.contact_id).fetch(["name", "email", "lang", "country_id"])
        # 1. render subject and body per template (grouped by language inside mail.template)
        for template, lines in self.grouped(lambda x: x.level_id._get_template(x.tone)).items():
            if not template:
                raise UserError(
                    env._(
                        "Level %(level)s has no template: set one per tone on the level.", level=lines[0].level_id.name
                    )
                )
            rendered = template._generate_template(lines.ids, ["subject", "body_html"])
            for line in lines:
                line.write(
                    {"subject": rendered[line.id].get("subject"), "body_html": rendered[line.id].get("body_html")}
                )
        t1 = time.perf_counter()
        # 2. statement PDFs: one wkhtmltopdf call for the whole batch, split per customer
        pdfs = self._render_letters()
        t2 = time.perf_counter()
        attachments = env["ir.attachment"].create(
            [
                {
                    "name": env._(
                        "%(level)s - %(partner)s.pdf", level=line.level_id.name, partner=line.partner_id.name
                    ),
                    "raw": pdfs[line.id],
                    "res_model": line._name,
                    "res_id": line.id,
                    "mimetype": "application/pdf",
                }
                for line in self
            ]
        )
        for line, attachment in zip(self, attachments, strict=True):
            line.pdf_id = attachment
        # 3. e-mails queued in mail.mail (sent by the mail queue cron)
        mail_lines = self.filtered("channel_email")
        mails = (
            env["mail.mail"]
            .sudo()
            .create(  # sudo: accounting users queue mails they do not own
                [
                    {
                        "subject": line.subject,
                        "body_html": line.body_html,
                        "email_from": line.company_id.email_formatted or env.user.email_formatted,
                        "reply_to": line.company_id.email_formatted or env.user.email_formatted,
                        "recipient_ids": [fields.Command.link(line.contact_id.id)],
                        "attachment_ids": [fields.Command.link(line.pdf_id.id)],
                        "model": "res.partner",
                        "res_id": line.partner_id.id,
                        "message_type": "email_outgoing",
                        "auto_delete": False,
                    }
                    for line in mail_lines
                ]
            )
        )
        for line, mail in zip(mail_lines, mails, strict=True):
            line.mail_id = mail
        crash_after = env.context.get("ar_dunning_crash_after")
        if crash_after is not None and processed_before + len(self) > crash_after:
            raise RuntimeError("ar_dunning test hook: simulated crash in the middle of a batch")
        self._execute_followups()
        self.write({"state": "done"})
        _logger.info(
            "dunning run %s: %s reminders executed (render %.1fs, pdf %.1fs, rest %.1fs)",
            run.id,
            len(self),
            t1 - t0,
            t2 - t1,
            time.perf_counter() - t2,
        )

    def _execute_followups(self):
        """Activities, holds, hand-over, invoice levels and charges of an executed batch."""
        env = self.env
        run = self.run_id
        # 4. phone calls for the collector
        call_lines = self.filtered("channel_call")
        if call_lines:
            call_type = env.ref("mail.mail_activity_data_call")
            model_id = env["ir.model"]._get_id("res.partner")
            env["mail.activity"].create(
                [
                    {
                        "res_model_id": model_id,
                        "res_id": line.partner_id.id,
                        "activity_type_id": call_type.id,
                        "summary": env._("Dunning call: %(level)s", level=line.level_id.name),
                        "user_id": (line.policy_id.collector_id or line.partner_id.user_id or env.user).id,
                        "date_deadline": line.date,
                    }
                    for line in call_lines
                ]
            )
        # 5. credit holds and agency hand-over
        holds = self.filtered("level_id.action_credit_hold").partner_id
        if holds:
            holds.with_company(run.company_id).ar_dunning_credit_hold = True
        handover_moves = (
            self.filtered("level_id.action_handover").item_ids.filtered(lambda i: not i.exclusion_reason).move_id
        )
        if handover_moves:
            handover_moves.ar_dunning_handed_over = True
        # 6. invoices get their new level
        # only dunning fields change: no need to re-synchronise the invoices' accounting lines
        Move = env["account.move"].with_context(
            skip_invoice_sync=True, check_move_validity=False, skip_is_manually_modified=True
        )
        items = self.item_ids.filtered(lambda i: i.level_id)
        for level, level_items in items.grouped("level_id").items():
            Move.browse(level_items.move_id.ids).write(
                {"ar_dunning_level_id": level.id, "ar_dunning_last_date": run.date}
            )
        first = Move.browse(items.move_id.ids).filtered(lambda m: not m.ar_dunning_first_date)
        if first:
            first.write({"ar_dunning_first_date": run.date})
        # 7. optional debit note for interest and fees
        for line in self.filtered(lambda x: x.level_id.invoice_charges and (x.interest_total or x.fee_total)):
            line._create_charge_invoice()

    @staticmethod
    def _ar_page_link_uris(page):
        uris = []
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            uri = action and action.get_object().get("/URI")
            if uri:
                uris.append(str(uri))
        return uris

    def _render_letters(self):
        """{line_id: pdf bytes} for the lines in self, in ONE wkhtmltopdf call.

        Debian's wkhtmltopdf (unpatched Qt) accepts a single input document and no outlines,
        so the letters are rendered in one HTML body, one page-break per letter, and the PDF
        is split on the reference printed at the top of every letter (``ARDL-<id>``).
        """
        if not self:
            return {}
        Report = self.env["ir.actions.report"]
        report_ref = "ar_dunning.action_report_dunning_letter"
        html = Report._render_qweb_html(report_ref, self.ids)[0]
        bodies, _ids, _header, _footer, specific_args = Report._prepare_html(html, report_model=self._name)
        pdf = Report._run_wkhtmltopdf(bodies, report_ref=report_ref, specific_paperformat_args=specific_args)
        if len(self) == 1:
            return {self.id: pdf}
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        starts = {}
        for index, page in enumerate(reader.pages):
            # the reference is a link (kept by every wkhtmltopdf build); its text is only
            # extractable when no web font is embedded
            markers = [*self._ar_page_link_uris(page), page.extract_text() or ""]
            for match in LETTER_REF_RE.finditer(" ".join(markers)):
                starts.setdefault(int(match.group(1)), index)
        order = sorted((page, line_id) for line_id, page in starts.items() if line_id in self.ids)
        if len(order) != len(self):
            _logger.warning("dunning letters: could not split the batch PDF, rendering one letter per call")
            return {line.id: line._render_letters()[line.id] for line in self}
        result = {}
        for i, (first_page, line_id) in enumerate(order):
            last_page = order[i + 1][0] if i + 1 < len(order) else len(reader.pages)
            writer = PdfFileWriter()
            for page_index in range(first_page, last_page):
                writer.add_page(reader.pages[page_index])
            buf = io.BytesIO()
            writer.write(buf)
            result[line_id] = buf.getvalue()
        return result

    def _create_charge_invoice(self):
        self.ensure_one()
        journal = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company_id.id)], limit=1
        )
        if not journal:
            raise UserError(self.env._("Create a sales journal to invoice dunning charges."))
        line_vals = []
        if self.interest_total:
            line_vals.append(
                {
                    "name": self.env._("Late-payment interest"),
                    "quantity": 1,
                    "price_unit": self.interest_total,
                    "tax_ids": [],
                }
            )
        if self.fee_total:
            line_vals.append(
                {
                    "name": self.env._("Collection costs / fixed compensation"),
                    "quantity": 1,
                    "price_unit": self.fee_total,
                    "tax_ids": [],
                }
            )
        move = (
            self.env["account.move"]
            .with_context(ar_dunning_skip_credit_hold=True)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id.id,
                    "journal_id": journal.id,
                    "company_id": self.company_id.id,
                    "invoice_date": self.date,
                    "ref": self.env._("Dunning charges %(level)s", level=self.level_id.name),
                    "invoice_line_ids": [fields.Command.create(vals) for vals in line_vals],
                }
            )
        )
        move.with_context(ar_dunning_skip_credit_hold=True).action_post()
        self.charge_move_id = move
        self.item_ids.move_id.filtered(lambda m: not m.ar_dunning_charge_move_id).ar_dunning_charge_move_id = move


class ArDunningItem(models.Model):
    _name = "ar.dunning.item"
    _description = "Dunning Line Invoice"
    _order = "line_id, date_maturity, id"

    line_id = fields.Many2one("ar.dunning.line", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    date = fields.Date(related="line_id.date", store=True)
    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True)
    move_line_id = fields.Many2one("account.move.line")
    invoice_date = fields.Date(related="move_id.invoice_date")
    date_maturity = fields.Date(string="Due Date")
    days_overdue = fields.Integer()
    currency_id = fields.Many2one(related="line_id.currency_id")
    amount_residual = fields.Monetary(string="Amount Due")
    interest = fields.Monetary()
    fee = fields.Monetary()
    level_id = fields.Many2one("ar.dunning.level", string="New Level", help="Empty: listed in the statement only.")
    exclusion_reason = fields.Selection(EXCLUSION_REASONS)
