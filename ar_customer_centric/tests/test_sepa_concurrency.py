"""Two transactions that really commit: two users, or a user and the autopay job, exporting
direct debits at the same time. Each works on its own cursor of the registry (its own
PostgreSQL connection and snapshot), as two Odoo workers do."""

import base64
from datetime import timedelta

from lxml import etree

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import TransactionCase, tagged

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
CONTEXT = {"tracking_disable": True, "mail_notrack": True, "mail_create_nolog": True}


@tagged("post_install", "-at_install")
class TestSepaExportConcurrency(TransactionCase):
    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, CONTEXT)

    def setUp(self):
        super().setUp()
        # committed: the other transactions see nothing of this test's own (never committed) one
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
            self.saved = {
                "creditor": company.ar_sepa_creditor_identifier,
                "journal": journal.id,
                "bank": journal.bank_account_id.id,
            }
            bank = env["res.partner.bank"].with_context(active_test=False).search(
                [("sanitized_acc_number", "=", "BE71096123456769"), ("partner_id", "=", company.partner_id.id)]
            ) or env["res.partner.bank"].create(
                {"acc_number": "BE71 0961 2345 6769", "partner_id": company.partner_id.id}
            )
            bank.active = True
            journal.bank_account_id = bank
            company.ar_sepa_creditor_identifier = "BE69ZZZ050D000000008"
            today = fields.Date.context_today(company)
            buyer = env["res.partner"].create({"name": "Concurrent Debtor NV", "is_company": True})
            mandate = env["ar.sepa.mandate"].create(
                {
                    "partner_id": buyer.id,
                    "company_id": company.id,
                    "iban": "BE68 5390 0754 7034",
                    "account_holder": buyer.name,
                    "consent": True,
                    "signature_date": today - timedelta(days=30),
                }
            )
            mandate.action_activate()
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "company_id": company.id,
                        "partner_id": buyer.id,
                        "invoice_date": today,
                        "invoice_line_ids": [
                            Command.create({"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": False})
                        ],
                    }
                    for amount in (10.0, 20.0, 30.0)
                ]
            )
            invoices.action_post()
            buyer.with_company(company).ar_autopay_mandate_id = mandate
            collections = env["ar.sepa.collection"].create(
                [
                    {
                        "company_id": company.id,
                        "journal_id": journal.id,
                        "line_ids": [Command.create({"move_id": invoice.id, "mandate_id": mandate.id, "amount": 10.0})],
                    }
                    for invoice in invoices[:2]
                ]
            )
            self.ids = {
                "bank": bank.id,
                "buyer": buyer.id,
                "mandate": mandate.id,
                "invoices": invoices.ids,
                "collections": collections.ids,
            }
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["ar.sepa.collection.line"].search([("move_id", "in", self.ids["invoices"])]).collection_id.unlink()
            env["ar.sepa.mandate"].browse(self.ids["mandate"]).unlink()
            invoices = env["account.move"].browse(self.ids["invoices"])
            invoices.button_draft()
            invoices.button_cancel()
            env["res.partner"].browse(self.ids["buyer"]).active = False
            company = env.ref("base.main_company")
            company.ar_sepa_creditor_identifier = self.saved["creditor"]
            env["account.journal"].browse(self.saved["journal"]).bank_account_id = self.saved["bank"]
            env["res.partner.bank"].browse(self.ids["bank"]).active = False

    def _sequence_type(self, cr, collection_id):
        collection = self._env(cr)["ar.sepa.collection"].browse(collection_id)
        root = etree.fromstring(base64.b64decode(collection.xml_file))
        return root.findtext(".//p:PmtInf/p:PmtTpInf/p:SeqTp", namespaces=NS)

    def test_two_users_export_the_same_collection(self):
        first, _second = self.ids["collections"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            self._env(cr_a)["ar.sepa.collection"].browse(first).action_export()  # A: not committed yet
            cr_b.execute("SET LOCAL lock_timeout = '5s'")  # the old code waited here, then failed
            collection_b = self._env(cr_b)["ar.sepa.collection"].browse(first)
            with self.assertRaises(UserError) as caught:
                collection_b.action_export()
            self.assertIn(collection_b.name, str(caught.exception))
            cr_b.rollback()
            cr_a.commit()
        with self.registry.cursor() as cr:
            collection = self._env(cr)["ar.sepa.collection"].browse(first)
            self.assertEqual(collection.state, "exported")
            with self.assertRaises(UserError):
                collection.action_export()
            cr.rollback()

    def test_two_collections_of_one_mandate_send_one_frst(self):
        first, second = self.ids["collections"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            self._env(cr_a)["ar.sepa.collection"].browse(first).action_export()  # A: not committed yet
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            env_b = self._env(cr_b)
            mandate_b = env_b["ar.sepa.mandate"].browse(self.ids["mandate"])
            self.assertEqual(mandate_b.sequence_type, "FRST", "B does not see A's export yet")
            with self.assertRaises(UserError) as caught:
                env_b["ar.sepa.collection"].browse(second).action_export()
            self.assertIn(mandate_b.display_name, str(caught.exception))
            cr_b.rollback()
            cr_a.commit()
        self._export_again_as_recurrent(first, second)

    def test_a_snapshot_older_than_the_other_export_is_refused(self):
        first, second = self.ids["collections"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            env_b = self._env(cr_b)
            self.assertEqual(env_b["ar.sepa.mandate"].browse(self.ids["mandate"]).sequence_type, "FRST")
            self._env(cr_a)["ar.sepa.collection"].browse(first).action_export()
            cr_a.commit()  # A is done; B still reads the mandate as it was (FRST)
            with self.assertRaises(UserError):
                env_b["ar.sepa.collection"].browse(second).action_export()
            cr_b.rollback()
        self._export_again_as_recurrent(first, second)

    def test_the_autopay_job_never_adds_to_a_collection_being_exported(self):
        first, second = self.ids["collections"]
        with self.registry.cursor() as cr:
            self._env(cr)["ar.sepa.collection"].browse(second).action_export()  # first: the only draft left
        late = self.ids["invoices"][2]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = self._env(cr_a)
            env_a["ar.sepa.collection"].browse(first).action_export()
            env_a.flush_all()  # A's export is written, not committed yet
            cr_b.execute("SET LOCAL lock_timeout = '5s'")
            env_b = self._env(cr_b)
            collection = env_b["ar.sepa.collection"]._ar_add_invoices(env_b["account.move"].browse(late))
            env_b.flush_all()
            self.assertNotEqual(collection.id, first, "the job opened another draft collection")
            cr_b.commit()
            cr_a.commit()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            exported = env["ar.sepa.collection"].browse(first)
            root = etree.fromstring(base64.b64decode(exported.xml_file))
            self.assertEqual(len(root.findall(".//p:DrctDbtTxInf", namespaces=NS)), len(exported.line_ids))
            line = env["ar.sepa.collection.line"].search([("move_id", "=", late)])
            self.assertEqual(line.collection_id.state, "draft", "the late invoice waits for the next file")

    def _export_again_as_recurrent(self, first, second):
        """Retried in a new transaction, the second collection goes out as a recurrent debit."""
        with self.registry.cursor() as cr:
            self._env(cr)["ar.sepa.collection"].browse(second).action_export()
        with self.registry.cursor() as cr:
            self.assertEqual(self._sequence_type(cr, first), "FRST")
            self.assertEqual(self._sequence_type(cr, second), "RCUR")
