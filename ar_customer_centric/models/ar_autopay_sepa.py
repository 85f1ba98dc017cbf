import base64

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..tools.locking import lock_free_rows

PAIN_008_SCHEMA = "pain.008.001.08"


class ArSepaCollection(models.Model):
    _name = "ar.sepa.collection"
    _description = "SEPA Direct Debit Collection"
    _inherit = ["mail.thread"]
    _order = "collection_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal",
        string="Bank Journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'bank')]",
        help="Bank account credited by the collection; receives the payments.",
    )
    collection_date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    line_ids = fields.One2many("ar.sepa.collection.line", "collection_id", string="Collections")
    state = fields.Selection(
        selection=[("draft", "Draft"), ("exported", "Exported"), ("done", "Reconciled")],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_amount_total", string="Total")
    xml_file = fields.Binary(string="pain.008 File", readonly=True, attachment=True, copy=False)
    xml_filename = fields.Char(readonly=True, copy=False)

    @api.depends("line_ids.amount")
    def _compute_amount_total(self):
        for collection in self:
            collection.amount_total = sum(collection.line_ids.mapped("amount"))

    @api.model_create_multi
    def create(self, vals_list):
        # EXTENDS 'mail'
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env._(
                    "Direct Debit %(date)s", date=vals.get("collection_date") or fields.Date.context_today(self)
                )
        return super().create(vals_list)

    @api.model
    def _ar_add_invoices(self, invoices):
        """Add the invoices to the draft collection of their company (created if needed)."""
        collections = self.browse()
        for company in invoices.company_id:
            company_invoices = invoices.filtered(lambda m, c=company: m.company_id == c)
            # the draft collection being exported elsewhere (row lock) is left alone: a new one is opened
            drafts = self.search([("company_id", "=", company.id), ("state", "=", "draft")])
            collection = lock_free_rows(drafts).filtered(lambda c: c.state == "draft")[:1]
            if not collection:
                journal = self.env["account.journal"].search(
                    [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
                )
                if not journal:
                    continue
                collection = self.create({"company_id": company.id, "journal_id": journal.id})
            lines = []
            date = max(collection.collection_date, fields.Date.context_today(self))
            for move in company_invoices:
                mandate = move.commercial_partner_id.with_company(company).ar_autopay_mandate_id
                # the instalments due and announced, never the ones still to come
                instalments = move._ar_autopay_due_instalments(date)
                lines.append(
                    Command.create(
                        {
                            "move_id": move.id,
                            "mandate_id": mandate.id,
                            "amount": move._ar_autopay_due_amount(date),
                            "reference": move._ar_instalment_reference(instalments),
                        }
                    )
                )
            collection.line_ids = lines
            company_invoices.write({"ar_autopay_state": "collecting"})
            collections |= collection
        return collections

    def _ar_build_pain008(self):
        """The pain.008.001.08 XML of the collection, validated against the schema by sepaxml."""
        self.ensure_one()
        from sepaxml import SepaDD

        company = self.company_id
        if not company.ar_sepa_creditor_identifier:
            raise UserError(
                self.env._(
                    "Set the SEPA Creditor Identifier of %(company)s (Settings > Companies) before "
                    "exporting a direct debit collection.",
                    company=company.name,
                )
            )
        bank = self.journal_id.bank_account_id
        if not bank or not bank.acc_number:
            raise UserError(
                self.env._(
                    "Set the bank account of the journal %(journal)s before exporting the collection.",
                    journal=self.journal_id.name,
                )
            )
        if not self.line_ids:
            raise UserError(self.env._("The collection has no invoices to collect."))
        schemes = set(self.line_ids.mandate_id.mapped("scheme"))
        if len(schemes) > 1:
            raise UserError(self.env._("A collection file holds one scheme: split CORE and B2B mandates."))
        config = {
            "name": company.name[:70],
            "IBAN": bank.acc_number.replace(" ", ""),
            "batch": True,
            "creditor_id": company.ar_sepa_creditor_identifier,
            "currency": self.currency_id.name,
            "instrument": schemes.pop(),
        }
        if bank.bank_bic:
            config["BIC"] = bank.bank_bic
        sdd = SepaDD(config, schema=PAIN_008_SCHEMA, clean=True)
        for line in self.line_ids:
            mandate = line.mandate_id
            payment = {
                "name": mandate.account_holder,
                "IBAN": mandate.iban,
                "amount": round(line.amount * 100),
                "type": line.sequence_type,
                "collection_date": self.collection_date,
                "mandate_id": mandate.name,
                "mandate_date": mandate.signature_date,
                "description": line._ar_description()[:140],
                "endtoend_id": line.end_to_end_id,
            }
            if mandate.bic:
                payment["BIC"] = mandate.bic
            sdd.add_payment(payment)
        return sdd.export(validate=True, pretty_print=True)

    def _ar_recheck_lines(self):
        """Re-check every line against today's facts before money moves.

        Lines were frozen when the invoices were added; since then the mandate may have been
        revoked or lapsed, a dispute opened, or a payment received. Such lines leave the
        collection (their invoice goes back to autopay), the others collect the amount still due.
        """
        self.ensure_one()
        today = fields.Date.context_today(self)
        date = max(self.collection_date, today)
        for line in self.line_ids:
            move, mandate = line.move_id, line.mandate_id
            if not mandate._ar_is_usable(today):
                reason = self.env._("mandate %(umr)s is no longer active", umr=mandate.name)
            elif move.state != "posted" or move.payment_state not in ("not_paid", "partial"):
                reason = self.env._("the invoice is no longer open")
            elif move.ar_dispute_state == "open":
                reason = self.env._("the customer disputes the invoice")
            elif move.currency_id.is_zero(move._ar_autopay_due_amount(date)):
                reason = self.env._("nothing is due any more")
            else:
                # the instalments announced and due, as they are now (a payment may have reduced them)
                amount = move._ar_autopay_due_amount(date)
                if move.currency_id.compare_amounts(line.amount, amount) != 0:
                    line.amount = amount
                continue
            line._ar_remove(reason)

    def _ar_lock_for_export(self):
        """Row-lock the collection, the mandates and the invoices it debits for this transaction,
        or refuse: another user, the autopay job or a payment is working on them. Two exports of
        one collection, or of two collections debiting the same mandate (two FRST) or invoice,
        never run side by side; the second is refused instead of waiting or debiting twice."""
        self.ensure_one()
        if not lock_free_rows(self):
            raise UserError(
                self.env._(
                    "The collection %(collection)s is being exported or changed by another user or job. "
                    "Try again in a moment.",
                    collection=self.display_name,
                )
            )
        busy = []
        for records in (self.line_ids.mandate_id, self.line_ids.move_id):
            busy += (records - lock_free_rows(records)).mapped("display_name")
        if busy:
            raise UserError(
                self.env._(
                    "Another user or job is working on %(records)s (another collection, a payment or a "
                    "revocation). Try exporting the collection %(collection)s again in a moment.",
                    records=", ".join(busy),
                    collection=self.display_name,
                )
            )

    def action_export(self):
        """Export the pain.008 file; the mandates move from FRST to RCUR."""
        for collection in self:
            collection._ar_lock_for_export()
            if collection.state != "draft":
                raise UserError(self.env._("Only draft collections can be exported."))
            collection._ar_recheck_lines()
            for line in collection.line_ids:
                line.sequence_type = line.mandate_id.sequence_type
                line.end_to_end_id = line.end_to_end_id or f"AR{line.move_id.id}-{line.id}"[:35]
            content = collection._ar_build_pain008()
            collection.write(
                {
                    "xml_file": base64.b64encode(content),
                    "xml_filename": f"{PAIN_008_SCHEMA}-{collection.collection_date}-{collection.id}.xml",
                    "state": "exported",
                }
            )
            for mandate in collection.line_ids.mandate_id:
                mandate.last_collection_date = collection.collection_date
        return True

    def action_reconcile(self):
        """The bank credited the collection: register one payment per invoice and reconcile."""
        for collection in self:
            if collection.state != "exported":
                raise UserError(self.env._("Export the collection before reconciling it."))
            # invoice by invoice, by id: each payment locks the invoice's due lines, then the invoice (Odoo's
            # reconciliation), and a payment plan rebooking several invoices locks them in this order too
            for line in collection.line_ids.filtered(lambda x: not x.payment_id).sorted(lambda x: x.move_id.id):
                wizard = (
                    self.env["account.payment.register"]
                    .with_context(active_model="account.move", active_ids=line.move_id.ids)
                    .create(
                        {
                            "journal_id": collection.journal_id.id,
                            "payment_date": collection.collection_date,
                            "amount": line.amount,
                            "communication": line.end_to_end_id,
                        }
                    )
                )
                line.payment_id = wizard._create_payments()[:1]
            collection.line_ids.move_id._ar_autopay_succeeded()
            collection.state = "done"
        return True

    def action_download(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/ar.sepa.collection/{self.id}/xml_file/{self.xml_filename}?download=true",
            "target": "self",
        }


class ArSepaCollectionLine(models.Model):
    _name = "ar.sepa.collection.line"
    _description = "SEPA Direct Debit Collection Line"
    _check_company_auto = True

    collection_id = fields.Many2one("ar.sepa.collection", required=True, ondelete="cascade", index=True)
    collection_state = fields.Selection(related="collection_id.state", store=True, string="Collection Status")
    company_id = fields.Many2one(related="collection_id.company_id", store=True)
    move_id = fields.Many2one("account.move", string="Invoice", required=True, check_company=True)
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Debtor")
    mandate_id = fields.Many2one("ar.sepa.mandate", required=True, check_company=True)
    currency_id = fields.Many2one(related="collection_id.currency_id")
    amount = fields.Monetary(required=True)
    sequence_type = fields.Selection(selection=[("FRST", "First"), ("RCUR", "Recurring")], readonly=True)
    end_to_end_id = fields.Char(string="End-to-End Id", readonly=True, copy=False)
    reference = fields.Char(
        readonly=True,
        copy=False,
        help="Invoice number, with the instalment collected when the invoice has several due lines.",
    )
    payment_id = fields.Many2one("account.payment", readonly=True, copy=False)

    # an invoice is debited by one collection at a time: never in two files (double debit)
    _move_open_uniq = models.UniqueIndex(
        "(move_id) WHERE collection_state IN ('draft', 'exported')",
        "An invoice can be in only one direct debit collection that is not reconciled yet.",
    )

    def _ar_description(self):
        """Remittance information of the debit: the payment reference, and the instalment collected."""
        self.ensure_one()
        move = self.move_id
        reference = self.reference or move.name
        if move.payment_reference and move.payment_reference != move.name:
            return f"{move.payment_reference} {reference}" if reference != move.name else move.payment_reference
        return reference

    def _ar_remove(self, reason):
        """Take the lines out of their draft collection; their invoices go back to autopay."""
        for line in self:
            line.collection_id.message_post(
                body=self.env._(
                    "%(invoice)s removed from the collection: %(reason)s.", invoice=line.move_id.name, reason=reason
                )
            )
        self.move_id.filtered(lambda m: m.ar_autopay_state == "collecting").write({"ar_autopay_state": False})
        self.unlink()
