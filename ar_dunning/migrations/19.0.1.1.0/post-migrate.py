"""19.0.1.1.0: reminders and their invoice rows carry their own currency.

Lines and items written before were computed in the company currency: say so, so that their amounts stay
readable (``amount_overdue_company`` equals ``amount_overdue`` for them).
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE ar_dunning_line line
           SET currency_id = company.currency_id,
               amount_overdue_company = line.amount_overdue,
               multi_currency = FALSE
          FROM res_company company
         WHERE company.id = line.company_id AND line.currency_id IS NULL
        """
    )
    cr.execute(
        """
        UPDATE ar_dunning_item item
           SET currency_id = company.currency_id
          FROM res_company company
         WHERE company.id = item.company_id AND item.currency_id IS NULL
        """
    )
