"""Row claims for jobs that several workers may run at the same time."""

import psycopg2.errors

from odoo.tools import SQL


def lock_free_rows(records):
    """The records of ``records`` this transaction could lock (``FOR NO KEY UPDATE SKIP LOCKED``),
    with their cache refreshed from this transaction's snapshot.

    A row another worker holds is left out. A row another worker changed and committed after
    this transaction's snapshot (REPEATABLE READ) makes PostgreSQL raise a serialization
    failure: that worker has processed it, so it is left out too. Commit before claiming so
    that the snapshot is recent: a claim is meant to start the transaction of one item.
    """
    if not records:
        return records
    cr = records.env.cr
    try:
        with cr.savepoint():
            cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id IN %s FOR NO KEY UPDATE SKIP LOCKED",
                    SQL.identifier(records._table),
                    tuple(records.ids),
                ),
                log_exceptions=False,
            )
            ids = {row[0] for row in cr.fetchall()}
    except psycopg2.errors.SerializationFailure:
        return records.browse()
    locked = records.browse([id_ for id_ in records.ids if id_ in ids])
    locked.invalidate_recordset()
    return locked
