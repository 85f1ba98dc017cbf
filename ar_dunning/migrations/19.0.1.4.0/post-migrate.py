"""19.0.1.4.0: credit risk reasons are stored as codes and figures (``reason_codes``, JSON), worded in the
reader's language when shown, instead of sentences written in the language of whoever ran the assessment.

The sentences stored before (column ``reasons`` of assessments and of their history) are read back into codes
(``tools.credit_risk.legacy_reason_codes``: the English sentences the code wrote; amounts from the row's own
exposure and limit); a line that is not one of them is kept as it was (a ``text`` code). The old column is
then dropped: the field is computed now.
"""

import json

from odoo.tools import SQL

from odoo.addons.ar_dunning.tools.credit_risk import legacy_reason_codes


def migrate(cr, version):
    if not version:
        return
    for table in ("ar_credit_risk", "ar_credit_risk_history"):
        cr.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'reasons'", [table]
        )
        if not cr.fetchone():
            continue
        cr.execute(
            SQL(
                "SELECT id, reasons, exposure, credit_limit FROM %s WHERE reasons IS NOT NULL AND reason_codes IS NULL",
                SQL.identifier(table),
            )
        )
        for row_id, text, exposure, limit in cr.fetchall():
            codes = legacy_reason_codes(text, exposure or 0.0, limit or 0.0)
            cr.execute(
                SQL("UPDATE %s SET reason_codes = %s WHERE id = %s", SQL.identifier(table), json.dumps(codes), row_id)
            )
        cr.execute(SQL("ALTER TABLE %s DROP COLUMN reasons", SQL.identifier(table)))
