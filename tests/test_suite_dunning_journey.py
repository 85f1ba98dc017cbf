import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl, urlparse

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ar_dunning.tests.common import on_day


@tagged("post_install", "-at_install")
class TestSuiteDunningJourney(AccountTestInvoicingCommon, HttpCase):
    """An invoice goes overdue; level 1 goes out in the customer's language with the guest
    pay-all link and the EPC QR; the buyer disputes from the reminder's link; the next run skips
    it; the accountant rejects the dispute; the next level goes out with statutory interest."""

    @classmethod
    @AccountTestInvoicingCommon.setup_country("be")
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"email": "credit@seller.example", "vat": "BE0202239951"})
        cls.company.partner_id.bank_ids = [Command.create({"acc_number": "BE15001559627230"})]
        cls.env["res.lang"]._activate_lang("fr_BE")
        cls.env["ir.module.module"]._get("ar_dunning")._update_translations(["fr_BE"], overwrite=True)
        cls.env["ir.module.module"]._get("ar_suite")._update_translations(["fr_BE"], overwrite=True)
        policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        if not policy:
            cls.company._ar_dunning_create_default_policy()
            policy = cls.env["ar.dunning.policy"].search([("company_id", "=", cls.company.id)], limit=1)
        policy._ar_translate_names()
        cls.policy = policy
        cls.level1, cls.level2 = policy._get_ladder()[:2]
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Imprimerie Lambert SA",
                "is_company": True,
                "lang": "fr_BE",
                "vat": "BE0477472701",
                "email": "comptabilite@lambert.example",
                "country_id": cls.env.ref("base.be").id,
                "street": "Boulevard d'Avroy 88",
                "zip": "4000",
                "city": "Liège",
            }
        )
        cls.today = fields.Date.context_today(cls.customer)
        # the statutory rate of the period, as the administrator keeps it in the data
        Rate = cls.env["ar.dunning.interest.rate"]
        be = cls.env.ref("base.be")
        Rate.search([("country_id", "=", be.id), ("customer_type", "=", "b2b")]).unlink()
        Rate.create(
            {
                "country_id": be.id,
                "customer_type": "b2b",
                "date_from": cls.today - timedelta(days=180),
                "date_to": cls.today + timedelta(days=180),
                "rate": 10.5,
            }
        )
        cls.due = cls.today - timedelta(days=10)
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": cls.due - timedelta(days=30),
                "invoice_date_due": cls.due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create({"name": "Offset printing", "quantity": 1, "price_unit": 2400.0, "tax_ids": []})
                ],
            }
        )
        cls.invoice.action_post()

    def _run(self, on_date, execute=True):
        with on_day(on_date):  # a run is made and sent on its date
            return self.env["ar.dunning.run"]._run_batch(
                date=on_date, policy_ids=self.policy.ids, partner_ids=self.customer.ids, execute=execute
            )

    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    def test_reminder_dispute_skip_reject_next_level_with_interest(self):
        # 1. ten days overdue: level 1, in French, with the pay-all link and the EPC QR code
        run = self._run(self.today)
        line = run.line_ids
        self.assertEqual((line.level_id, line.state, line.lang), (self.level1, "done", "fr_BE"))
        mail = line.mail_id
        self.assertEqual(mail.recipient_ids, self.customer)
        body = str(mail.body_html)
        self.assertIn("Échéance", body, "the statement table is in the customer's language")
        self.assertIn("2.400,00", body, "amounts are formatted the Belgian-French way")
        self.assertIn("ar_suite_epc_qr", body)
        self.assertIn("Ou scannez ce code avec votre application bancaire", body, "the QR caption is in French too")
        self.assertIn("/report/barcode/?barcode_type=QR", unescape(body))
        pay_all = re.search(r'href="([^"]*/my/pay-all/[^"]+)"', body)
        self.assertTrue(pay_all, "the reminder links to the guest pay-all page")
        self.assertEqual(self.invoice.ar_dunning_level_id, self.level1)
        # the printed letter carries the QR code inline (no web fetch by wkhtmltopdf)
        letter = str(line._ar_suite_letter_body())
        self.assertIn("data:image/png;base64,", letter)
        self.assertNotIn("/report/barcode", letter)
        # the e-mail and the letter end with the sign-off and the signature, after the QR code;
        # on paper the pay link is printed as its address
        for text in (body, letter):
            self.assertLess(text.index("ar_suite_epc_qr"), text.index("Veuillez agréer, Madame, Monsieur"))
            self.assertRegex(text, r"salutations distinguées\.<br/?>[^<]+</p>\s*</div>\s*$")
        self.assertIn(f">{unescape(pay_all.group(1))}</a>", unescape(letter))

        # 2. the buyer follows the link (no account) and disputes the invoice from there
        dispute = self._dispute_from_link(unescape(pay_all.group(1)))
        self.assertEqual((dispute.state, self.invoice.ar_dispute_state), ("open", "open"))
        self.assertTrue(dispute.activity_ids, "the accountant has an activity")

        # 3. the next run skips the disputed invoice: no reminder at all
        mails_before = self.env["mail.mail"].search_count(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        run = self._run(self.today + timedelta(days=7))
        sendable = run.line_ids.filtered(lambda x: x.state != "excluded")
        self.assertFalse(sendable.statement_item_ids, "nothing to claim while disputed")
        item = run.line_ids.item_ids.filtered(lambda i: i.move_id == self.invoice)
        if item:
            self.assertEqual(item.exclusion_reason, "disputed")
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]),
            mails_before,
        )

        # 4. the accountant rejects the dispute; the invoice is back in collection
        dispute.resolution_note = "Le prix de 2.400 EUR figure dans le devis signé."
        dispute.action_reject()
        self.assertEqual(self.invoice.ar_dispute_state, "rejected")
        self.assertFalse(self.invoice.no_followup)

        # 5. the next level goes out, with the statutory interest and the EUR 40 compensation
        self._assert_next_level_with_interest(self.today + timedelta(days=15))

    def _dispute_from_link(self, url):
        path = urlparse(url).path
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        redirect = self.url_open(f"{path}/invoice/{self.invoice.id}?dispute=1", allow_redirects=False)
        self.assertEqual(redirect.status_code, 303)
        dispute_url = urlparse(redirect.headers["Location"])
        # the form is granted by the link itself (its pay-all token), not by an invoice access token
        grant = dict(parse_qsl(dispute_url.query))
        self.assertEqual(set(grant), {"pay_all_token"})
        response = self.url_open(
            dispute_url.path,
            data={
                "csrf_token": self._csrf(f"{dispute_url.path}?{dispute_url.query}"),
                **grant,
                "reason": "wrong_amount",
                "message": "Le prix unitaire convenu est de 2.200 EUR.",
            },
        )
        self.assertEqual(response.status_code, 200)
        return self.invoice.ar_dispute_ids

    def _assert_next_level_with_interest(self, run_date):
        run = self._run(run_date)
        line = run.line_ids.filtered(lambda x: x.state == "done")
        self.assertEqual(line.level_id, self.level2)
        self.assertEqual(self.invoice.ar_dunning_level_id, self.level2)
        item = line.item_ids.filtered(lambda i: i.move_id == self.invoice)
        days = (run_date - self.due).days
        self.assertEqual(item.interest, round(2400.0 * 10.5 / 100 * days / 365, 2), "10.5 % a year since the due date")
        self.assertEqual(item.fee, 40.0)
        body = str(line.mail_id.body_html)
        self.assertIn(f"{item.interest:.2f}".replace(".", ","), body, "the interest is shown in the reminder")
        self.assertEqual(line.mail_id.recipient_ids, self.customer)
