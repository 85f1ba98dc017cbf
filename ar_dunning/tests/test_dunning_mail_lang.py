from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import ArDunningCommon

# (lang, phrase from the level-1 neutral intro, phrase from the table header, amount as formatted in that language)
EXPECTED = {
    "nl_BE": ("Volgens onze administratie", "Vervaldag", "1.234,56"),
    "fr_BE": ("Selon nos écritures", "Échéance", "1.234,56"),
    "de_DE": ("Sehr geehrte Damen und Herren,</p>", "Fällig am", "1.234,56"),
}


# nl_BE.po overrides the Netherlands sign-off of nl.po
SIGN_OFF = {
    "nl_BE": "Met vriendelijke groeten,",
    "fr_BE": "salutations distinguées.",
    "de_DE": "Mit freundlichen Grüßen<br",
}


@tagged("post_install", "-at_install")
class TestDunningMailLang(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in EXPECTED:
            cls.env["res.lang"]._activate_lang(code)
        # the policy was created when only en_US was active: loading the languages names its levels
        cls.env["ir.module.module"]._get("ar_dunning")._update_translations(list(EXPECTED), overwrite=True)

    def test_every_template_in_every_language(self):
        templates = self.env["mail.template"].search([("model", "=", "ar.dunning.line")])
        self.assertEqual(len(templates), 9)
        for code, (phrase, header, amount) in EXPECTED.items():
            partner = self.env["res.partner"].create(
                {"name": f"Klant {code}", "lang": code, "email": f"{code}@x.example", "is_company": True}
            )
            self._invoice(partner, 1234.56, self._days(5))
            run = self._run(partners=partner)
            line = run.line_ids
            self.assertEqual(line.lang, code)
            for template in templates:
                with self.subTest(lang=code, template=template.name):
                    rendered = template._generate_template(line.ids, ["subject", "body_html"])[line.id]
                    body = str(rendered["body_html"])
                    self.assertIn(header, body)
                    self.assertIn(amount, body)
                    self.assertNotIn("Dear ", body)
                    self.assertNotIn("Kind regards", body)
                    self.assertIn(SIGN_OFF[code], body)
                    self.assertIn(line.pay_url, body, "the pay address is printed, not only linked")
                    self.assertIn(line.level_id.with_context(lang=code).name, rendered["subject"])
            neutral = self.env.ref("ar_dunning.mail_template_level1_neutral")
            body = str(neutral._generate_template(line.ids, ["body_html"])[line.id]["body_html"])
            self.assertIn(phrase, body)

    def test_level_names_in_a_language_activated_later(self):
        """Subject lines and letter headings never fall back to English; nl_BE.po overrides nl.po."""
        later = ("nl_NL", "de_CH")
        for code in later:
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(list(later))
        names = {
            code: [level.with_context(lang=code).name for level in self.policy._get_ladder()[:3]]
            for code in ("nl_NL", "nl_BE", "de_CH", "fr_BE")
        }
        self.assertEqual(names["nl_NL"], ["Betalingsherinnering", "Tweede herinnering", "Laatste aanmaning"])
        self.assertEqual(names["nl_BE"], ["Herinnering", "Tweede herinnering", "Laatste herinnering"])
        self.assertEqual(names["de_CH"], ["Zahlungserinnerung", "1. Mahnung", "Letzte Mahnung"])
        self.assertEqual(names["fr_BE"], ["Rappel de paiement", "Deuxième rappel", "Dernier rappel"])
        # a name the accountant changed is left alone
        self.level1.with_context(lang="en_US").name = "Friendly nudge"
        self.env["res.lang"]._activate_lang("fr_CH")
        self.env["ir.module.module"]._get("ar_dunning")._update_translations(["fr_CH"])
        self.assertEqual(self.level1.with_context(lang="fr_CH").name, "Friendly nudge")

    def test_letter_file_name_in_the_customer_language(self):
        """The reminder PDF is named after the level in the customer's language and the letter's reference;
        a German first reminder claims no default (Verzug)."""
        self.level1.action_letter = True
        names = {"nl_BE": "Herinnering", "fr_BE": "Rappel de paiement", "de_DE": "Zahlungserinnerung"}
        for code, level_name in names.items():
            with self.subTest(lang=code):
                partner = self.env["res.partner"].create(
                    {"name": f"Klant {code}", "lang": code, "email": f"{code}@x.example", "is_company": True}
                )
                if code == "de_DE":
                    partner.country_id = self.env.ref("base.de")
                self._invoice(partner, 1234.56, self._days(5))
                line = self._run(partners=partner, execute=True).line_ids
                self.assertEqual(line.state, "done")
                self.assertEqual(line.pdf_id.name, f"{level_name} ARDL-{line.id}-R.pdf")
                report = self.env.ref("ar_dunning.action_report_dunning_letter")
                # printed from the back office (the report's download name), whatever the user's language
                self.assertEqual(
                    safe_eval(report.print_report_name, {"object": line.with_context(lang="en_US")}),
                    f"{level_name} ARDL-{line.id}-R",
                )
                if code == "de_DE":
                    self.assertTrue(line.first_notice)
                    self.assertNotRegex(line.body_html, r"Zahlungsverzug|in Verzug|§ 286")
