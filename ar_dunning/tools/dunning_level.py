"""Pure functions of the dunning engine: dates and amounts in, values out (no Odoo registry).

Every rate, threshold and scale is passed in by the caller (it lives in editable records);
nothing legal is hard-coded here.
"""

from datetime import date, timedelta


def days_overdue(due_date: date, on_date: date) -> int:
    """Calendar days past the due date (negative before it). Weekends count like any day."""
    return (on_date - due_date).days


def select_level(offsets, overdue_days):
    """Index of the highest level whose offset is reached, or None.

    ``offsets`` are the levels' day offsets from the due date in ladder order; a negative
    offset is a friendly reminder before the due date.
    """
    reached = [i for i, offset in enumerate(offsets) if overdue_days >= offset]
    return reached[-1] if reached else None


def next_level(offsets, overdue_days, last_sent=None):
    """Index of the level to send now for one invoice, or None when nothing is due.

    The ladder is climbed one step at a time: an invoice whose last reminder was level
    ``last_sent`` gets at most ``last_sent + 1``, even when it is so late that a higher
    offset is reached (a Belgian consumer must receive the free first reminder before any
    costs; a German Mahnung follows the Zahlungserinnerung).
    """
    reached = select_level(offsets, overdue_days)
    if reached is None:
        return None
    last = -1 if last_sent is None else last_sent
    if reached <= last:
        return None
    return last + 1


def band_fee(amount, bands, minimum=0.0, maximum=0.0):
    """Fee for a debt of ``amount`` from a scale of bands.

    ``bands`` is an iterable of ``(lower, fixed, percent)`` sorted by ``lower``: the band
    with the highest ``lower`` below ``amount`` (strictly, except the first band which
    starts at its lower bound) applies and the fee is ``fixed + percent% * (amount - lower)``.
    This one form expresses the Dutch WIK staffel, the Belgian B2C caps and the flat EUR 40.
    ``minimum``/``maximum`` (0 = none) bound the result.
    """
    if amount <= 0:
        return 0.0
    chosen = None
    for i, (lower, fixed, percent) in enumerate(sorted(bands)):
        if i == 0 or amount > lower:
            chosen = (lower, fixed, percent)
    if chosen is None:
        return 0.0
    lower, fixed, percent = chosen
    fee = fixed + (amount - lower) * percent / 100.0 if amount > lower else fixed
    if minimum:
        fee = max(fee, minimum)
    if maximum:
        fee = min(fee, maximum)
    return round(fee, 2)


def interest_amount(amount, due_date, on_date, periods, days_in_year=365):
    """Simple statutory interest on ``amount`` from the day after ``due_date`` to ``on_date``.

    ``periods`` is an iterable of ``(date_from, date_to, rate_percent)``; each day is charged
    at the rate of the period that contains it (half-yearly rates change mid-way). Days not
    covered by any period bear no interest.
    """
    start = due_date + timedelta(days=1)
    if amount <= 0 or on_date < start:
        return 0.0
    total = 0.0
    for date_from, date_to, rate in periods:
        lo = max(start, date_from)
        hi = min(on_date, date_to)
        if hi < lo:
            continue
        days = (hi - lo).days + 1
        total += amount * rate / 100.0 * days / days_in_year
    return round(total, 2)


TONES = ("friendly", "neutral", "firm")


def tone_score(avg_days_late, share_late, broken_promises, disputes_lost, trust):
    """Payment-history score 0 (perfect) .. 100 (worst) with its explanation.

    Returns ``(score, tone, reasons)`` where ``reasons`` is a list of ``(key, points)``
    so the caller can translate the explanation. Weights: average days late (max 40),
    share of invoices paid late (max 30), broken promises (10 each, max 20), disputes
    lost (5 each, max 10), Odoo's trust (good -10, bad +20).
    """
    reasons = []
    pts = min(40.0, max(0.0, avg_days_late) * 40.0 / 60.0)
    reasons.append(("avg_days_late", round(pts, 1)))
    pts_share = min(30.0, max(0.0, share_late) * 30.0)
    reasons.append(("share_late", round(pts_share, 1)))
    pts_promise = min(20.0, broken_promises * 10.0)
    reasons.append(("broken_promises", pts_promise))
    pts_dispute = min(10.0, disputes_lost * 5.0)
    reasons.append(("disputes_lost", pts_dispute))
    pts_trust = {"good": -10.0, "bad": 20.0}.get(trust or "normal", 0.0)
    reasons.append(("trust", pts_trust))
    score = max(0.0, min(100.0, pts + pts_share + pts_promise + pts_dispute + pts_trust))
    return round(score, 1), tone_from_score(score), reasons


def tone_from_score(score, friendly_below=20.0, firm_from=50.0):
    if score < friendly_below:
        return "friendly"
    if score >= firm_from:
        return "firm"
    return "neutral"


def dso_countback(receivable, monthly_sales, days_per_month=None):
    """Days sales outstanding with the countback method.

    ``monthly_sales`` lists the sales of the current month first, then earlier months,
    as ``(sales, days_in_month)``. Whole months are counted back while the receivable
    exceeds their sales; the remainder is a fraction of the next month.
    """
    remaining = receivable
    days = 0.0
    if remaining <= 0:
        return 0.0
    for sales, month_days in monthly_sales:
        if sales <= 0:
            days += month_days
            continue
        if remaining > sales:
            remaining -= sales
            days += month_days
        else:
            days += remaining / sales * month_days
            remaining = 0
            break
    return round(days, 1)


def collection_effectiveness(begin_receivable, sales, end_receivable, end_current):
    """CEI (%) = (begin + sales - end total) / (begin + sales - end current) * 100."""
    denominator = begin_receivable + sales - end_current
    if denominator <= 0:
        return 100.0
    return round((begin_receivable + sales - end_receivable) / denominator * 100.0, 1)


AGEING_BUCKETS = ((None, 0, "not_due"), (1, 30, "d1_30"), (31, 60, "d31_60"), (61, 90, "d61_90"), (91, None, "d90"))


def ageing_bucket(overdue_days):
    for lo, hi, key in AGEING_BUCKETS:
        if (lo is None or overdue_days >= lo) and (hi is None or overdue_days <= hi):
            return key
    return "d90"
