"""German consumer credit: the period of the call-in warning of § 498 BGB as pure functions (no Odoo registry).

§ 498(1) BGB (https://www.gesetze-im-internet.de/bgb/__498.html; applied to instalment deals by § 508): the
lender may call in a consumer's instalment loan for default only when the consumer is in arrears with two
consecutive instalments amounting to 10 % (5 % over three years) of the nominal amount (no. 1) and "der
Darlehensgeber dem Darlehensnehmer erfolglos eine zweiwöchige Frist zur Zahlung des rückständigen Betrags mit der
Erklärung gesetzt hat, dass er bei Nichtzahlung innerhalb der Frist die gesamte Restschuld verlange" (no. 2).

The two weeks are counted by §§ 187(1), 188(2) BGB: from the day after the warning reached the consumer to the end
of the same weekday two weeks later, i.e. the warning's date + 14 days for a warning sent and received that day.
§ 193 BGB (https://www.gesetze-im-internet.de/bgb/__193.html): a period whose last day is a Saturday, a Sunday or a
public holiday recognised at the place of performance ends on the next working day. The place of performance is
not known here, so every holiday of any German Land counts: a later deadline is harmless, an earlier one makes the
call-in void. Tests: ``tests/test_dunning_plan.py`` (``TestGermanCallInDeadline``).
"""

from datetime import date, timedelta

from dateutil.easter import easter

WARNING_PERIOD_DAYS = 14  # "zweiwöchige Frist", § 498(1) sentence 1 no. 2 BGB


def german_holidays(year: int) -> set[date]:
    """The public holidays of the year in any German Land (federal: 3 October, Einigungsvertrag art. 2(2); the
    others by the Länder's Feiertagsgesetze)."""
    easter_sunday = easter(year)
    # Buß- und Bettag (Saxony): the Wednesday before 23 November
    nov22 = date(year, 11, 22)
    penance_day = nov22 - timedelta(days=(nov22.weekday() - 2) % 7)
    return {
        date(year, 1, 1),  # Neujahr
        date(year, 1, 6),  # Heilige Drei Könige (BW, BY, ST)
        date(year, 3, 8),  # Internationaler Frauentag (BE, MV)
        easter_sunday - timedelta(days=2),  # Karfreitag
        easter_sunday + timedelta(days=1),  # Ostermontag
        date(year, 5, 1),  # Tag der Arbeit
        easter_sunday + timedelta(days=39),  # Christi Himmelfahrt
        easter_sunday + timedelta(days=50),  # Pfingstmontag
        easter_sunday + timedelta(days=60),  # Fronleichnam (BW, BY, HE, NW, RP, SL)
        date(year, 8, 8),  # Augsburger Hohes Friedensfest (Augsburg)
        date(year, 8, 15),  # Mariä Himmelfahrt (SL, parts of BY)
        date(year, 9, 20),  # Weltkindertag (TH)
        date(year, 10, 3),  # Tag der Deutschen Einheit
        date(year, 10, 31),  # Reformationstag (BB, HB, HH, MV, NI, SN, ST, SH, TH)
        date(year, 11, 1),  # Allerheiligen (BW, BY, NW, RP, SL)
        penance_day,
        date(year, 12, 25),  # 1. Weihnachtstag
        date(year, 12, 26),  # 2. Weihnachtstag
    }


def next_working_day(day: date) -> date:
    """``day``, or the next day that is neither a Saturday, a Sunday nor a holiday (§ 193 BGB)."""
    while day.weekday() >= 5 or day in german_holidays(day.year):
        day += timedelta(days=1)
    return day


def call_in_warning_deadline(notice_date: date) -> date:
    """The last day to pay the arrears under a § 498 warning given (and received) on ``notice_date``."""
    return next_working_day(notice_date + timedelta(days=WARNING_PERIOD_DAYS))
