from odoo import api, fields, models
from odoo.exceptions import ValidationError

TONE_SELECTION = [("friendly", "Friendly"), ("neutral", "Neutral"), ("firm", "Firm")]


class ArDunningPolicy(models.Model):
    _name = "ar.dunning.policy"
    _description = "Dunning Policy"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    is_default = fields.Boolean(
        string="Default Policy",
        help="Used for every customer of the company that has no policy of its own.",
    )
    automatic = fields.Boolean(
        help="When set, the daily cron runs this policy unattended (preview and execute). "
        "Otherwise an accountant runs it in a reviewed batch.",
    )
    level_ids = fields.One2many("ar.dunning.level", "policy_id", string="Levels", copy=True)
    collection_agency_id = fields.Many2one(
        "res.partner",
        help="Agency that receives the dossier when a level hands invoices over.",
    )
    collector_id = fields.Many2one(
        "res.users",
        help="User who gets the phone-call activities. "
        "Empty: the customer's salesperson, else the user running the batch.",
    )
    tone_friendly_below = fields.Float(
        default=20.0, help="Payment-history scores below this value get the friendly tone (0 = perfect payer)."
    )
    tone_firm_from = fields.Float(default=50.0, help="Scores from this value on get the firm tone.")
    payment_days = fields.Integer(
        string="Days to Pay",
        default=14,
        help="Days the customer is given in the reminder to pay (a Belgian consumer must get at least 14 days).",
    )
    promise_max_days = fields.Integer(
        string="Promise Accepted up to (Days)",
        default=30,
        help="A buyer who promises in the portal to pay by a date at most this many days away is accepted at once; "
        "a later date becomes a request the accountant accepts or declines. 0: every promise is reviewed.",
    )
    promise_grace_days = fields.Integer(
        default=3,
        help="Days after a promised date before the promise counts as broken (a transfer made on the date may "
        "take a few days to arrive); the promised invoices are not reminded until then.",
    )

    plan_rule_ids = fields.One2many(
        "ar.dunning.plan.rule",
        "policy_id",
        string="Payment Plan Rules",
        copy=True,
        help="The limits of the payment plans buyers propose: the first rule matching the customer applies. "
        "No rule: every plan is reviewed by the accountant.",
    )
    plan_grace_days = fields.Integer(
        string="Instalment Grace Days",
        default=5,
        help="Days after an instalment's due date before the payment plan counts as broken; until then the plan "
        "is late and its invoices get no reminder.",
    )

    @api.constrains("is_default", "company_id", "active")
    def _check_single_default(self):
        for policy in self.filtered(lambda p: p.is_default and p.active):
            count = self.search_count(
                [("company_id", "=", policy.company_id.id), ("is_default", "=", True), ("id", "!=", policy.id)]
            )
            if count:
                raise ValidationError(
                    self.env._(
                        "Company %(company)s already has a default dunning policy: "
                        "untick 'Default Policy' on one of them.",
                        company=policy.company_id.name,
                    )
                )

    @api.constrains("promise_max_days", "promise_grace_days", "plan_grace_days")
    def _check_promise_days(self):
        for policy in self:
            if policy.promise_max_days < 0 or policy.promise_grace_days < 0 or policy.plan_grace_days < 0:
                raise ValidationError(
                    self.env._("Policy %(policy)s: promise days cannot be negative.", policy=policy.name)
                )

    @api.constrains("tone_friendly_below", "tone_firm_from")
    def _check_tone_thresholds(self):
        for policy in self:
            if policy.tone_friendly_below > policy.tone_firm_from:
                raise ValidationError(
                    self.env._(
                        "Policy %(policy)s: the friendly threshold must not exceed the firm threshold.",
                        policy=policy.name,
                    )
                )

    def _ar_translate_names(self):
        """Store the default names in every installed language (code terms from the module's .po)."""
        # en_US last and always: it is the source value, even when English is not an active language
        codes = [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"] + ["en_US"]
        for code in codes:
            names = self.env["res.company"].with_context(lang=code)._ar_dunning_level_names()
            for policy in self.with_context(lang=code):
                policy.name = names["policy"]
                for index, level in enumerate(policy._get_ladder()[:3], start=1):
                    level.name = names[f"level{index}"]

    def _ar_fill_default_names(self, langs):
        """Give the policies and levels still named by default a name in each of ``langs``.

        Only names whose English value is one of the default names and that have no value of
        their own in the language are written: names the accountant changed stay as they are.
        """
        defaults = self.env["res.company"].with_context(lang="en_US")._ar_dunning_level_names()
        key_by_english = {name: key for key, name in defaults.items()}
        for code in langs:
            names = self.env["res.company"].with_context(lang=code)._ar_dunning_level_names()
            records = list(self) + list(self.level_ids)
            for record in records:
                key = key_by_english.get(record.with_context(lang="en_US").name)
                if key and code not in (record._fields["name"]._get_stored_translations(record) or {}):
                    record.with_context(lang=code).name = names[key]

    def _get_ladder(self):
        """Levels in ladder order (ascending offset)."""
        self.ensure_one()
        return self.level_ids.sorted(lambda lvl: (lvl.offset_days, lvl.sequence, lvl.id))


class ArDunningLevel(models.Model):
    _name = "ar.dunning.level"
    _description = "Dunning Level"
    _order = "policy_id, offset_days, sequence, id"
    _check_company_auto = True

    policy_id = fields.Many2one("ar.dunning.policy", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    offset_days = fields.Integer(
        string="Days after Due Date",
        required=True,
        help="The level is reached this many calendar days after the due date; negative = before the due date "
        "(friendly pre-due reminder). Weekends and holidays count like any day.",
    )
    min_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="Customers whose total overdue amount is below this are not reminded at this level.",
    )
    currency_id = fields.Many2one(related="policy_id.company_id.currency_id")
    action_email = fields.Boolean(string="Send E-mail", default=True)
    action_letter = fields.Boolean(string="Print Letter", help="Add the letter to the merged PDF of the run.")
    action_activity = fields.Boolean(string="Phone Call", help="Schedule a phone-call activity for the collector.")
    action_credit_hold = fields.Boolean(
        string="Credit Hold", help="Put the customer on credit hold: no new invoice can be posted for them."
    )
    action_handover = fields.Boolean(
        string="Hand Over to Agency",
        help="Hand the overdue invoices over to the policy's collection agency; they get no more reminders.",
    )
    apply_interest = fields.Boolean(string="Charge Interest", help="Claim statutory late-payment interest.")
    apply_fees = fields.Boolean(
        string="Charge Fees",
        help="Claim the statutory fixed compensation / collection costs (EUR 40 B2B per invoice, Belgian B2C caps, "
        "Dutch WIK scale) when the law allows it at this point.",
    )
    invoice_charges = fields.Boolean(help="Post the interest and fees claimed as a separate debit note invoice.")
    template_friendly_id = fields.Many2one(
        "mail.template", string="Friendly Template", domain=[("model", "=", "ar.dunning.line")]
    )
    template_neutral_id = fields.Many2one(
        "mail.template", string="Neutral Template", domain=[("model", "=", "ar.dunning.line")]
    )
    template_firm_id = fields.Many2one(
        "mail.template", string="Firm Template", domain=[("model", "=", "ar.dunning.line")]
    )

    @api.constrains("policy_id", "offset_days")
    def _check_unique_offset(self):
        for level in self:
            if len(level.policy_id.level_ids.filtered(lambda lvl, lv=level: lvl.offset_days == lv.offset_days)) > 1:
                raise ValidationError(
                    self.env._(
                        "Policy %(policy)s has two levels at %(days)s days: "
                        "give each level its own 'Days after Due Date'.",
                        policy=level.policy_id.name,
                        days=level.offset_days,
                    )
                )

    def _get_template(self, tone):
        self.ensure_one()
        return (
            self[f"template_{tone}_id"]
            or self.template_neutral_id
            or self.template_friendly_id
            or self.template_firm_id
        )
