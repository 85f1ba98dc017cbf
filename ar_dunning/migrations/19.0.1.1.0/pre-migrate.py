"""19.0.1.1.0: rate records get ``manual`` (entered or corrected by hand).

Before the ORM adds the column (and fills it with False), mark what a user made: rates without an external
id of this module, and shipped rates written after their creation (a data file never rewrites a noupdate
record, so a later write_date means a user changed it). ``_ar_update_official_rates`` then updates the other
shipped records from the data file and leaves these alone.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE ar_dunning_interest_rate ADD COLUMN IF NOT EXISTS manual boolean")
    cr.execute(
        """
        UPDATE ar_dunning_interest_rate rate
           SET manual = NOT EXISTS (
                   SELECT 1 FROM ir_model_data imd
                    WHERE imd.module = 'ar_dunning' AND imd.model = 'ar.dunning.interest.rate' AND imd.res_id = rate.id
               ) OR rate.write_date > rate.create_date + interval '1 second'
         WHERE rate.manual IS NULL
        """
    )
