"""Pure functions of credit monitoring: figures in, risk score, grade and reasons out (no registry).

The score runs from 0 (no concern) to 100 (worst), like the payment-behaviour score it starts
from (``dunning_level.tone_score``). The weights are the defaults of the parameters, so a caller
can pass others; the reasons come back as ``(key, points)`` so the caller words and translates them.
"""

import re

GRADES = ("A", "B", "C", "D", "E")
# upper score bound (exclusive) of grades A..D; E is everything from the last bound
GRADE_BOUNDS = (15.0, 30.0, 45.0, 60.0)


def grade_from_score(score, bounds=GRADE_BOUNDS):
    for grade, bound in zip(GRADES, bounds, strict=False):
        if score < bound:
            return grade
    return GRADES[-1]


def risk_score(behaviour_12m, behaviour_3m, overdue_share, dso, book_dso, *, bounds=GRADE_BOUNDS):
    """Risk score, grade and reasons of one customer.

    :param behaviour_12m: payment-behaviour score (0..100) over 12 months
    :param behaviour_3m: the same score over the last 3 months (the trend)
    :param overdue_share: overdue part of the exposure, 0..1
    :param dso: the customer's days sales outstanding; ``book_dso`` the whole book's
    :returns: ``(score, grade, reasons)``, reasons a list of ``(key, points)``

    Points: half the 12-month behaviour score (max 50); a worse last quarter adds 0.5 per point
    of difference (max 15), a better one takes off 0.25 per point (max 10); the overdue share of
    the exposure gives up to 25; a DSO above the book's adds 10 per extra multiple of the book's
    DSO (max 20).
    """
    reasons = []
    pts_behaviour = min(50.0, max(0.0, behaviour_12m) * 0.5)
    reasons.append(("behaviour", round(pts_behaviour, 1)))
    diff = behaviour_3m - behaviour_12m
    pts_trend = min(15.0, diff * 0.5) if diff > 0 else max(-10.0, diff * 0.25)
    reasons.append(("trend", round(pts_trend, 1)))
    pts_overdue = min(25.0, max(0.0, overdue_share) * 25.0)
    reasons.append(("overdue_share", round(pts_overdue, 1)))
    pts_dso = 0.0
    if book_dso > 0 and dso > book_dso:
        pts_dso = min(20.0, (dso / book_dso - 1.0) * 10.0)
    reasons.append(("dso", round(pts_dso, 1)))
    score = round(max(0.0, min(100.0, pts_behaviour + pts_trend + pts_overdue + pts_dso)), 1)
    return score, grade_from_score(score, bounds), reasons


def grade_dropped(old_grade, new_grade):
    """True when ``new_grade`` is worse than ``old_grade`` (E is the worst); no old grade: no drop."""
    if not old_grade or not new_grade:
        return False
    return GRADES.index(new_grade) > GRADES.index(old_grade)


def dso_doubled(reference, dso, min_days=15.0):
    """True when the DSO reached twice its reference (and at least ``min_days``: 1 to 2 days is noise)."""
    return reference > 0 and dso >= 2 * reference and dso >= min_days


def next_dso_reference(reference, dso, doubled):
    """The reference the next doubling is measured from: the new DSO after an alert, else the lowest seen."""
    if doubled or reference <= 0:
        return dso
    return min(reference, dso) if dso > 0 else reference


def suggested_limit(limit, exposure, grade, step=100.0):
    """A lower credit limit for a worse grade, rounded down to ``step``.

    From the current limit (or, without one, the current exposure): grade C keeps 75%, D 50%,
    E 25%; A and B keep the limit. Never below 0.
    """
    factor = {"C": 0.75, "D": 0.5, "E": 0.25}.get(grade, 1.0)
    base = limit if limit > 0 else max(exposure, 0.0)
    value = base * factor
    return max(0.0, (value // step) * step) if step else max(0.0, value)


def reason_codes(
    grade,
    score,
    reasons,
    *,
    behaviour_12m,
    behaviour_3m,
    overdue_share,
    exposure,
    dso,
    book_dso,
    over_limit=False,
    limit=0.0,
):
    """The reasons of a grade in a language-independent form: a list of ``{"code": ..., parameters}``.

    Stored as JSON and worded in the reader's language when shown (``ar.credit.risk._render_reasons``).
    Codes: ``grade`` (grade, score), ``behaviour`` (score), ``trend_worse`` / ``trend_not_worse``
    (recent, year), ``overdue_share`` (share in %, exposure), ``dso`` (dso, book), each of these four with
    its ``points``; ``over_limit`` (exposure, limit); ``text`` (a sentence kept from before, shown as is).
    """
    params = {
        "behaviour": {"code": "behaviour", "score": round(behaviour_12m, 1)},
        "trend": {
            "code": "trend_worse" if behaviour_3m > behaviour_12m else "trend_not_worse",
            "recent": round(behaviour_3m, 1),
            "year": round(behaviour_12m, 1),
        },
        "overdue_share": {"code": "overdue_share", "share": round(overdue_share * 100, 1), "exposure": exposure},
        "dso": {"code": "dso", "dso": round(dso, 1), "book": round(book_dso, 1)},
    }
    codes = [{"code": "grade", "grade": grade, "score": score}]
    codes += [{**params[key], "points": points} for key, points in reasons]
    if over_limit:
        codes.append({"code": "over_limit", "exposure": exposure, "limit": limit})
    return codes


_NUMBER = r"(-?[\d.]+)"
_POINTS = r"\s*→\s*([+-][\d.]+)$"
# the English sentences written before 19.0.1.4.0 (``_reasons_text``), for the migration
_LEGACY = (
    ("grade", re.compile(rf"^Grade ([A-E]) \(risk score {_NUMBER} / 100\)$"), ("grade", "score")),
    ("behaviour", re.compile(rf"^Payment behaviour over 12 months: score {_NUMBER} / 100 .*{_POINTS}"), ("score",)),
    (
        "trend_worse",
        re.compile(rf"^The last 3 months are worse than the year: score {_NUMBER} against {_NUMBER}{_POINTS}"),
        ("recent", "year"),
    ),
    (
        "trend_not_worse",
        re.compile(rf"^The last 3 months are no worse than the year: score {_NUMBER} against {_NUMBER}{_POINTS}"),
        ("recent", "year"),
    ),
    ("overdue_share", re.compile(rf"^Overdue: {_NUMBER}% of the exposure of .*{_POINTS}"), ("share",)),
    (
        "dso",
        re.compile(rf"^Days sales outstanding: {_NUMBER} days, against {_NUMBER} for the whole book{_POINTS}"),
        ("dso", "book"),
    ),
    ("over_limit", re.compile(r"^Over its credit limit: exposure .*, limit .*$"), ()),
)


def legacy_reason_codes(text, exposure=0.0, limit=0.0):
    """Codes of reasons stored as English sentences (before 19.0.1.4.0); the amounts come from the row
    (``exposure``, ``limit``). A line that is not one of those sentences is kept as a ``text`` code."""
    codes = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        for code, pattern, names in _LEGACY:
            match = pattern.match(line)
            if not match:
                continue
            groups = list(match.groups())
            item = {"code": code}
            if code == "grade":
                item.update(grade=groups[0], score=float(groups[1]))
            else:
                item.update({name: float(value) for name, value in zip(names, groups, strict=False)})
            if code in ("overdue_share", "over_limit"):
                item["exposure"] = exposure
            if code == "over_limit":
                item["limit"] = limit
            if code not in ("grade", "over_limit"):
                item["points"] = float(groups[-1])
            codes.append(item)
            break
        else:
            codes.append({"code": "text", "text": line})
    return codes
