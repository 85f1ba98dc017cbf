from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import file_open

from ..tools.dunning_level import band_fee
from ..tools.late_payment_law import half_year_label, interest_by_periods
from ..tools.official_rates import RATE_FIELDS, shipped_rates

# the fields that make a rate: a user changing one of them takes the record over from module updates
RATE_VALUE_FIELDS = {"country_id", "customer_type", "date_from", "date_to", "rate", "legal_basis", "to_check"}
OFFICIAL_CONTEXT = "ar_dunning_official_rates"

CUSTOMER_TYPES = [("b2b", "Business (B2B)"), ("b2c", "Consumer (B2C)")]


class ArDunningInterestRate(models.Model):
    _name = "ar.dunning.interest.rate"
    _description = "Statutory Late-Payment Interest Rate"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "country_id, customer_type, date_from desc"

    country_id = fields.Many2one("res.country", required=True, index=True)
    customer_type = fields.Selection(CUSTOMER_TYPES, required=True, default="b2b")
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    rate = fields.Float(string="Rate (%)", required=True, digits=(5, 2), help="Yearly rate in percent.")
    legal_basis = fields.Char(
        help="The law and the official publication behind the figure, as published (not translated)."
    )
    to_check = fields.Boolean(
        help="The figure was derived or seen in one secondary source only: confirm it against the official "
        "publication (Belgian FPS Finance, Dutch government, Deutsche Bundesbank) before relying on it.",
    )

    manual = fields.Boolean(
        string="Entered by Hand",
        readonly=True,
        copy=False,
        help="Entered or corrected by a user: module updates never overwrite it. Rates the module ships are "
        "brought up to date by every module update as long as nobody changed them.",
    )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for rate in self:
            if rate.date_to < rate.date_from:
                raise ValidationError(
                    self.env._(
                        "Interest rate %(country)s: 'Date To' must not be before 'Date From'.",
                        country=rate.country_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("install_module") and not self.env.context.get(OFFICIAL_CONTEXT):
            for vals in vals_list:
                vals.setdefault("manual", True)
        return super().create(vals_list)

    def write(self, vals):
        if (
            RATE_VALUE_FIELDS & set(vals)
            and "manual" not in vals
            and not self.env.context.get("install_module")
            and not self.env.context.get(OFFICIAL_CONTEXT)
        ):
            vals = dict(vals, manual=True)
        return super().write(vals)

    @api.model
    def _ar_update_official_rates(self, data_file="ar_dunning/data/ar_dunning_data.xml"):
        """Bring the shipped rate records up to the module's data file (run by every module update).

        The data file is ``noupdate``: without this, an existing database keeps the figures of the version it
        was installed with (a corrected rate, a dropped "to check"). Records a user entered or corrected
        (``manual``) are left alone.
        """
        with file_open(data_file, "rb") as f:
            shipped = shipped_rates(f.read())
        updated = self.browse()
        for xmlid, vals in shipped.items():
            record = self.env.ref(f"ar_dunning.{xmlid}", raise_if_not_found=False)
            if not record or record.manual:
                continue
            country = self.env.ref(vals["country_id"], raise_if_not_found=False) if vals.get("country_id") else None
            current = {
                "country_id": record.country_id.id,
                "customer_type": record.customer_type,
                "date_from": fields.Date.to_string(record.date_from),
                "date_to": fields.Date.to_string(record.date_to),
                "rate": round(record.rate, 2),
                "legal_basis": record.legal_basis or "",
                "to_check": record.to_check,
            }
            target = dict(vals, country_id=country.id if country else record.country_id.id)
            changed = {name: value for name, value in target.items() if name in RATE_FIELDS and current[name] != value}
            if changed:
                record.with_context(**{OFFICIAL_CONTEXT: True}).write(changed)
                updated |= record
        return updated

    def _get_periods(self, country, customer_type):
        """[(date_from, date_to, rate)] for a country and customer type (from the prefetched records)."""
        return [
            (r.date_from, r.date_to, r.rate)
            for r in self
            if r.country_id == country and r.customer_type == customer_type
        ]

    def _compute_interest(self, amount, start, on_date, *, country, customer_type, periods=None):
        """(interest, missing) from ``start`` to ``on_date`` included; ``missing`` names the half-years
        without a rate as 'country / type / H2-2026' (the claim is then blocked, never 0)."""
        if periods is None:
            periods = self._get_periods(country, customer_type)
        interest, missing = interest_by_periods(amount, start, on_date, periods)
        return interest, [self._missing_label(country, customer_type, day) for day in missing]

    @api.model
    def _missing_label(self, country, customer_type, day):
        return self.env._(
            "%(country)s / %(type)s / %(half)s",
            country=country.name or self.env._("No country"),
            type=dict(self._fields["customer_type"]._description_selection(self.env))[customer_type],
            half=half_year_label(day),
        )

    @api.model
    def _cron_remind_next_rates(self):
        """Late June and late December: an activity asking to enter the rates of the next half-year."""
        today = fields.Date.context_today(self)
        if (today.month, today.day) < (6, 15) or (6, 30) < (today.month, today.day) < (12, 15):
            return
        if today.month <= 6:
            next_start = today.replace(month=7, day=1)
        else:
            next_start = today.replace(year=today.year + 1, month=1, day=1)
        rates = self.search([("date_to", ">=", today - timedelta(days=366))])
        for (country, ctype), group in rates.grouped(lambda r: (r.country_id, r.customer_type)).items():
            if any(r.date_from <= next_start <= r.date_to for r in group):
                continue
            latest = group.sorted("date_to")[-1]
            summary = self.env._(
                "Enter the statutory rate of %(half)s for %(country)s / %(type)s",
                half=half_year_label(next_start),
                country=country.name,
                type=dict(self._fields["customer_type"]._description_selection(self.env))[ctype],
            )
            if latest.activity_ids.filtered(lambda a, s=summary: a.summary == s):
                continue
            manager = self.env.ref("account.group_account_manager").user_ids[:1] or self.env.ref("base.user_admin")
            latest.activity_schedule(
                act_type_xmlid="mail.mail_activity_data_todo",
                date_deadline=next_start,
                summary=summary,
                note=latest.legal_basis,
                user_id=manager.id,
            )


class ArDunningFeeRule(models.Model):
    _name = "ar.dunning.fee.rule"
    _description = "Statutory Collection Fee Rule"
    _order = "country_id, customer_type"

    name = fields.Char(required=True, translate=True)
    country_id = fields.Many2one("res.country", help="Empty: any country without a rule of its own.")
    customer_type = fields.Selection(CUSTOMER_TYPES, required=True, default="b2b")
    minimum = fields.Float(help="Lowest fee (0 = none), e.g. EUR 40 under the Dutch WIK scale.")
    maximum = fields.Float(help="Highest fee (0 = none), e.g. EUR 2,000 in Belgium, EUR 6,775 under the WIK.")
    prior_notice_days = fields.Integer(
        help="Fees may only be claimed when a first reminder was sent at least this many days before "
        "(14 for Belgian consumers and for the Dutch 14-day letter; 0 = due without reminder).",
    )
    basis = fields.Selection(
        [("invoice", "Per late invoice"), ("total", "On the total claimed")],
        required=True,
        default="invoice",
        help="Per late invoice: the EUR 40 of Directive 2011/7/EU (CJEU C-585/20, C-78/22). On the total claimed: "
        "the Dutch WIK scale and the Belgian consumer caps are computed once on the amount due of the reminder.",
    )
    band_ids = fields.One2many("ar.dunning.fee.band", "rule_id", string="Scale", copy=True)
    legal_basis = fields.Char(
        help="The law and the official publication behind the figure, as published (not translated)."
    )
    to_check = fields.Boolean(help="Confirm this figure against the official text.")

    def _find(self, country, customer_type):
        rules = self.filtered(lambda r: r.customer_type == customer_type)
        return rules.filtered(lambda r: r.country_id == country)[:1] or rules.filtered(lambda r: not r.country_id)[:1]

    def _compute_fee(self, amount):
        self.ensure_one()
        bands = [(b.lower, b.fixed, b.percent) for b in self.band_ids]
        return band_fee(amount, bands, self.minimum, self.maximum)


class ArDunningFeeBand(models.Model):
    _name = "ar.dunning.fee.band"
    _description = "Collection Fee Scale Band"
    _order = "rule_id, lower"

    rule_id = fields.Many2one("ar.dunning.fee.rule", required=True, ondelete="cascade", index=True)
    lower = fields.Float(string="Debt Above", help="The band applies to debts above this amount.")
    fixed = fields.Float(string="Fixed Amount")
    percent = fields.Float(string="Percent above Lower", digits=(5, 2))
