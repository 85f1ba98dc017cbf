"""Invoices with several due lines (a multi-line payment term, as payment plans book their instalments):
autopay and direct debit collect each instalment on its own date, the buyer is told before each one,
and the guest pay-all settles what is due, not the instalments to come."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.fields import Command
from odoo.tests import tagged

from .test_autopay import ArAutopayCommon
from .test_portal_common import ArPortalCommon


def _payment_term(env, *days_and_percents):
    """A multi-line payment term: (days after the invoice date, percent) per instalment."""
    return env["account.payment.term"].create(
        {
            "name": " / ".join(f"{pct:g}% {days}d" for days, pct in days_and_percents),
            "early_discount": False,
            "line_ids": [
                Command.create({"value": "percent", "value_amount": pct, "delay_type": "days_after", "nb_days": days})
                for days, pct in days_and_percents
            ],
        }
    )


class ArInstalmentCommon(ArAutopayCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 30 % now, 30 % in 30 days, 40 % in 60 days
        cls.term = _payment_term(cls.env, (0, 30.0), (30, 30.0), (60, 40.0))

    def _plan_invoice(self, amount=1000.0, invoice_date=None, term=None, partner=None):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.buyer).id,
                "invoice_date": invoice_date or self.today,
                "invoice_payment_term_id": (term or self.term).id,
                "invoice_line_ids": [
                    Command.create({"name": "Subscription", "quantity": 1, "price_unit": amount, "tax_ids": False})
                ],
            }
        )
        invoice.action_post()
        return invoice

    @staticmethod
    def _due_lines(invoice):
        return invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted("date_maturity")

    def _notices(self, invoice, text):
        return invoice.message_ids.filtered(lambda m: text in (m.subject or ""))


@tagged("post_install", "-at_install")
class TestInstalmentAutopay(ArInstalmentCommon):
    def test_token_collects_each_instalment_on_its_date(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        invoice = self._plan_invoice()
        first, second, third = self._due_lines(invoice)
        self.assertEqual((first.date_maturity, second.date_maturity), (self.today, self.today + timedelta(days=30)))

        self._notify()
        self.assertEqual(invoice.ar_autopay_state, "notified")
        self.assertEqual(invoice.ar_autopay_amount, 300.0, "the notice announces the instalment, not the invoice")
        self.assertEqual(invoice.ar_autopay_date, self.today)
        self.assertEqual(first.ar_instalment_notice_on, self.today)
        self.assertFalse(second.ar_instalment_notice_on)
        notice = self._notices(invoice, "will be paid automatically")
        self.assertEqual(len(notice), 1)
        self.assertIn("300.00", notice.body)

        self._charge()
        tx = invoice.transaction_ids
        self.assertEqual(tx.mapped("amount"), [300.0], "only the instalment due is charged, never the residual")
        self.assertEqual(tx.reference, f"{invoice.name}-1")
        self.assertEqual(invoice.payment_state, "partial")
        self.assertTrue(first.reconciled)
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertFalse(invoice.ar_autopay_state, "waits for the next instalment's notice")
        # run again the same day: nothing more is charged or announced
        self._charge()
        self._notify()
        self.assertEqual(len(invoice.transaction_ids), 1)
        self.assertEqual(len(self._notices(invoice, "will be paid automatically")), 1)

        with freeze_time(self.today + timedelta(days=28)):
            self._notify()
            self.assertEqual(invoice.ar_autopay_state, "notified")
            self.assertEqual(invoice.ar_autopay_amount, 300.0)
            self.assertEqual(invoice.ar_autopay_date, self.today + timedelta(days=30))
            self.assertEqual(len(self._notices(invoice, "will be paid automatically")), 2)
            self._charge()
            self.assertEqual(len(invoice.transaction_ids), 1, "not charged before the instalment's date")
        with freeze_time(self.today + timedelta(days=30)):
            self._charge()
            second_tx = invoice.transaction_ids - tx
            self.assertEqual(second_tx.amount, 300.0)
            self.assertEqual(second_tx.reference, f"{invoice.name}-2", "each instalment has its own reference")
            self.assertEqual(invoice.amount_residual, 400.0)
            self.assertTrue(second.reconciled)
            self.assertFalse(third.reconciled)
        with freeze_time(self.today + timedelta(days=60)):
            self._notify()
            self._charge()
            self.assertEqual(invoice.transaction_ids.sorted("id").mapped("amount"), [300.0, 300.0, 400.0])
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(invoice.ar_autopay_state, "paid")

    def test_partial_payment_reduces_the_first_instalment(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        invoice = self._plan_invoice()
        first, second, third = self._due_lines(invoice)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"amount": 100.0, "payment_date": self.today}
        )._create_payments()
        self.assertEqual([first.amount_residual, second.amount_residual, third.amount_residual], [200.0, 300.0, 400.0])
        self._notify()
        self.assertEqual(invoice.ar_autopay_state, "notified", "the first instalment is due today")
        self.assertEqual(invoice.ar_autopay_amount, 200.0)
        self._charge()
        self.assertEqual(invoice.transaction_ids.amount, 200.0, "what is left of the first instalment only")
        self.assertEqual(invoice.amount_residual, 700.0)

    def test_single_due_line_invoice_is_collected_whole_as_before(self):
        self.buyer.write({"ar_autopay": True, "ar_autopay_token_id": self.token.id})
        invoice = self._invoice(amount=150.0, due_in=0)
        self._notify()
        self.assertEqual(invoice.ar_autopay_amount, 150.0)
        self._charge()
        self.assertEqual(invoice.transaction_ids.amount, 150.0)
        self.assertEqual(invoice.transaction_ids.reference, invoice.name)
        self.assertEqual(invoice.ar_autopay_state, "paid")


@tagged("post_install", "-at_install")
class TestInstalmentSepa(ArInstalmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.ar_sepa_creditor_identifier = "BE69ZZZ050D000000008"
        cls.company_data["default_journal_bank"].bank_account_id = cls.env["res.partner.bank"].create(
            {"acc_number": "BE71 0961 2345 6769", "partner_id": cls.company.partner_id.id}
        )
        cls.mandate = cls.env["ar.sepa.mandate"].create(
            {
                "partner_id": cls.buyer.id,
                "iban": "BE68 5390 0754 7034",
                "account_holder": "Autopay Buyer NV",
                "consent": True,
                "signature_date": cls.today - timedelta(days=30),
                "pre_notification_days": 5,
            }
        )
        cls.mandate.action_activate()
        cls.buyer.write({"ar_autopay": True, "ar_autopay_mandate_id": cls.mandate.id})

    def _collection(self):
        return self.env["ar.sepa.collection"].search([("company_id", "=", self.company.id), ("state", "=", "draft")])

    def test_direct_debit_prenotifies_and_collects_each_instalment(self):
        # instalments on D+5, D+35 and D+65
        term = _payment_term(self.env, (5, 30.0), (35, 30.0), (65, 40.0))
        invoice = self._plan_invoice(term=term)
        first, second, _third = self._due_lines(invoice)

        self._notify()
        self.assertEqual(invoice.ar_autopay_state, "notified")
        self.assertEqual(invoice.ar_autopay_amount, 300.0)
        self.assertEqual(invoice.ar_autopay_date, self.today + timedelta(days=5))
        notice = self._notices(invoice, "will be paid automatically")
        self.assertEqual(len(notice), 1)
        self.assertIn("300.00", notice.body)
        self.assertIn("7034", notice.body, "the account debited, by its last digits")
        self.assertEqual(first.ar_instalment_notice_on, self.today)
        # the instalment notice is this same mail for a direct debit customer: not sent twice
        self._run("ar_customer_centric.ir_cron_ar_instalment_notice")
        self.assertFalse(self._notices(invoice, "instalment of"))

        with freeze_time(self.today + timedelta(days=5)):
            self._charge()
            line = self._collection().line_ids
            self.assertEqual(line.amount, 300.0, "the instalment due, not the invoice's residual")
            self.assertEqual(line.reference, f"{invoice.name}-1")
            self.assertEqual(invoice.ar_autopay_state, "collecting")
            collection = line.collection_id
            collection.action_export()
            self.assertEqual(collection.amount_total, 300.0)
            collection.action_reconcile()
        self.assertTrue(first.reconciled)
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertFalse(invoice.ar_autopay_state, "waits for the next instalment's pre-notification")

        with freeze_time(self.today + timedelta(days=30)):
            self._notify()
            self.assertEqual(invoice.ar_autopay_amount, 300.0)
            self.assertEqual(invoice.ar_autopay_date, self.today + timedelta(days=35))
            self.assertEqual(second.ar_instalment_notice_on, self.today + timedelta(days=30))
            self.assertEqual(len(self._notices(invoice, "will be paid automatically")), 2)
        with freeze_time(self.today + timedelta(days=34)):
            self._charge()
            self.assertFalse(self._collection(), "not before the instalment's date")
        with freeze_time(self.today + timedelta(days=35)):
            self._charge()
            line = self._collection().line_ids
            self.assertEqual(line.amount, 300.0)
            self.assertEqual(line.reference, f"{invoice.name}-2")
            self.assertIn(f"{invoice.name}-2", line._ar_description())

    def test_export_takes_the_instalment_as_it_is_now(self):
        invoice = self._plan_invoice(invoice_date=self.today - timedelta(days=10))
        self._notify()
        self.assertEqual(invoice.ar_autopay_state, "notified", "the first instalment is overdue")
        self.assertEqual(invoice.ar_autopay_amount, 300.0)
        with freeze_time(self.today + timedelta(days=5)):
            self._charge()
            line = self._collection().line_ids
            self.assertEqual(line.amount, 300.0)
            # the buyer pays part of the instalment meanwhile: the debit takes what is left of it only
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": 50.0})._create_payments()
            line.collection_id.action_export()
            self.assertEqual(line.amount, 250.0)


@tagged("post_install", "-at_install")
class TestInstalmentNotice(ArInstalmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.ar_instalment_notice_days = 5
        # instalments on D+3, D+33 and D+63
        cls.term_later = _payment_term(cls.env, (3, 30.0), (33, 30.0), (63, 40.0))

    def _run_notices(self):
        self._run("ar_customer_centric.ir_cron_ar_instalment_notice")

    def test_notice_once_per_instalment_n_days_before(self):
        invoice = self._plan_invoice(term=self.term_later)
        single = self._invoice(amount=500.0, due_in=3)
        first, second, _third = self._due_lines(invoice)
        self._run_notices()
        notices = self._notices(invoice, "instalment of")
        self.assertEqual(len(notices), 1)
        self.assertIn("300.00", notices.body)
        self.assertIn("1 of 3", notices.body)
        self.assertIn(invoice._ar_get_pay_url().replace("&", "&amp;"), notices.body, "Odoo's portal pay link")
        self.assertEqual(
            notices.author_id, invoice.invoice_user_id.partner_id or self.company.partner_id, "salesperson or company"
        )
        self.assertIn(self.buyer, notices.partner_ids)
        self.assertEqual(first.ar_instalment_notice_on, self.today)
        self.assertFalse(second.ar_instalment_notice_on)
        self.assertFalse(self._notices(single, "instalment of"), "one due line: no instalment notice")
        # sent once
        self._run_notices()
        self.assertEqual(len(self._notices(invoice, "instalment of")), 1)

        with freeze_time(self.today + timedelta(days=27)):
            self._run_notices()
            self.assertEqual(len(self._notices(invoice, "instalment of")), 1, "more than 5 days before")
        with freeze_time(self.today + timedelta(days=28)):
            self._run_notices()
            notices = self._notices(invoice, "instalment of")
            self.assertEqual(len(notices), 2)
            self.assertIn("2 of 3", notices.sorted("id")[-1].body)
            self._run_notices()
            self.assertEqual(len(self._notices(invoice, "instalment of")), 2)

    def test_instalment_moved_to_a_later_date_is_announced_again(self):
        invoice = self._plan_invoice(term=self.term_later)
        first = self._due_lines(invoice)[0]
        self._run_notices()
        self.assertEqual(first.ar_instalment_notice_on, self.today)
        # rebooked as a payment plan does: the due line gets a new date
        later = self.today + timedelta(days=4)
        invoice.with_context(skip_invoice_sync=True, skip_readonly_check=True).write(
            {"line_ids": [Command.update(first.id, {"date_maturity": later})]}
        )
        self.assertFalse(first.ar_instalment_notice_on)
        self._run_notices()
        self.assertEqual(len(self._notices(invoice, "instalment of")), 2)
        # made due today (a plan called in): no instalment notice
        second = self._due_lines(invoice)[1]
        invoice.with_context(skip_invoice_sync=True, skip_readonly_check=True).write(
            {"line_ids": [Command.update(second.id, {"date_maturity": self.today})]}
        )
        self._run_notices()
        self.assertFalse(second.ar_instalment_notice_on)

    def test_notice_disabled_and_paid_instalments(self):
        invoice = self._plan_invoice(term=self.term_later)
        self.company.ar_instalment_notice_days = 0
        self._run_notices()
        self.assertFalse(self._notices(invoice, "instalment of"))
        self.company.ar_instalment_notice_days = 5
        # the first instalment is paid already: nothing to announce
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"amount": 300.0}
        )._create_payments()
        self._run_notices()
        self.assertFalse(self._notices(invoice, "instalment of"))

    def test_notice_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("nl_BE")
        self.env["ir.module.module"]._get("ar_customer_centric")._update_translations(["nl_BE"], overwrite=True)
        self.buyer.lang = "nl_BE"
        invoice = self._plan_invoice(term=self.term_later)
        self._run_notices()
        notice = self._notices(invoice, invoice.name)
        self.assertEqual(len(notice), 1)
        self.assertIn("termijn van", notice.subject)
        self.assertIn("Geachte heer, mevrouw,", notice.body)
        self.assertIn("termijn 1 van 3", notice.body)
        self.assertIn("Met vriendelijke groeten,", notice.body, "Flemish sign-off")


@tagged("post_install", "-at_install")
class TestInstalmentPayAll(ArPortalCommon):
    def test_pay_all_pays_the_overdue_instalments_not_those_to_come(self):
        term = _payment_term(self.env, (0, 30.0), (30, 30.0), (60, 40.0))
        today = fields.Date.today()
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.buyer_a.id,
                # instalments 40 and 10 days ago (overdue), and in 20 days
                "invoice_date": today - timedelta(days=40),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create({"name": "Plan", "quantity": 1, "price_unit": 1000.0, "tax_ids": False})
                ],
            }
        )
        invoice.action_post()
        token = self.contact_a._ar_get_pay_all_token()
        page = self.url_open(f"/my/pay-all/{token}?select=1&invoice_ids={invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("600.00", page.text)
        self.assertIn("o_ar_pay_all_instalment", page.text)
        result, error = self._json(f"/my/pay-all/{token}/transaction/{invoice.id}", self._tx_params(amount=1000.0))
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 600.0, "the overdue instalments, not the one still to come")
        # with a one-line invoice in the selection, that one is paid whole as before
        selection = f"{invoice.id}-{self.inv_a2.id}"
        result, error = self._json(f"/my/pay-all/{token}/transaction/{selection}", self._tx_params())
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 800.0)

    def test_pay_all_settles_each_invoice_as_shown(self):
        """A later instalment of one invoice is not paid before another invoice paid whole."""
        term = _payment_term(self.env, (0, 30.0), (30, 30.0), (60, 40.0))
        today = fields.Date.today()
        plan = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.buyer_a.id,
                # instalments 50 days ago, 20 days ago (overdue) and in 10 days
                "invoice_date": today - timedelta(days=50),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create({"name": "Plan", "quantity": 1, "price_unit": 1000.0, "tax_ids": False})
                ],
            }
        )
        plan.action_post()
        whole = self._ar_invoice(self.buyer_a, 500.0, today + timedelta(days=30))
        token = self.contact_a._ar_get_pay_all_token()
        result, error = self._json(f"/my/pay-all/{token}/transaction/{plan.id}-{whole.id}", self._tx_params())
        self.assertFalse(error)
        tx = self.env["payment.transaction"].search([("reference", "=", result["reference"])])
        self.assertEqual(tx.amount, 1100.0)
        tx._set_done()
        tx._post_process()
        self.assertIn(whole.payment_state, ("paid", "in_payment"), "the invoice paid whole is paid")
        self.assertEqual(plan.amount_residual, 400.0)
        later = plan.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted("date_maturity")[-1]
        self.assertFalse(later.reconciled, "the instalment to come stays open")
