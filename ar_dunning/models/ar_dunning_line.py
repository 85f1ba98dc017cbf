import io
import logging
import re
import time
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from .ar_dunning_policy import TONE_SELECTION
from .ir_qweb import COMPILE_CACHE_KEY

_logger = logging.getLogger(__name__)
LETTER_REF_RE = re.compile(r"ARDL-(\d+)-R")

EXCLUSION_REASONS = [
    ("disputed", "Disputed"),
    ("no_followup", "No follow-up"),
    ("on_hold", "Customer on hold"),
    ("promise", "Promise to pay"),
    ("plan", "Payment plan"),
    ("in_payment", "Being paid"),
    ("net_balance", "Net balance not positive"),
    ("threshold", "Under the minimum amount"),
    ("handed_over", "Handed over to agency"),
    ("no_contact", "No e-mail address"),
    ("manual", "Excluded by the accountant"),
    ("rate_missing", "No statutory interest rate"),
]
LEGAL_REGIMES = [
    ("b2b", "Business"),
    ("be_b2c", "Belgian consumer"),
    ("nl_b2c", "Dutch consumer"),
    ("de_b2c", "German consumer"),
    ("b2c", "Consumer"),
]


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
    law_country_id = fields.Many2one(
        "res.country",
        string="Governing Law",
        readonly=True,
        help="Whose late-payment law this reminder applies: a consumer's own country; for a business customer the "
        "law your contract chose (the customer's Governing Law), else your company's (Rome I Regulation, art. 4).",
    )
    item_ids = fields.One2many("ar.dunning.item", "line_id", string="Invoices")
    currency_id = fields.Many2one(
        "res.currency",
        help="Currency of the totals below: the invoices' currency, or the company currency (an equivalent at the "
        "reminder date, for lists only) when the reminder claims invoices in several currencies.",
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    multi_currency = fields.Boolean(
        string="Several Currencies",
        readonly=True,
        help="The reminder claims invoices in several currencies: it states one total per currency.",
    )
    amount_overdue_company = fields.Monetary(string="Overdue (Company Currency)", currency_field="company_currency_id")
    amount_overdue_text = fields.Char(string="Overdue per Currency", compute="_compute_amount_texts")
    charges_text = fields.Char(string="Charges per Currency", compute="_compute_amount_texts")
    amount_claimed_text = fields.Char(string="Claimed per Currency", compute="_compute_amount_texts")
    amount_overdue = fields.Monetary(string="Overdue")
    amount_balance = fields.Monetary(string="Net Balance", help="After credit notes and unreconciled payments.")
    interest_total = fields.Monetary(string="Interest")
    fee_total = fields.Monetary(string="Fees")
    fee_announced = fields.Monetary(
        string="Costs Announced",
        help="Collection costs the customer will owe if they do not pay in time (Dutch 14-day letter).",
    )
    amount_claimed = fields.Monetary(string="Total Claimed", compute="_compute_amount_claimed")
    notice_end = fields.Date(
        string="Notice Period Ends",
        readonly=True,
        help="Last day of the 14 days this reminder gives a Belgian or Dutch consumer before costs and interest "
        "(Belgium: from the day after an e-mail or the third working day after a letter; the Netherlands: from "
        "the day after receipt).",
    )
    first_notice = fields.Boolean(
        readonly=True, help="The first reminder after the due date for at least one invoice (free in Belgium)."
    )
    rate_missing = fields.Text(
        string="Missing Interest Rates",
        readonly=True,
        help="Country / customer type / half-year without a statutory rate: the reminder cannot be sent until "
        "the rate is entered (Invoicing > Configuration > Follow-up > Late-Payment Interest Rates).",
    )
    blocked = fields.Boolean(compute="_compute_blocked", store=True)
    fourteen_day_letter = fields.Boolean(
        string="14-Day Letter",
        compute="_compute_fourteen_day_letter",
        help="The reminder is the Dutch consumer's 14-day letter (art. 6:96(6) Dutch Civil Code): it states one "
        "total to pay, the last day of the 14 days and the exact collection costs due after it, and nothing else "
        "about payment.",
    )
    broken_promise_ids = fields.Many2many(
        "ar.dunning.promise",
        string="Broken Promises",
        readonly=True,
        help="Promises to pay broken since the last reminder: this reminder says so, and resumes the reminders "
        "of their invoices at the level reached before the promise.",
    )
    broken_plan_ids = fields.Many2many(
        "ar.dunning.plan",
        string="Broken Payment Plans",
        readonly=True,
        help="Payment plans broken since the last reminder: this reminder says so, and resumes the reminders of "
        "their overdue instalments at the level reached before the plan.",
    )
    broken_promise_text = fields.Text(
        compute="_compute_broken_promise_text", help="What the reminder says about the broken promises."
    )
    legal_text = fields.Text(
        compute="_compute_legal_text",
        help="What the law lets this reminder state, in the customer's language (rendered by the templates).",
    )

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
    charge_move_ids = fields.Many2many(
        "account.move",
        "ar_dunning_line_charge_move_rel",
        "line_id",
        "move_id",
        string="Charges Invoices",
        readonly=True,
        help="The invoices of the interest and fees this reminder claimed: one per currency.",
    )
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

    @api.depends("legal_regime", "first_notice", "fee_announced")
    def _compute_fourteen_day_letter(self):
        for line in self:
            line.fourteen_day_letter = line.legal_regime == "nl_b2c" and line.first_notice and bool(line.fee_announced)

    @api.depends(
        "legal_regime",
        "law_country_id",
        "first_notice",
        "notice_end",
        "fee_announced",
        "fee_total",
        "interest_total",
        "lang",
    )
    def _compute_legal_text(self):
        for line in self:
            line.legal_text = line.with_context(lang=line.lang)._ar_legal_sentences() or False

    @api.depends("broken_promise_ids", "broken_plan_ids", "lang")
    def _compute_broken_promise_text(self):
        for line in self:
            line.broken_promise_text = line.with_context(lang=line.lang)._ar_broken_promise_sentences() or False

    def _ar_broken_promise_sentences(self):
        """One sentence per broken promise, in the customer's language (formal register)."""
        self.ensure_one()
        env = self.env
        sentences = []
        for promise in self.broken_promise_ids.sorted("promise_date"):
            date = format_date(env, promise.promise_date, lang_code=env.lang)
            invoices = ", ".join(promise.line_ids.move_id.sorted("name").mapped("name"))
            if invoices:
                sentences.append(
                    env._(
                        "You promised to pay %(invoices)s by %(date)s. As we have not received the payment, we are "
                        "resuming our reminders.",
                        invoices=invoices,
                        date=date,
                    )
                )
            else:
                sentences.append(
                    env._(
                        "You promised to pay by %(date)s. As we have not received the payment, we are resuming "
                        "our reminders.",
                        date=date,
                    )
                )
        for plan in self.broken_plan_ids.sorted("id"):
            missed = plan.instalment_ids.filtered(lambda i: i.amount_residual > 0 and i.date < self.date).sorted(
                "number"
            )[:1]
            sentences.append(
                env._(
                    "You agreed with us to pay %(invoices)s in %(count)s instalments. As instalment %(number)s, due "
                    "on %(date)s, has not been paid, the payment plan has ended and we are resuming our reminders.",
                    invoices=", ".join(plan.move_ids.sorted("name").mapped("name")),
                    count=plan.instalment_count,
                    number=missed.number or "",
                    date=format_date(env, missed.date, lang_code=env.lang) if missed else "",
                )
            )
        return "\n".join(sentences)

    def _ar_with_broken_promise(self, body):
        """The rendered reminder with the broken-promise paragraph before its statement table (or before its
        last paragraph): every template, the accountant's own included, mentions the broken promise."""
        self.ensure_one()
        text = self.broken_promise_text
        if not text or not body:
            return body
        block = Markup('<p class="ar_dunning_broken_promise" style="white-space: pre-line;">%s</p>') % text
        body = str(body)
        at = body.find("<table")
        if at < 0:
            at = body.rfind("<p")
        if at < 0:
            return Markup(body) + block
        return Markup(body[:at]) + block + Markup(body[at:])

    def _ar_legal_sentences(self):
        """The legal statements of one reminder (sources in tools/late_payment_law.py)."""
        self.ensure_one()
        env = self.env
        lang = env.lang

        def money(amount):
            return format_amount(env, amount, self.currency_id, lang_code=lang)

        company = self.company_id
        regime = self.legal_regime
        country = self.law_country_id.code
        charges = bool(self.fee_total or self.interest_total)
        sentences = []
        if regime == "be_b2c" and self.first_notice:
            # art. XIX.2 § 1 CEL: amount, due date (table), enterprise number, end of the period, damages
            sentences.append(
                env._(
                    "This first reminder is free of charge. You have until %(end)s (14 calendar days) to pay the "
                    "amount due of %(amount)s; the due date of each invoice is in the table above.",
                    end=format_date(env, self.notice_end, lang_code=lang),
                    amount=self.amount_overdue_text,
                )
            )
            if self.fee_announced:
                sentences.append(
                    env._(
                        "If it is not paid by then, our terms entitle us to damages of %(fee)s and to late-payment "
                        "interest (Book XIX of the Belgian Code of Economic Law).",
                        fee=money(self.fee_announced),
                    )
                )
            else:
                sentences.append(
                    env._(
                        "If it is not paid by then, late-payment interest at the legal interest rate will be due "
                        "(Book XIX of the Belgian Code of Economic Law)."
                    )
                )
            sentences.append(
                env._(
                    "%(company)s, enterprise number %(number)s.",
                    company=company.name,
                    number=company.company_registry or company.vat or "",
                )
            )
        elif regime == "be_b2c" and charges:
            sentences.append(
                env._(
                    "The 14 days given by our first reminder have ended: the amounts above are claimed under Book "
                    "XIX of the Belgian Code of Economic Law."
                )
            )
        elif self.fourteen_day_letter:
            # art. 6:96(6) BW: one amount to pay, one exact last day, the exact costs after it (no range, no
            # "from", no second amount). HR 25 Nov 2016, ECLI:NL:HR:2016:2704: the 14 days start the day after
            # receipt and the letter must not suggest that costs are due earlier. The templates leave out their
            # own total and payment request for this letter (fourteen_day_letter): this paragraph replaces them.
            end = format_date(env, self.notice_end, lang_code=lang)
            sentences.append(
                env._(
                    "This is our 14-day letter (art. 6:96(6) of the Dutch Civil Code). The total amount to pay (see "
                    "the table above) is %(amount)s. If you pay this amount no later than %(end)s, you owe no "
                    "collection costs. If you have not paid it by %(end)s, you will owe collection costs of "
                    "%(fee)s in addition, and the statutory interest continues to run until the day of payment.",
                    amount=self.amount_claimed_text,
                    end=end,
                    fee=money(self.fee_announced),
                )
            )
        elif regime == "nl_b2c" and self.fee_total:
            sentences.append(
                env._(
                    "The collection costs are those announced in our 14-day letter (art. 6:96 of the Dutch Civil Code)."
                )
            )
        elif country == "DE" and regime in ("b2b", "de_b2c"):
            sentences += self._ar_legal_sentences_de()
        elif regime == "b2b" and charges:
            if country == "NL" and not company.ar_dunning_nl_b2b_fee_rule_id:
                sentences.append(
                    env._(
                        "Statutory commercial interest is due from the day after the due date (art. 6:119a of the "
                        "Dutch Civil Code), and collection costs on the total principal according to the WIK scale "
                        "(art. 6:96)."
                    )
                )
            elif country != "NL":
                sentences.append(
                    env._(
                        "Under the rules on late payment in commercial transactions (Directive 2011/7/EU), "
                        "statutory interest is due from the day after the due date, and a fixed compensation of "
                        "EUR 40 per late invoice, without a reminder being needed."
                    )
                )
        return "\n".join(sentences)

    def _ar_legal_sentences_de(self):
        """§§ 286, 288 BGB: when default started, the rate above the base rate, the Verzugspauschale."""
        env = self.env
        company = self.company_id
        regime = self.legal_regime
        sentences = []
        # A German first reminder is a Zahlungserinnerung: friendly, it claims no default (Verzug). The default
        # and its legal ground are stated from the second level on, the real Mahnung; the interest engine
        # still counts the default from the receipt of the first reminder (§ 286(1) BGB: any clear request to
        # pay after the due date is a Mahnung, whatever its tone).
        if self._ar_is_first_level():
            pass
        elif self.partner_id._ar_dunning_de_date_agreed(company):
            sentences.append(
                env._(
                    "The payment date was agreed in our contract: you have been in default since the day after "
                    "the due date, without a further reminder (§ 286(2) BGB)."
                )
            )
        elif self.first_notice:
            sentences.append(env._("With the receipt of this reminder you are in default of payment (§ 286(1) BGB)."))
        else:
            sentences.append(
                env._("You have been in default of payment since the receipt of our first reminder (§ 286(1) BGB).")
            )
        if self.interest_total:
            sentences.append(
                env._(
                    "Default interest: %(points)s percentage points above the base rate (§ 288 BGB), from the "
                    "start of the default.",
                    points=9 if regime == "b2b" else 5,
                )
            )
        if self.fee_total and regime == "b2b":
            sentences.append(env._("The fee is the lump sum for late payment of EUR 40 per invoice (§ 288(5) BGB)."))
        return sentences

    def _ar_is_first_level(self):
        """The level is its policy's first (the friendly payment reminder, not yet a formal notice)."""
        self.ensure_one()
        return self.level_id == self.policy_id._get_ladder()[:1]

    def _ar_currency_totals(self):
        """{currency: {"overdue", "interest", "fee"}} of the invoices the reminder claims, each in its currency."""
        self.ensure_one()
        items = self.item_ids.filtered(lambda i: not i.exclusion_reason and i.currency_id)
        if not items:
            return {
                self.currency_id: {
                    "overdue": self.amount_overdue,
                    "interest": self.interest_total,
                    "fee": self.fee_total,
                }
            }
        totals = {}
        for currency, rows in items.grouped("currency_id").items():
            totals[currency] = {
                key: currency.round(sum(rows.mapped(field)))
                for key, field in (("overdue", "amount_residual"), ("interest", "interest"), ("fee", "fee"))
            }
        return totals

    def _ar_format_amounts(self, amounts):
        """'€ 500.00 and $ 1,000.00': one amount per currency, never added together."""
        lang = self.env.lang
        texts = [format_amount(self.env, amount, currency, lang_code=lang) for currency, amount in amounts]
        if len(texts) <= 1:
            return texts[0] if texts else ""
        return self.env._("%(amounts)s and %(last)s", amounts=", ".join(texts[:-1]), last=texts[-1])

    @api.depends(
        "item_ids.amount_residual",
        "item_ids.interest",
        "item_ids.fee",
        "item_ids.currency_id",
        "item_ids.exclusion_reason",
        "amount_overdue",
        "interest_total",
        "fee_total",
        "currency_id",
    )
    @api.depends_context("lang")
    def _compute_amount_texts(self):
        for line in self:
            totals = sorted(line._ar_currency_totals().items(), key=lambda kv: kv[0].name or "")
            line.amount_overdue_text = line._ar_format_amounts([(c, t["overdue"]) for c, t in totals])
            charges = [(c, t["interest"] + t["fee"]) for c, t in totals if t["interest"] or t["fee"]]
            line.charges_text = line._ar_format_amounts(charges or [(line.currency_id, 0.0)])
            line.amount_claimed_text = line._ar_format_amounts(
                [(c, t["overdue"] + t["interest"] + t["fee"]) for c, t in totals]
            )

    @api.depends("rate_missing")
    def _compute_blocked(self):
        for line in self:
            line.blocked = bool(line.rate_missing)

    @api.depends("interest_total", "fee_total", "amount_overdue")
    def _compute_amount_claimed(self):
        for line in self:
            line.amount_claimed = line.amount_overdue + line.interest_total + line.fee_total

    @api.depends("run_id.date", "policy_id.payment_days", "notice_end")
    def _compute_payment_deadline(self):
        for line in self:
            # a consumer's statutory 14 days (BE: from the day after an e-mail or the 3rd working day after
            # a letter; NL: from the day after receipt) end later than "run date + 14": state the legal end
            line.payment_deadline = line.notice_end or line.run_id.date + timedelta(
                days=line.policy_id.payment_days or 14
            )

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

    def _ar_letter_name(self):
        """The letter's file name without extension, as the customer reads it: the level's name in the
        customer's language (glossary: Herinnering, Rappel de paiement, Zahlungserinnerung, 1. Mahnung ...)
        and the reference printed at the top of the letter."""
        self.ensure_one()
        return f"{self.level_id.with_context(lang=self.lang).name} {self._ar_letter_reference()}"

    def _ar_letter_reference(self):
        """The reference printed on the letter; the run splits the batch PDF on it (LETTER_REF_RE)."""
        self.ensure_one()
        return f"ARDL-{self.id}-R"

    def _execute_batch(self):
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
        # 1. render subject and body per template (grouped by language inside mail.template),
        # each inline body compiled once for the batch, not once per reminder
        compiled = {}
        for template, lines in self.grouped(lambda x: x.level_id._get_template(x.tone)).items():
            if not template:
                raise UserError(
                    env._(
                        "Level %(level)s has no template: set one per tone on the level.", level=lines[0].level_id.name
                    )
                )
            rendered = template.with_context(**{COMPILE_CACHE_KEY: compiled})._generate_template(
                lines.ids, ["subject", "body_html"]
            )
            for line in lines:
                line.write(
                    {
                        "subject": rendered[line.id].get("subject"),
                        "body_html": line._ar_with_broken_promise(rendered[line.id].get("body_html")),
                    }
                )
        t1 = time.perf_counter()
        # 2. statement PDFs: one wkhtmltopdf call for the whole batch, split per customer
        pdfs = self._render_letters()
        t2 = time.perf_counter()
        attachments = env["ir.attachment"].create(
            [
                {
                    "name": f"{line._ar_letter_name()}.pdf",
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
            call_lines.partner_id.check_access("read")
            # sudo: an activity needs write access on its document, and accountants read customers without
            # editing them; only the call activities of this batch's customers, created as the executing user
            env["mail.activity"].sudo().create(
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
            # sudo: the field is the accountants' (groups=account.group_account_invoice) but sits on the customer,
            # which they may not edit; this one field, on this batch's customers
            holds.sudo().with_company(run.company_id).write({"ar_dunning_credit_hold": True})
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

    def _ar_letter_starts(self, reader, markers):
        """[(first page index, line id)] of the letters of self found in the PDF, in page order."""
        starts = {}
        for index, page in enumerate(reader.pages):
            for match in LETTER_REF_RE.finditer(" ".join(markers(page))):
                starts.setdefault(int(match.group(1)), index)
        return sorted((page, line_id) for line_id, page in starts.items() if line_id in self.ids)

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
        # the reference is a link (kept by every wkhtmltopdf build), read from the page's
        # annotations; its text is only extractable when no web font is embedded, and parsing
        # every page's content stream for it costs more than rendering the PDF: text is read
        # only when the links do not identify every letter
        order = self._ar_letter_starts(reader, self._ar_page_link_uris)
        if len(order) != len(self):
            order = self._ar_letter_starts(
                reader, lambda page: [*self._ar_page_link_uris(page), page.extract_text() or ""]
            )
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
        """Post the interest and fees claimed as charges invoices: one per currency (never USD added to EUR)."""
        self.ensure_one()
        items = self.item_ids.filtered(lambda i: not i.exclusion_reason and (i.interest or i.fee))
        moves = self.env["account.move"]
        for currency, rows in items.grouped(lambda i: i.currency_id or self.currency_id).items():
            interest, fee = sum(rows.mapped("interest")), sum(rows.mapped("fee"))
            line_vals = []
            if interest:
                line_vals.append({"name": self.env._("Late-payment interest"), "price_unit": interest})
            if fee:
                line_vals.append({"name": self.env._("Collection costs / fixed compensation"), "price_unit": fee})
            move = self.env["account.move"]._ar_dunning_post_charges(
                self.partner_id,
                line_vals,
                company=self.company_id,
                currency=currency,
                invoice_date=self.date,
                ref=self.env._("Dunning charges %(level)s", level=self.level_id.name),
            )
            rows.move_id.filtered(lambda m: not m.ar_dunning_charge_move_id).ar_dunning_charge_move_id = move
            moves |= move
        self.charge_move_ids = moves
        return moves
