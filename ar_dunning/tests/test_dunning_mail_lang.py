from odoo.tests import tagged

from .common import ArDunningCommon

# (lang, phrase from the level-1 neutral intro, phrase from the table header, amount as formatted in that language)
EXPECTED = {
    "nl_BE": ("Volgens onze administratie", "Vervaldatum", "1.234,56"),
    "fr_BE": ("Selon nos données", "Échéance", "1.234,56"),
    "de_DE": ("Laut unserer Buchhaltung", "Fällig am", "1.234,56"),
}


@tagged("post_install", "-at_install")
class TestDunningMailLang(ArDunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in EXPECTED:
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._get("ar_dunning")._update_translations(list(EXPECTED), overwrite=True)
        # level names were stored when only en_US was installed: store them again in the new languages
        cls.policy._ar_translate_names()

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
                    self.assertIn(line.level_id.with_context(lang=code).name, rendered["subject"])
            neutral = self.env.ref("ar_dunning.mail_template_level1_neutral")
            body = str(neutral._generate_template(line.ids, ["body_html"])[line.id]["body_html"])
            self.assertIn(phrase, body)
