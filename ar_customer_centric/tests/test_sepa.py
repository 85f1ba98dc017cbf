import base64
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_autopay import ArAutopayCommon

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@tagged("post_install", "-at_install")
class TestSepaMandate(ArAutopayCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.ar_sepa_creditor_identifier = "BE69ZZZ050D000000008"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.bank_journal.bank_account_id = cls.env["res.partner.bank"].create(
            {"acc_number": "BE71 0961 2345 6769", "partner_id": cls.company.partner_id.id}
        )

    def _mandate(self, **vals):
        return self.env["ar.sepa.mandate"].create(
            {
                "partner_id": self.buyer.id,
                "iban": "BE68 5390 0754 7034",
                "account_holder": "Autopay Buyer NV",
                "consent": True,
                "signature_date": self.today - timedelta(days=30),
                **vals,
            }
        )

    def test_mandate_validation(self):
        with self.assertRaises(ValidationError):
            self._mandate(iban="BE00 1234")
        mandate = self._mandate(consent=False)
        with self.assertRaises(ValidationError):
            mandate.action_activate()
        private = self.env["res.partner"].create({"name": "Jan Janssens"})
        with self.assertRaises(ValidationError):
            self.env["ar.sepa.mandate"].create(
                {
                    "partner_id": private.id,
                    "iban": "BE68539007547034",
                    "account_holder": "Jan",
                    "consent": True,
                    "scheme": "B2B",
                    "state": "active",
                }
            )

    @mute_logger("odoo.sql_db")
    def test_mandate_reference_is_unique(self):
        first = self._mandate()
        self.assertTrue(first.name.startswith("ARSDD-"))
        self.assertLessEqual(len(first.name), 35)
        self.assertNotEqual(first.name, self._mandate().name)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self._mandate(name=first.name)
            self.env.flush_all()

    def test_mandate_lifecycle_frst_rcur_revoke_lapse(self):
        mandate = self._mandate()
        mandate.action_activate()
        self.assertEqual(mandate.state, "active")
        self.assertEqual(mandate.sequence_type, "FRST")
        mandate.last_collection_date = self.today
        self.assertEqual(mandate.sequence_type, "RCUR")
        self.assertTrue(mandate._ar_is_usable())
        # 36 months without collection: lapsed by the cron
        mandate.last_collection_date = self.today - relativedelta(months=36, days=1)
        self.assertFalse(mandate._ar_is_usable())
        never_used = self._mandate(signature_date=self.today - relativedelta(months=37))
        never_used.action_activate()
        recent = self._mandate()
        recent.action_activate()
        self._run("ar_customer_centric.ir_cron_ar_sepa_mandate_lapse")
        self.assertEqual(mandate.state, "expired")
        self.assertEqual(never_used.state, "expired")
        self.assertEqual(recent.state, "active")
        # revocation unsets autopay
        self.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": recent.id})
        recent.action_revoke()
        self.assertEqual(recent.state, "revoked")
        self.assertEqual(recent.revocation_date, self.today)
        self.assertFalse(self.buyer.ar_autopay_mandate_id)
        with self.assertRaises(UserError):
            recent.action_activate()

    def test_direct_debit_collection_pain008_and_reconciliation(self):
        mandate = self._mandate()
        mandate.action_activate()
        self.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        inv1 = self._invoice(amount=120.5, due_in=14)
        inv2 = self._invoice(amount=79.5, due_in=14)
        self._notify()
        self.assertEqual((inv1 | inv2).mapped("ar_autopay_state"), ["notified", "notified"])
        self.assertTrue(inv1.message_ids.filtered(lambda m: "direct debit" in (m.body or "").lower()))
        # due date reached but the pre-notification was sent today: 14 days must pass first
        (inv1 | inv2).invoice_date_due = self.today
        self._charge()
        self.assertEqual(inv1.ar_autopay_state, "notified")
        (inv1 | inv2).ar_autopay_notified_on = self.today - timedelta(days=14)
        self._charge()
        self.assertEqual((inv1 | inv2).mapped("ar_autopay_state"), ["collecting", "collecting"])
        collection = self.env["ar.sepa.collection"].search([("company_id", "=", self.company.id)])
        self.assertEqual(collection.line_ids.move_id, inv1 | inv2)
        self.assertEqual(collection.amount_total, 200.0)

        collection.action_export()
        self.assertEqual(collection.state, "exported")
        self.assertEqual(mandate.last_collection_date, collection.collection_date)
        self.assertEqual(mandate.sequence_type, "RCUR")
        root = etree.fromstring(base64.b64decode(collection.xml_file))
        self.assertEqual(root.tag, "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.08}Document")
        self.assertEqual(root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS), "2")
        self.assertEqual(root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS), "200.00")
        self.assertEqual(root.findtext(".//p:PmtInf/p:PmtTpInf/p:SeqTp", namespaces=NS), "FRST")
        self.assertEqual(root.findtext(".//p:PmtInf/p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS), "CORE")
        self.assertEqual(
            root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS), "BE69ZZZ050D000000008"
        )
        self.assertEqual(root.findtext(".//p:PmtInf/p:CdtrAcct/p:Id/p:IBAN", namespaces=NS), "BE71096123456769")
        txs = root.findall(".//p:DrctDbtTxInf", namespaces=NS)
        self.assertEqual(len(txs), 2)
        amounts = sorted(tx.findtext("p:InstdAmt", namespaces=NS) for tx in txs)
        self.assertEqual(amounts, ["120.50", "79.50"])
        for tx in txs:
            self.assertEqual(tx.findtext(".//p:MndtId", namespaces=NS), mandate.name)
            self.assertEqual(tx.findtext(".//p:DtOfSgntr", namespaces=NS), str(mandate.signature_date))
            self.assertEqual(tx.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS), "BE68539007547034")
        with self.assertRaises(UserError):
            collection.action_export()

        collection.action_reconcile()
        self.assertEqual(collection.state, "done")
        for invoice in inv1 | inv2:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(invoice.ar_autopay_state, "paid")
        self.assertEqual(len(collection.line_ids.payment_id), 2)
        # the next collection under the mandate is recurrent
        inv3 = self._invoice(amount=10.0, due_in=0)
        inv3.write({"ar_autopay_state": "notified", "ar_autopay_notified_on": self.today - timedelta(days=20)})
        self._charge()
        new_collection = self.env["ar.sepa.collection"].search([("state", "=", "draft")])
        new_collection.action_export()
        root = etree.fromstring(base64.b64decode(new_collection.xml_file))
        self.assertEqual(root.findtext(".//p:PmtInf/p:PmtTpInf/p:SeqTp", namespaces=NS), "RCUR")

    def test_export_needs_creditor_identifier(self):
        mandate = self._mandate()
        mandate.action_activate()
        collection = self.env["ar.sepa.collection"].create({"journal_id": self.bank_journal.id})
        collection.line_ids = [(0, 0, {"move_id": self._invoice().id, "mandate_id": mandate.id, "amount": 5.0})]
        self.company.ar_sepa_creditor_identifier = False
        with self.assertRaises(UserError):
            collection.action_export()

    def test_lapsed_mandate_is_not_collected(self):
        mandate = self._mandate(signature_date=fields.Date.today() - relativedelta(months=40))
        mandate.action_activate()
        self.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        invoice = self._invoice(due_in=0)
        self._notify()
        self.assertFalse(invoice.ar_autopay_state)

    # ------------------------------------------------------------------
    # Export re-checks every line (issue 10 point 2)
    # ------------------------------------------------------------------

    def _collecting(self, *amounts):
        """A usable mandate on autopay and one draft collection line per amount."""
        mandate = self._mandate()
        mandate.action_activate()
        self.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        invoices = self.env["account.move"]
        for amount in amounts:
            invoices |= self._invoice(amount=amount)
        collection = self.env["ar.sepa.collection"]._ar_add_invoices(invoices)
        self.assertEqual(collection.line_ids.move_id, invoices)
        return mandate, invoices, collection

    def _exported_amounts(self, collection):
        root = etree.fromstring(base64.b64decode(collection.xml_file))
        txs = root.findall(".//p:DrctDbtTxInf", namespaces=NS)
        return sorted(tx.findtext("p:InstdAmt", namespaces=NS) for tx in txs)

    def test_revoking_a_mandate_removes_its_draft_collection_lines(self):
        mandate, invoices, collection = self._collecting(50.0, 70.0)
        other = self._mandate(partner_id=self.partner_a.id)
        other.action_activate()
        other_invoice = self._invoice(amount=30.0, partner=self.partner_a)
        collection.line_ids = [(0, 0, {"move_id": other_invoice.id, "mandate_id": other.id, "amount": 30.0})]
        mandate.action_revoke()
        self.assertEqual(collection.line_ids.mandate_id, other)
        self.assertEqual(invoices.mapped("ar_autopay_state"), [False, False])
        collection.action_export()
        self.assertEqual(self._exported_amounts(collection), ["30.00"])

    def test_export_drops_lapsed_mandate_dispute_and_paid_lines_and_takes_the_residual(self):
        _mandate, (lapsed_inv, disputed, paid, partial, kept), collection = self._collecting(10, 20, 30, 40, 50)
        # a second mandate of another debtor, lapsed since the line was added
        lapsed = self._mandate(partner_id=self.partner_a.id, signature_date=self.today - relativedelta(months=37))
        lapsed.action_activate()
        collection.line_ids.filtered(lambda x: x.move_id == lapsed_inv).mandate_id = lapsed
        self.env["ar.dispute"]._ar_log_dispute(disputed, "quality", "Broken on arrival", self.buyer)
        for invoice, amount in ((paid, 30.0), (partial, 15.0)):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": amount})._create_payments()
        collection.action_export()
        self.assertEqual(collection.line_ids.move_id, partial | kept)
        self.assertEqual(self._exported_amounts(collection), ["25.00", "50.00"])
        self.assertEqual(collection.amount_total, 75.0)
        self.assertEqual((lapsed_inv | disputed | paid).mapped("ar_autopay_state"), [False, False, False])
        self.assertTrue(collection.message_ids.filtered(lambda m: lapsed_inv.name in (m.body or "")))

    def test_export_with_nothing_left_to_collect_is_refused(self):
        mandate, _invoices, collection = self._collecting(10.0)
        mandate.state = "expired"
        with self.assertRaises(UserError):
            collection.action_export()
        self.assertEqual(collection.state, "draft")
        self.assertFalse(collection.xml_file)

    def test_reconcile_pays_the_invoices_in_id_order(self):
        """One payment per invoice, the invoices taken by id whatever the order of the collection's lines. Each
        payment locks its invoice's due lines, then the invoice (Odoo's reconciliation); a payment plan rebooking
        or calling in the same invoices (ar_dunning) locks them in this order too: the two never wait for each
        other in a circle (issue 16)."""
        mandate = self._mandate()
        mandate.action_activate()
        self.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": mandate.id})
        first = self._invoice(amount=30.0)
        second = self._invoice(amount=70.0)
        collection = self.env["ar.sepa.collection"]._ar_add_invoices(second | first)
        self.assertEqual(collection.line_ids.move_id.ids, [second.id, first.id])
        collection.action_export()
        collection.action_reconcile()
        by_payment = collection.line_ids.sorted(lambda line: line.payment_id.id)
        self.assertEqual(by_payment.move_id.ids, [first.id, second.id])
        self.assertEqual(by_payment.payment_id.mapped("amount"), [30.0, 70.0])
        for invoice in first | second:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    # ------------------------------------------------------------------
    # One invoice, one open collection: never debited twice
    # ------------------------------------------------------------------

    @mute_logger("odoo.sql_db")
    def test_an_invoice_is_in_one_open_collection_only(self):
        _mandate, invoice, collection = self._collecting(40.0)
        line = collection.line_ids
        other = self.env["ar.sepa.collection"].create({"journal_id": self.bank_journal.id})
        second = {"move_id": invoice.id, "mandate_id": line.mandate_id.id, "amount": 40.0}
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            other.line_ids = [Command.create(second)]
            self.env.flush_all()
        collection.action_export()
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            other.line_ids = [Command.create(second)]
            self.env.flush_all()
        # reconciled: the collection is closed, a new one may hold the invoice (nothing left to debit
        # then: the export drops it)
        collection.action_reconcile()
        self.env.flush_all()  # the reconciliation is committed before anyone adds the invoice again
        other.line_ids = [Command.create(second)]
        self.env.flush_all()
        self.assertEqual(other.line_ids.move_id, invoice)
