"""19.0.1.4.0: the weekly credit digest is written in each recipient's language and lists the reasons.

The template is shipped in a ``noupdate`` block: let this update load its new version once (its language
expression and the reasons under each change); a body edited by hand is replaced by the shipped one.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE ir_model_data SET noupdate = FALSE
         WHERE module = 'ar_dunning' AND name = 'mail_template_ar_credit_digest'
        """
    )
