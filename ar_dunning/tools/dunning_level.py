"""Pure functions of the dunning engine: dates and amounts in, values out (no Odoo registry)."""

from datetime import date


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
