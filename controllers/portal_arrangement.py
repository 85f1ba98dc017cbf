"""The ways in to a promise to pay or a payment plan, and what each grants (issue 16).

- logged in: the buyer's own open invoices, by record rules, in their companies;
- the reminder's signed pay-all link: the open invoices of its customer in its company;
- the invoice's own link (``/my/invoices/<id>?access_token=…``, Odoo's invoice e-mail): that one
  invoice, by its access token (``_document_check_access``: record rules, else the token by consteq).

The promise and the plan controllers take one of these entries and act within it; the checks live here,
once for both.
"""

from dataclasses import dataclass, field

from werkzeug.exceptions import NotFound

from odoo import fields
from odoo.fields import Domain
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.ar_customer_centric.controllers.portal_access import ArPortalBase


@dataclass(frozen=True)
class ArEntry:
    """Who acts, on which invoices, by which way in."""

    partner: object  # res.partner: the commercial partner acted for
    granted: object  # account.move (sudo): the invoices the caller may act on, nothing else
    source: str  # recorded on the promise or plan: "portal" or "guest"
    user: object  # res.users: the logged-in buyer acting on their own account; empty for a link holder
    single: bool = False  # the invoice's own link: that invoice, whatever ids the form sends
    autopay: bool = True  # may the page use the customer's autopay (mandate, saved card)?
    form_params: dict = field(default_factory=dict)  # what the page's forms send back (the access token)


class ArSuitePortalArrangement(ArPortalBase):
    # ------------------------------------------------------------------
    # Entries
    # ------------------------------------------------------------------

    def _ar_entry_user(self):
        """A logged-in buyer: their own open invoices, in their companies."""
        self._ar_check_buyer()
        partner = self._ar_commercial_partner()
        Move = request.env["account.move"]
        # the user's own search first (record rules decide what they may see)...
        granted = Move.search(
            Move._ar_open_invoices_domain(partner) & Domain("company_id", "in", request.env.user.company_ids.ids)
        )
        # ...then sudo, only on those ids: the promise and plan fields of the invoices are the accountants'
        return ArEntry(partner, granted.sudo(), "portal", request.env.user)

    def _ar_entry_pay_all(self, token):
        """The reminder's signed pay-all link: its customer's open invoices in its company; 404 otherwise."""
        self._ar_throttle("pay_all")
        partner, company = self._ar_pay_all_access(token)
        user = request.env.user if not request.env.user._is_public() else request.env["res.users"]
        return ArEntry(
            partner,
            self._ar_pay_all_open_invoices(partner, company),
            "portal" if user else "guest",
            user,
        )

    def _ar_invoice_link_grant(self, invoice_id, access_token):
        """``(invoice (sudo), by_token)`` when the caller may act on this customer invoice: as its own buyer
        (record rules), else by its access token; 404 otherwise."""
        # Odoo's check: record rules, else the access token (consteq)
        invoice_sudo = self._ar_invoice_sudo(invoice_id, access_token)
        if invoice_sudo.move_type != "out_invoice":
            raise NotFound()
        user = request.env.user
        own = (
            not user._is_public()
            and invoice_sudo.commercial_partner_id == self._ar_commercial_partner()
            and request.env["account.move"].browse(invoice_sudo.id).has_access("read")
        )
        if own:
            return invoice_sudo, False
        # anyone else (a guest, another customer's user, an employee) acts by the token only: the same
        # comparison as _document_check_access, which skips it for a user who may read the invoice
        if not (access_token and invoice_sudo.access_token and consteq(invoice_sudo.access_token, access_token)):
            raise NotFound()
        return invoice_sudo, True

    def _ar_entry_invoice(self, invoice_id, access_token):
        """The invoice's own link: that one invoice. A token holder (a guest, or a user of another customer)
        acts as a guest: no requester recorded (the customer's contact is told), no use of its autopay."""
        if request.env.user._is_public():
            self._ar_throttle("invoice_link")
        invoice_sudo, by_token = self._ar_invoice_link_grant(invoice_id, access_token)
        if by_token:
            return ArEntry(
                invoice_sudo.commercial_partner_id,
                invoice_sudo,
                "guest",
                request.env["res.users"],
                single=True,
                autopay=False,
                form_params={"access_token": access_token},
            )
        return ArEntry(invoice_sudo.commercial_partner_id, invoice_sudo, "portal", request.env.user, single=True)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @staticmethod
    def _ar_requested_ids(raw_ids):
        ids = set()
        for raw in raw_ids:
            try:
                ids.add(int(raw))
            except (TypeError, ValueError):
                continue
        return ids

    def _ar_wanted_ids(self, entry, args):
        """The invoice ids the form asks for, within the entry; 404 for an id the entry does not grant."""
        if entry.single:
            return set(entry.granted.ids)  # the invoice's own link acts on that invoice: other ids are ignored
        wanted = self._ar_requested_ids(args.getlist("invoice_ids"))
        if wanted - set(entry.granted.ids):
            raise NotFound()  # an invoice of another customer, or a made-up id
        return wanted

    def _ar_invoice_page_link(self, invoice, access_token):
        """How the invoice page links to the promise and plan forms: ``"user"`` (the buyer's own portal
        forms), ``"token"`` (the invoice's own guest routes) or ``None`` (no link: not an open, overdue
        customer invoice the caller may act on)."""
        today = fields.Date.context_today(invoice)
        if not (invoice.invoice_date_due and invoice.invoice_date_due < today):
            return None
        try:
            _invoice, by_token = self._ar_invoice_link_grant(invoice.id, access_token)
        except NotFound:
            return None
        return "token" if by_token else "user"

    @staticmethod
    def _ar_invoice_page_url(values, kind, candidates, invoice, access_token):
        """The invoice page's link to the ``kind`` form ("promise" or "plan"): the buyer's own portal form, or
        the invoice's own guest route with its token; False when ``candidates(partner, invoice)`` is empty."""
        link = values.get("ar_arrangement_link")
        if not (link and candidates(invoice.commercial_partner_id, invoice)):
            return False
        if link == "user":
            return f"/my/invoices/{kind}?invoice_ids={invoice.id}"
        return f"/my/invoices/{invoice.id}/{kind}?access_token={access_token}"

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        # EXTENDS 'account': the promise and plan buttons of the invoice page, for whoever may act on it
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values["ar_arrangement_link"] = self._ar_invoice_page_link(invoice, access_token)
        return values
