from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import hmac

from ..tools import cxml as cxml_tools

# Preferences that decide how invoices are delivered: a change re-checks them all.
DELIVERY_PREFERENCE_FIELDS = {
    "invoice_sending_method",
    "ar_fallback_sending_method",
    "ar_invoice_grouping",
    "ar_statement_period",
    "ar_statement_day",
    "ar_email_pdf_only",
    "invoice_edi_format",
    "invoice_edi_format_store",
    "ar_cxml_endpoint",
    "ar_cxml_from_identity",
    "ar_cxml_to_identity",
    "ar_cxml_sender_identity",
    "ar_cxml_shared_secret",
    "ar_cxml_network",
    "email",
    "ar_invoice_contact_ids",
    "street",
    "city",
    "zip",
    "country_id",
}
CXML_GROUPS = "account.group_account_manager,base.group_system"


class ResPartner(models.Model):
    _inherit = "res.partner"

    ar_segment = fields.Selection(
        selection=[
            ("enterprise", "Enterprise"),
            ("mid_market", "Mid-market"),
            ("small", "Small business"),
        ],
        string="Customer Segment",
        company_dependent=True,
        help="Decides the default delivery preferences of this customer: enterprise buyers "
        "through their AP portal or Peppol, mid-market through the portal, small businesses "
        "by e-mail with a pay link.",
    )
    invoice_sending_method = fields.Selection(
        selection_add=[
            ("ar_portal", "Portal notification only"),
            ("ar_cxml", "Buyer's AP portal (cXML)"),
            ("ar_letter", "Postal letter (print batch)"),
        ],
        ondelete={"ar_portal": "set null", "ar_cxml": "set null", "ar_letter": "set null"},
    )
    ar_fallback_sending_method = fields.Selection(
        selection="_selection_ar_fallback_sending_method",
        string="Fallback Sending",
        company_dependent=True,
        help="Used when the preferred channel cannot deliver an invoice (for example the buyer is "
        "not reachable on Peppol or has no AP portal endpoint). The switch is logged on the invoice.",
    )
    ar_invoice_grouping = fields.Selection(
        selection=[
            ("single", "One invoice per order/delivery"),
            ("statement", "Consolidated periodic statement"),
        ],
        string="Invoice Grouping",
        company_dependent=True,
        help="With a consolidated statement, invoices are held and sent together in one statement "
        "listing the invoices of the period and the open balance, with one payment reference.",
    )
    ar_statement_period = fields.Selection(
        selection=[("weekly", "Weekly"), ("monthly", "Monthly")],
        string="Statement Period",
        company_dependent=True,
    )
    ar_statement_day = fields.Integer(
        string="Statement Day",
        company_dependent=True,
        help="Day the statement is issued: day of the month (1-28) for monthly statements, "
        "weekday (1 = Monday ... 7 = Sunday) for weekly ones. It covers the period ending the day before.",
    )
    ar_email_pdf_only = fields.Boolean(
        string="E-mail the PDF Only",
        company_dependent=True,
        help="Do not attach the electronic invoice (UBL/CII XML) to invoice e-mails, only the PDF.",
    )
    ar_invoice_contact_ids = fields.Many2many(
        "res.partner",
        "ar_partner_invoice_contact_rel",
        "partner_id",
        "contact_id",
        string="Invoice Recipients",
        help="Contacts who receive the invoices and statements, instead of the main address.",
    )
    ar_dunning_contact_ids = fields.Many2many(
        "res.partner",
        "ar_partner_dunning_contact_rel",
        "partner_id",
        "contact_id",
        string="Dunning Recipients",
        help="Contacts who receive payment reminders, instead of the main address.",
    )
    # cXML delivery to the buyer's AP/procurement network (Ariba, Coupa, ...)
    ar_cxml_endpoint = fields.Char(string="cXML Endpoint URL", company_dependent=True, groups=CXML_GROUPS)
    ar_cxml_from_domain = fields.Char(
        string="cXML From Domain", company_dependent=True, groups=CXML_GROUPS, default="NetworkID"
    )
    ar_cxml_from_identity = fields.Char(string="cXML From Identity", company_dependent=True, groups=CXML_GROUPS)
    ar_cxml_to_domain = fields.Char(
        string="cXML To Domain", company_dependent=True, groups=CXML_GROUPS, default="NetworkID"
    )
    ar_cxml_to_identity = fields.Char(string="cXML To Identity", company_dependent=True, groups=CXML_GROUPS)
    ar_cxml_sender_domain = fields.Char(
        string="cXML Sender Domain", company_dependent=True, groups=CXML_GROUPS, default="NetworkID"
    )
    ar_cxml_sender_identity = fields.Char(string="cXML Sender Identity", company_dependent=True, groups=CXML_GROUPS)
    ar_cxml_shared_secret = fields.Char(string="cXML Shared Secret", company_dependent=True, groups=CXML_GROUPS)
    ar_cxml_deployment_mode = fields.Selection(
        selection=[("production", "Production"), ("test", "Test")],
        string="cXML Deployment Mode",
        company_dependent=True,
        groups=CXML_GROUPS,
    )
    ar_cxml_network = fields.Selection(
        selection=[
            ("ariba", "SAP Ariba"),
            ("coupa", "Coupa"),
            ("generic", "Generic cXML"),
        ],
        string="cXML Network",
        company_dependent=True,
        default="generic",
        help="Selects the variant the network documents: how the order is referenced, the shape of credit "
        "notes and the buyer references it requires before an invoice is sent.",
    )
    ar_cxml_attach_pdf = fields.Boolean(
        string="Attach the PDF (cXML)",
        company_dependent=True,
        default=True,
        help="Send the invoice PDF with the cXML document (MIME multipart/related), as most buyers require.",
    )
    ar_cxml_status_url = fields.Char(
        string="cXML Status Update URL",
        compute="_compute_ar_cxml_status_url",
        groups=CXML_GROUPS,
        help="Give this signed address to the buyer's network as the URL for StatusUpdateRequest documents.",
    )
    ar_delivery_log_count = fields.Integer(string="Delivery Count", compute="_compute_ar_delivery_log_count")

    # ------------------------------------------------------------------
    # COMPUTE / SELECTION
    # ------------------------------------------------------------------

    @api.model
    def _selection_ar_fallback_sending_method(self):
        return list(self._fields["invoice_sending_method"].selection)

    def _compute_ar_cxml_status_url(self):
        for partner in self:
            partner.ar_cxml_status_url = (
                f"{partner.get_base_url()}/ar/cxml/status/{partner.id}/{partner._ar_cxml_status_token()}"
                if partner.id
                else False
            )

    def _ar_cxml_status_token(self):
        """HMAC of the partner (and its company context) with the database secret."""
        self.ensure_one()
        return hmac(self.env(su=True), "ar_cxml_status_update", self.id)

    @api.model
    def _ar_cxml_neutralized(self):
        # sudo: technical parameter written by the neutralize step (data/neutralize.sql)
        return bool(self.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.cxml_neutralized"))

    def _ar_cxml_endpoint_problem(self, resolve=False):
        """Translated reason why the cXML endpoint may not receive our invoices, or ''.

        https only, no user or password in the URL, no loopback/private/link-local address
        unless the administrator allows it (system parameter ar_customer_centric.cxml_allow_internal).
        ``resolve`` also checks the addresses the host name resolves to (at sending time).
        """
        self.ensure_one()
        # sudo: the endpoint is restricted to account managers; only the verdict is shown
        partner = self.commercial_partner_id.sudo()
        allow = self.env["ir.config_parameter"].sudo().get_param("ar_customer_centric.cxml_allow_internal")
        problem = cxml_tools.endpoint_problem(
            partner.ar_cxml_endpoint or "", allow_internal=bool(allow), resolve=resolve
        )
        messages = {
            "scheme": self.env._(
                "%(partner)s: the cXML Endpoint URL must start with https:// (the shared secret never travels in "
                "clear).",
                partner=partner.display_name,
            ),
            "host": self.env._("%(partner)s has no valid cXML Endpoint URL.", partner=partner.display_name),
            "userinfo": self.env._(
                "%(partner)s: the cXML Endpoint URL must not contain a user name or password.",
                partner=partner.display_name,
            ),
            "internal": self.env._(
                "%(partner)s: the cXML Endpoint URL points to an internal address; only an administrator can "
                "allow that (system parameter ar_customer_centric.cxml_allow_internal).",
                partner=partner.display_name,
            ),
            "resolve": self.env._(
                "%(partner)s: the host of the cXML Endpoint URL cannot be found.", partner=partner.display_name
            ),
        }
        return messages[problem] if problem else ""

    def _compute_ar_delivery_log_count(self):
        groups = self.env["ar.delivery.log"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.ar_delivery_log_count = counts.get(partner.commercial_partner_id.id, 0)

    # ------------------------------------------------------------------
    # CONSTRAINTS (checked when a preference is saved)
    # ------------------------------------------------------------------

    def _ar_delivery_problems(self, method):
        """Translated reasons why ``method`` cannot deliver to this partner (empty: fine)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        problems = []
        if method in ("email", "ar_portal") and not partner._ar_invoice_recipients().filtered("email"):
            problems.append(
                self.env._(
                    "%(partner)s has no e-mail address: set an Email or an Invoice Recipient with an "
                    "e-mail, or choose another Invoice sending channel.",
                    partner=partner.display_name,
                )
            )
        if method == "ar_cxml":
            # sudo: the check must run for any user saving the partner; only the result is shown
            cxml = partner.sudo()
            if not cxml.ar_cxml_endpoint:
                problems.append(
                    self.env._(
                        "%(partner)s has no valid cXML Endpoint URL (https://): fill it in "
                        "on the Invoicing tab, or choose another Invoice sending channel.",
                        partner=partner.display_name,
                    )
                )
            elif problem := partner._ar_cxml_endpoint_problem():
                problems.append(problem)
            if not cxml.ar_cxml_shared_secret:
                problems.append(
                    self.env._(
                        "%(partner)s: the cXML Shared Secret is required for AP-portal delivery.",
                        partner=partner.display_name,
                    )
                )
            if not cxml.ar_cxml_network:
                problems.append(
                    self.env._(
                        "%(partner)s: choose the cXML Network (Ariba, Coupa or generic cXML).",
                        partner=partner.display_name,
                    )
                )
            if not (cxml.ar_cxml_from_identity and cxml.ar_cxml_to_identity and cxml.ar_cxml_sender_identity):
                problems.append(
                    self.env._(
                        "%(partner)s: the cXML From, To and Sender identities are required for AP-portal delivery.",
                        partner=partner.display_name,
                    )
                )
        if method == "ar_letter" and not (partner.street and partner.city and partner.country_id):
            problems.append(
                self.env._(
                    "%(partner)s has no complete postal address (street, city, country) for a postal letter.",
                    partner=partner.display_name,
                )
            )
        return problems

    def _ar_format_problems(self, method):
        """Reasons why the chosen formats cannot travel through ``method``."""
        self.ensure_one()
        partner = self.commercial_partner_id
        edi_format = partner.invoice_edi_format_store
        if method in ("ar_letter", "ar_cxml") and edi_format and edi_format != "none":
            labels = dict(self._fields["invoice_sending_method"]._description_selection(self.env))
            formats = dict(self._fields["invoice_edi_format"]._description_selection(self.env))
            return [
                self.env._(
                    "%(channel)s cannot carry the e-invoice format %(format)s chosen for %(partner)s: "
                    "clear the eInvoice format or choose e-mail or Peppol.",
                    channel=labels[method],
                    format=formats.get(edi_format, edi_format),
                    partner=partner.display_name,
                )
            ]
        return []

    def _ar_check_delivery_preferences(self):
        for partner in self.filtered(lambda p: p.is_company or not p.parent_id):
            method = partner.invoice_sending_method
            fallback = partner.ar_fallback_sending_method
            problems = []
            if method:
                problems += partner._ar_format_problems(method)
                delivery = partner._ar_delivery_problems(method)
                if delivery and (not fallback or partner._ar_delivery_problems(fallback)):
                    problems += delivery
                    if fallback:
                        problems += partner._ar_delivery_problems(fallback)
            if fallback and fallback == method:
                problems.append(
                    self.env._("The fallback channel must differ from the preferred Invoice sending channel.")
                )
            if partner.ar_invoice_grouping == "statement":
                day = partner.ar_statement_day
                limit = 7 if partner.ar_statement_period == "weekly" else 28
                if not partner.ar_statement_period or not 1 <= day <= limit:
                    problems.append(
                        self.env._(
                            "%(partner)s: consolidated statements need a Statement Period and a "
                            "Statement Day between 1 and %(limit)s.",
                            partner=partner.display_name,
                            limit=limit,
                        )
                    )
            if problems:
                raise ValidationError("\n".join(problems))

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS 'base'
        partners = super().create(vals_list)
        defaults = self.env["ar.segment.default"]
        for partner, vals in zip(partners, vals_list, strict=True):
            if partner.ar_segment and not DELIVERY_PREFERENCE_FIELDS.intersection(vals) - {"email"}:
                defaults._ar_apply_to(partner)
        checked = self.browse(
            partner.id
            for partner, vals in zip(partners, vals_list, strict=True)
            if "invoice_sending_method" in vals
            or partner.invoice_sending_method not in (False, "email", "manual")
            or partner.ar_invoice_grouping == "statement"
        )
        checked._ar_check_delivery_preferences()
        return partners

    def write(self, vals):
        # EXTENDS 'base'
        res = super().write(vals)
        if DELIVERY_PREFERENCE_FIELDS.intersection(vals) and not self.env.context.get("ar_skip_preference_check"):
            explicit = {"invoice_sending_method", "ar_fallback_sending_method", "ar_invoice_grouping"}
            to_check = (
                self
                if explicit.intersection(vals)
                else self.filtered(
                    lambda p: (
                        p.invoice_sending_method not in (False, "email", "manual")
                        or p.ar_invoice_grouping == "statement"
                    )
                )
            )
            to_check.commercial_partner_id._ar_check_delivery_preferences()
        return res

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------

    def _ar_invoice_recipients(self):
        """Who receives invoices and statements: the invoice recipients, else the partner."""
        self.ensure_one()
        partner = self.commercial_partner_id
        return partner.ar_invoice_contact_ids or partner

    @api.model
    def _ar_portal_preference_fields(self):
        """Fields a buyer may change on their commercial partner from the portal."""
        return [
            "invoice_sending_method",
            "ar_invoice_grouping",
            "ar_statement_period",
            "ar_statement_day",
            "ar_email_pdf_only",
            "invoice_edi_format",
            "ar_invoice_contact_ids",
            "ar_dunning_contact_ids",
            "lang",
        ]

    @api.model
    def _ar_portal_sending_methods(self):
        """Channels a buyer may pick in the portal (AP portal needs the accountant's set-up)."""
        return [m for m in self._fields["invoice_sending_method"].get_values(self.env) if m != "ar_cxml"]

    def _ar_pay_all_url(self):
        """Guest pay-all link of the commercial partner (portal engineer's, else portal URL)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if hasattr(partner, "_ar_get_pay_all_url"):
            return partner._ar_get_pay_all_url()
        return partner.get_base_url() + "/my/invoices"

    def action_ar_view_delivery_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ar_customer_centric.ar_delivery_log_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action
