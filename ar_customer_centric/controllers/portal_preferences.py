from markupsafe import Markup

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .portal_access import ArPortalBase

# The integer preferences are days (of the month, of the week): anything larger is a typing error
# (and a 40-digit number must not reach the database).
MAX_INTEGER = 9999


class ArPortalPreferences(ArPortalBase):
    """The buyer's delivery preferences (fields whitelisted by the delivery engineer)."""

    def _ar_preference_fields(self):
        Partner = request.env["res.partner"]
        return [f for f in Partner._ar_portal_preference_fields() if f in Partner._fields]

    def _ar_preference_field_options(self, partner_sudo, field):
        if field.type == "selection":
            if field.name == "invoice_sending_method":
                allowed = partner_sudo._ar_portal_sending_methods()
                return [(k, v) for k, v in field._description_selection(request.env) if k in allowed]
            if field.name == "lang":
                return request.env["res.lang"].get_installed()
            return field._description_selection(request.env)
        if field.type == "many2many" and field.comodel_name == "res.partner":
            return [(c.id, c.display_name) for c in partner_sudo.child_ids if c.type != "private"]
        return []

    @http.route(["/my/preferences"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def ar_portal_preferences(self, **post):
        partner = self._ar_commercial_partner()
        # sudo: buyers change the whitelisted preference fields of their own commercial partner
        partner_sudo = partner.sudo()
        names = self._ar_preference_fields()
        fields_ = [partner_sudo._fields[n] for n in names]
        error = False
        if request.httprequest.method == "POST" and fields_:
            vals = {}
            for field in fields_:
                try:
                    value = self._ar_preference_posted_value(partner_sudo, field, post)
                except ValueError:
                    error = request.env._(
                        "%(field)s must be a number between 0 and %(max)s.",
                        field=field._description_string(request.env),
                        max=MAX_INTEGER,
                    )
                    break
                if value is not None:
                    vals[field.name] = value
            if not error and vals:
                old = {n: self._ar_preference_display(partner_sudo, n) for n in vals}
                try:
                    partner_sudo.write(vals)
                except (UserError, ValidationError) as e:
                    request.env.cr.rollback()
                    error = e.args[0]
                else:
                    lines = [
                        request.env._(
                            "%(field)s: %(old)s → %(new)s",
                            field=partner_sudo._fields[n]._description_string(request.env),
                            old=old[n],
                            new=self._ar_preference_display(partner_sudo, n),
                        )
                        for n in vals
                    ]
                    partner_sudo.message_post(
                        body=Markup("<p>%s</p><ul>%s</ul>")
                        % (
                            request.env._("Preferences changed in the portal by %(user)s:", user=request.env.user.name),
                            Markup().join(Markup("<li>%s</li>") % line for line in lines),
                        ),
                        author_id=request.env.user.partner_id.id,
                    )
                    return request.redirect("/my/preferences?saved=1")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ar_preferences",
                "ar_partner": partner_sudo,
                "pref_fields": [
                    (f, self._ar_preference_field_options(partner_sudo, f), f._description_string(request.env))
                    for f in fields_
                ],
                "error": error,
                "saved": bool(post.get("saved")),
            }
        )
        return request.render("ar_customer_centric.portal_my_preferences", values)

    def _ar_preference_posted_value(self, partner_sudo, field, post):
        """The write value of a posted preference field, or None when unchanged or not allowed."""
        current = partner_sudo[field.name]
        if field.type == "many2many":
            allowed = {opt[0] for opt in self._ar_preference_field_options(partner_sudo, field)}
            raw = request.httprequest.form.getlist(field.name)
            ids = sorted({int(v) for v in raw if v.isdigit() and int(v) in allowed})
            return None if sorted(current.ids) == ids else [fields.Command.set(ids)]
        if field.type == "boolean":
            value = bool(post.get(field.name))
        elif field.type == "integer":
            value = int(post.get(field.name) or 0)
            if not 0 <= value <= MAX_INTEGER:
                raise ValueError(value)
        elif field.type == "selection":
            value = post.get(field.name) or False
            allowed = {k for k, _v in self._ar_preference_field_options(partner_sudo, field)}
            if value and value not in allowed:
                return None
        else:
            value = post.get(field.name) or False
        return None if current == value else value

    def _ar_preference_display(self, partner, name):
        field = partner._fields[name]
        value = partner[name]
        if field.type == "selection":
            return dict(self._ar_preference_field_options(partner, field)).get(value) or "-"
        if field.type in ("many2many", "one2many", "many2one"):
            return ", ".join(value.mapped("display_name")) or "-"
        if field.type == "boolean":
            return request.env._("Yes") if value else request.env._("No")
        return str(value) if value not in (False, None) else "-"
