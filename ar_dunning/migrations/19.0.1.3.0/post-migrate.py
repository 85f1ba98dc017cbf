"""19.0.1.3.0: a reminder names the law it applies (``law_country_id``).

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
