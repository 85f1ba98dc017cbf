import re

from odoo.tests import tagged
from odoo.tools import format_amount

from .test_portal_common import ArPortalCommon


@tagged("post_install", "-at_install")
class TestCustomerLanguage(ArPortalCommon):
    """What the buyer reads: the reference named after its type, the EPC mandate text per scheme."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        codes = ["nl_NL", "nl_BE", "fr_BE", "de_DE"]
        for code in codes:
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._get("ar_customer_centric")._update_translations(codes, overwrite=True)
        # Odoo's own labels ("Betaal nu", "Payer maintenant") are there, as on a real database
        cls.env["ir.module.module"]._get("account_payment")._update_translations(codes, overwrite=True)

    def _label(self, kind, lang, reference=""):
        self.company.ar_structured_reference_type = kind
        return self.company.with_context(lang=lang)._ar_reference_label(reference)

    def test_reference_label_follows_the_company_reference_type(self):
        self.assertEqual(self._label("be", "nl_BE"), "gestructureerde mededeling")
        self.assertEqual(self._label("be", "nl_NL"), "gestructureerde mededeling")
        self.assertEqual(self._label("be", "fr_BE"), "communication structurée")
        self.assertEqual(self._label("nl", "nl_NL"), "betalingskenmerk")
        self.assertEqual(self._label("nl", "nl_BE"), "betalingskenmerk")
        self.assertEqual(self._label("rf", "de_DE"), "Gläubigerreferenz (RF)")
        # the journal's own reference: the label follows the reference's form
        self.assertEqual(self._label("journal", "fr_BE", "+++000/0000/00097+++"), "communication structurée")
        self.assertEqual(self._label("journal", "nl_NL", "RF18 ST12"), "betalingskenmerk (RF)")
        self.assertEqual(
            self.company.with_context(lang="nl_NL")._ar_reference_label("", capital=True), "Betalingsreferentie"
        )

    def test_portal_invoice_mail_names_the_reference(self):
        self.company.ar_structured_reference_type = "be"
        self.buyer_a.lang = "nl_BE"
        template = self.env.ref("ar_customer_centric.ar_mail_template_portal_invoice")
        self.inv_a1.payment_reference = "+++000/0000/00097+++"
        rendered = template._generate_template(self.inv_a1.ids, ["subject", "body_html"])[self.inv_a1.id]
        body = str(rendered["body_html"])
        self.assertIn("Geachte heer, mevrouw,", body)
        self.assertIn("Gestructureerde mededeling: <strong>+++000/0000/00097+++</strong>", body)
        self.assertIn("Met vriendelijke groeten,", body, "nl_BE.po overrides the Netherlands sign-off")
        self.assertIn("staat klaar in uw portaal", rendered["subject"])
        self.assertNotIn(self.buyer_a.name + ",", body, "never the customer's name in the salutation")

    def _default_mail(self, move):
        """Subject and body account.move.send proposes for the move (the wizard's and the cron's default)."""
        send = self.env["account.move.send"]
        template = send._get_default_mail_template_id(move)
        lang = send._get_default_mail_lang(move, template)
        body = str(send._get_default_mail_body(move, template, lang))
        return template, send._get_default_mail_subject(move, template, lang), body

    def test_invoice_and_credit_note_mails_are_formal(self):
        """Odoo's own invoice e-mail reads "Beste <company>, Hierbij ontvang je jouw factuur ... Gelieve ...":
        ours greets formally, keeps the number, amount, due date and reference, and is signed."""
        self.company.ar_structured_reference_type = "be"
        self.inv_a1.payment_reference = "+++000/0000/00097+++"
        informal = r"\b(je|jouw|jij|gelieve|tu|ton|ta|du|dein|deine)\b"
        for lang, salutation, sign_off, words in (
            (
                "nl_NL",
                "Geachte heer, mevrouw,",
                "Met vriendelijke groet,",
                ["Bijgaand ontvangt u factuur", "uiterlijk op"],
            ),
            (
                "nl_BE",
                "Geachte heer, mevrouw,",
                "Met vriendelijke groeten,",
                ["In bijlage vindt u factuur", "uiterlijk op"],
            ),
            (
                "fr_BE",
                "Madame, Monsieur,",
                "Veuillez agréer, Madame, Monsieur",
                ["ci-joint la facture", "au plus tard le"],
            ),
            (
                "de_DE",
                "Sehr geehrte Damen und Herren,",
                "Mit freundlichen Grüßen",
                ["anbei erhalten Sie die Rechnung", "bis zum"],
            ),
        ):
            with self.subTest(lang=lang):
                self.buyer_a.lang = lang
                template, subject, body = self._default_mail(self.inv_a1)
                text = re.sub(r"<[^>]+>", " ", body)
                self.assertIn(salutation, body)
                self.assertNotIn(self.buyer_a.name + ",", body, "never the customer's name in the salutation")
                self.assertNotRegex(text.lower(), informal)
                amount = format_amount(
                    self.env(context={"lang": lang}), self.inv_a1.amount_total, self.inv_a1.currency_id
                )
                self.assertIn(amount, body)
                self.assertIn(self.inv_a1.name, body)
                self.assertIn(self.inv_a1.name, subject)
                self.assertIn("+++000/0000/00097+++", body)
                for word in words:
                    self.assertIn(word, text)
                self.assertIn(sign_off, body)
                self.assertIn(self.company.name, body.split(sign_off)[1], "signed by the sender")
                self.assertEqual(template, self.env.ref("ar_customer_centric.ar_mail_template_invoice"))

        self.buyer_a.lang = "nl_NL"
        refund = self.inv_a1._reverse_moves()
        refund.action_post()
        template, subject, body = self._default_mail(refund)
        self.assertIn("creditnota", subject)
        self.assertIn("Geachte heer, mevrouw,", body)
        self.assertIn(f"heeft betrekking op factuur <strong>{self.inv_a1.name}</strong>", body)
        self.assertNotRegex(body.lower(), informal)
        self.assertEqual(template, self.env.ref("ar_customer_centric.ar_mail_template_credit_note"))

    def test_a_chosen_mail_template_is_kept(self):
        """Only Odoo's default is replaced: a template chosen in the wizard stays; archiving ours gives Odoo's."""
        odoo_template = self.env.ref("account.email_template_edi_invoice")
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=self.inv_a1.ids)
            .create({"move_id": self.inv_a1.id})
        )
        self.assertEqual(wizard.template_id, self.env.ref("ar_customer_centric.ar_mail_template_invoice"))
        wizard.template_id = odoo_template
        self.assertEqual(wizard._get_sending_settings()["mail_template"], odoo_template)
        self.env.ref("ar_customer_centric.ar_mail_template_invoice").active = False
        self.assertEqual(self.env["account.move.send"]._get_default_mail_template_id(self.inv_a1), odoo_template)

    def test_mandate_form_shows_the_epc_text_of_each_scheme(self):
        for lang, core, b2b in (
            ("en_US", "A refund must be claimed within 8 weeks", "You are not entitled to a refund from your bank"),
            (
                "de_DE",
                "die Erstattung des belasteten Betrages verlangen",
                "nicht berechtigt, nach der erfolgten Einlösung",
            ),
            ("nl_NL", "binnen 8 weken na afschrijving", "Na afschrijving heeft u geen recht"),
            ("nl_BE", "binnen 8 weken", "geen recht op terugbetaling"),
            ("fr_BE", "dans les 8 semaines", "pas le droit"),
        ):
            with self.subTest(lang=lang):
                self.contact_a.lang = lang
                # the session takes the user's language at login, from res.users.context_get (cached per user)
                self.env.registry.clear_cache()
                self.authenticate("portal_a", "portal_a")
                page = self.url_open("/my/autopay/mandate").text
                core_at, b2b_at = page.index('value="CORE"'), page.index('value="B2B"')
                self.assertLess(core_at, page.index(core), "CORE text under the CORE choice")
                self.assertLess(page.index(core), b2b_at)
                self.assertLess(b2b_at, page.index(b2b), "B2B text under the B2B choice")
                self.assertGreaterEqual(page.count(self.company.name), 4, "the creditor is named in both texts")

    def test_portal_pay_button_has_our_label(self):
        """account_payment's "Pay Now" button on the invoice page reads as our e-mail's button, in the
        buyer's language; Odoo's link to its payment dialog stays."""
        for lang, ours, odoos in (
            ("en_US", "Pay now", "Pay Now"),
            ("nl_NL", "Nu betalen", "Betaal nu"),
            ("nl_BE", "Nu betalen", "Betaal nu"),
            ("fr_BE", "Payer maintenant", "Payer maintenant"),
            ("de_DE", "Jetzt bezahlen", "Jetzt bezahlen"),
        ):
            with self.subTest(lang=lang):
                self.contact_a.lang = lang
                self.env.registry.clear_cache()
                self.authenticate("portal_a", "portal_a")
                page = self.url_open(f"/my/invoices/{self.inv_a1.id}").text
                button = re.search(r'<a[^>]*data-bs-target="#pay_with"[^>]*>(.*?)</a>', page, flags=re.S)
                self.assertTrue(button, "account_payment's pay button is on the page")
                self.assertIn("o_ar_pay_now", button.group(0))
                label = re.sub(r"<[^>]+>|\s+", " ", button.group(1)).strip()
                self.assertEqual(label, ours)
                if odoos != ours:
                    self.assertNotIn(odoos, page)
