"""Late-payment law of Belgium, the Netherlands and Germany as pure functions (no Odoo registry).

Dates and amounts in, values out. Every statutory figure carries its source next to it; the
rates that change every half-year live in editable records (``ar.dunning.interest.rate``) and
are passed in by the caller. Tests: ``tests/test_late_payment_law.py`` (the laws' own examples).
"""

from datetime import date, timedelta

from .dunning_level import band_fee

# ---------------------------------------------------------------------------------------------
# Half-years: statutory rates change on 1 January and 1 July
# (BE: art. 5 Law of 2 Aug 2002; NL: art. 6:119a(2) BW; DE: § 247(1) BGB).
# ---------------------------------------------------------------------------------------------


def half_year_start(day: date) -> date:
    return day.replace(month=1 if day.month <= 6 else 7, day=1)


def half_year_end(day: date) -> date:
    return day.replace(month=6, day=30) if day.month <= 6 else day.replace(month=12, day=31)


def half_year_label(day: date) -> str:
    """'H1-2026' / 'H2-2026'."""
    return f"H{1 if day.month <= 6 else 2}-{day.year}"


def uncovered_half_years(start: date, end: date, periods):
    """Half-years (their first day) between ``start`` and ``end`` with a day no period covers.

    ``periods`` is an iterable of ``(date_from, date_to, rate)``. A day without a rate must never
    bear 0 %: the caller blocks and names these half-years.
    """
    if end < start:
        return []
    spans = sorted((lo, hi) for lo, hi, _rate in periods)
    missing = []
    day = start
    while day <= end:
        covering = [hi for lo, hi in spans if lo <= day <= hi]
        if covering:
            day = max(covering) + timedelta(days=1)
            continue
        first = half_year_start(day)
        if first not in missing:
            missing.append(first)
        later = [lo for lo, _hi in spans if lo > day]
        day = min([*later, half_year_end(day) + timedelta(days=1)])
    return missing


def interest_by_periods(amount, start: date, end: date, periods, days_in_year=365):
    """Simple interest on ``amount`` for every day from ``start`` to ``end`` included.

    Each day bears the rate of the period that contains it. Returns ``(interest, missing)``:
    ``missing`` lists the half-years without a rate (see :func:`uncovered_half_years`); when it
    is not empty the interest is incomplete and must not be claimed.
    """
    if amount <= 0 or end < start:
        return 0.0, []
    total = 0.0
    for date_from, date_to, rate in periods:
        lo, hi = max(start, date_from), min(end, date_to)
        if hi >= lo:
            total += amount * rate / 100.0 * ((hi - lo).days + 1) / days_in_year
    return round(total, 2), uncovered_half_years(start, end, periods)


# ---------------------------------------------------------------------------------------------
# Working days and notice periods
# ---------------------------------------------------------------------------------------------


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day (Monday to Friday) after ``day``.

    Public holidays are not known here; counting Saturdays as non-working days makes the period
    end later, never earlier, than the stricter reading of "working day".
    """
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def be_b2c_period(sent: date, channel: str, days: int = 14):
    """(first day, last day) of the 14 calendar days a Belgian consumer gets after the free first reminder.

    Art. XIX.2 § 1 Code of Economic Law (Law of 4 May 2023, Belgian Official Gazette 23 May 2023,
    in force 1 Sep 2023): the period starts the third working day after the reminder was sent on
    paper, or the day after it was sent electronically. No cost or interest before it ended.
    """
    first = add_working_days(sent, 3) if channel == "letter" else sent + timedelta(days=1)
    return first, first + timedelta(days=days - 1)


def nl_b2c_period(sent: date, channel: str, days: int = 14):
    """(receipt day, last day) of the Dutch 14-day letter (art. 6:96(6) BW).

    The 14 days run from the day after the debtor received the letter (HR 13 July 2018,
    ECLI:NL:HR:2018:1200). Receipt is taken as the day after an e-mail was sent and the second day
    after a letter was posted; the costs are due only after the last day.
    """
    receipt = sent + timedelta(days=2 if channel == "letter" else 1)
    return receipt, receipt + timedelta(days=days)


# ---------------------------------------------------------------------------------------------
# Belgium, consumers: Book XIX Code of Economic Law
# ---------------------------------------------------------------------------------------------

# Art. XIX.4 § 2 CEL: the damages clause may claim at most EUR 20 for an amount due up to EUR 150;
# EUR 30 + 10 % of the part from EUR 150.01 to EUR 500; EUR 65 + 5 % of the part above EUR 500;
# never more than EUR 2,000. Computed on the amount due of the reminder.
BE_B2C_DAMAGES_SCALE = ((0.0, 20.0, 0.0), (150.0, 30.0, 10.0), (500.0, 65.0, 5.0))
BE_B2C_DAMAGES_MAX = 2000.0


def be_b2c_damages(amount_due, clause=True):
    """Damages a Belgian company may claim from a consumer after the 14 days (0 without a clause)."""
    if not clause:
        return 0.0
    return band_fee(amount_due, BE_B2C_DAMAGES_SCALE, 0.0, BE_B2C_DAMAGES_MAX)


def be_b2c_interest_rate(clause_rate, late_payment_rate, legal_rate, clause=True):
    """Yearly rate for a Belgian consumer.

    Art. XIX.4 § 1 CEL: interest at the rate agreed in the contract, at most the rate of art. 5 of
    the Law of 2 Aug 2002 (``late_payment_rate``); without such a clause only the legal interest
    rate (Law of 5 May 1865, art. 2; 4.5 % in 2025 and 2026). ``None`` in, ``None`` out: a missing
    rate is never replaced by 0.
    """
    if not clause:
        return legal_rate
    if late_payment_rate is None:
        return None
    return min(clause_rate, late_payment_rate) if clause_rate else late_payment_rate


# ---------------------------------------------------------------------------------------------
# Netherlands: art. 6:96 BW and Besluit vergoeding voor buitengerechtelijke incassokosten (WIK)
# ---------------------------------------------------------------------------------------------

# Art. 2 Besluit vergoeding voor buitengerechtelijke incassokosten (Stb. 2012, 141): 15 % of the
# first EUR 2,500 (at least EUR 40), 10 % of the next EUR 2,500, 5 % of the next EUR 5,000, 1 % of
# the next EUR 190,000, 0.5 % of the rest, at most EUR 6,775, computed on the principal sum
# ("hoofdsom") claimed: all invoices claimed in the letter together, not per invoice.
WIK_SCALE = (
    (0.0, 0.0, 15.0),
    (2500.0, 375.0, 10.0),
    (5000.0, 625.0, 5.0),
    (10000.0, 875.0, 1.0),
    (200000.0, 2775.0, 0.5),
)
WIK_MIN = 40.0
WIK_MAX = 6775.0


def nl_wik_costs(total_principal):
    """Extrajudicial collection costs on the total principal claimed (WIK scale)."""
    if total_principal <= 0:
        return 0.0
    return band_fee(total_principal, WIK_SCALE, WIK_MIN, WIK_MAX)


def nl_b2c_costs(total_principal, announced=None):
    """WIK costs of a Dutch consumer, never more than the 14-day letter announced (art. 6:96(6) BW)."""
    costs = nl_wik_costs(total_principal)
    if announced is not None:
        costs = min(costs, announced)
    return round(costs, 2)


# ---------------------------------------------------------------------------------------------
# Business debtors: Directive 2011/7/EU art. 6, § 288(5) BGB, art. 6:96(4) BW, art. 6 Law 2 Aug 2002
# ---------------------------------------------------------------------------------------------

# EUR 40 per late payment, due without a reminder:
#  - CJEU C-585/20 BFF Finance Iberia (20 Oct 2022): per commercial transaction, i.e. per invoice;
#  - CJEU C-78/22 ALD Automotive (4 May 2023): per late payment, e.g. each late instalment;
#  - CJEU C-279/23 (11 Jul 2024): no exception for small amounts or short delays.
EU_B2B_COMPENSATION = 40.0


def eu_b2b_compensation(late_payments: int) -> float:
    return EU_B2B_COMPENSATION * max(0, late_payments)


# ---------------------------------------------------------------------------------------------
# Germany: default (Verzug) under § 286 BGB, interest under § 288 BGB
# ---------------------------------------------------------------------------------------------


def de_default_start(
    due: date,
    *,
    agreed_date: bool,
    consumer: bool,
    invoice_received: date | None,
    invoice_notice: bool,
    reminder_received: date | None,
):
    """First day that bears default interest (Verzugszinsen) for a German debtor, or None.

    § 286(2) no. 1 BGB: payment date agreed in the contract -> in default the day after it.
    § 286(1) BGB: otherwise in default on receipt of a reminder (Mahnung) sent after the due date;
    interest from the following day (§ 187(1) BGB).
    § 286(3) BGB: at the latest 30 days after due date and receipt of the invoice; for a consumer
    only when the invoice pointed this consequence out (see the notice printed on the invoice).
    """
    if agreed_date:
        return due + timedelta(days=1)
    starts = []
    if reminder_received and reminder_received > due:
        starts.append(reminder_received + timedelta(days=1))
    if invoice_received and (invoice_notice or not consumer):
        starts.append(max(due, invoice_received) + timedelta(days=31))
    return min(starts) if starts else None


def de_interest_rate(base_rate, consumer):
    """§ 288(1) BGB: 5 points over the Basiszinssatz (§ 247 BGB); § 288(2): 9 points without a consumer."""
    if base_rate is None:
        return None
    return round(base_rate + (5.0 if consumer else 9.0), 2)
