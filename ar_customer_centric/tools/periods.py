"""Consolidated statement periods (pure: dates in, dates out).

A statement is issued on a chosen day (day of the month 1-28 for monthly statements, ISO
weekday 1-7 for weekly ones) and covers the period that ends the day before: a monthly
statement issued on the 1st covers the previous calendar month.
"""

from datetime import timedelta

import pytz
from dateutil.relativedelta import relativedelta


def last_issue_date(today, period, day):
    """The latest issue date on or before ``today``."""
    if period == "weekly":
        weekday = min(max(int(day or 1), 1), 7)
        return today - timedelta(days=(today.isoweekday() - weekday) % 7)
    day = min(max(int(day or 1), 1), 28)
    issue = today.replace(day=day)
    return issue if issue <= today else issue - relativedelta(months=1)


def period_for_issue_date(issue, period):
    """(date_from, date_to) of the statement issued on ``issue``."""
    if period == "weekly":
        return issue - timedelta(days=7), issue - timedelta(days=1)
    return issue - relativedelta(months=1), issue - timedelta(days=1)


def last_closed_period(today, period, day):
    """(issue_date, date_from, date_to) of the latest period closed on ``today``."""
    issue = last_issue_date(today, period, day)
    return (issue, *period_for_issue_date(issue, period))


def local_today(now_utc, tz_name):
    """The date of ``now_utc`` (naive UTC datetime) in the time zone ``tz_name``."""
    try:
        tz = pytz.timezone(tz_name or "UTC")
    except pytz.UnknownTimeZoneError:
        tz = pytz.utc
    return pytz.utc.localize(now_utc).astimezone(tz).date()
