"""19.0.1.3.0: a reminder names the law it applies (``law_country_id``) and links all its charges invoices.

Reminders written before applied the customer's country's rules: record that, so that their legal
sentences stay what was sent. New reminders follow Rome I (see ``res.partner._ar_dunning_law_country``).
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE ar_dunning_line line
           SET law_country_id = partner.country_id
          FROM res_partner partner
         WHERE partner.id = line.partner_id AND line.law_country_id IS NULL
        """
    )
    # a reminder links all its charges invoices (one per currency), no longer only the first; for older
    # reminders only the first one was recorded
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'ar_dunning_line' AND column_name = 'charge_move_id'
        """
    )
    if cr.fetchone():
        cr.execute(
            """
            INSERT INTO ar_dunning_line_charge_move_rel (line_id, move_id)
            SELECT id, charge_move_id FROM ar_dunning_line WHERE charge_move_id IS NOT NULL
            ON CONFLICT DO NOTHING
            """
        )
