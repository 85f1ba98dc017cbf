from odoo.tests import tagged

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
