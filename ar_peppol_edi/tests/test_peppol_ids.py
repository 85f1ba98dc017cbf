from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_peppol_edi.tools.peppol_ids import (
    be_enterprise_number,
    check_endpoint,
    participant_id,
    suggest_endpoint,
)


@tagged("post_install", "-at_install")
class TestPeppolIds(TransactionCase):
    def test_participant_id(self):
        self.assertEqual(participant_id("0208", " 0477472701 "), "iso6523-actorid-upis::0208:0477472701")

    def test_be_enterprise_number_from_vat(self):
        self.assertEqual(be_enterprise_number("BE 0477.472.701"), "0477472701")
        self.assertIsNone(be_enterprise_number("BE0477472702"))  # wrong check digits

    def test_check_endpoint(self):
        valid = {
            "0208": ("0477.472.701", "0477472701"),
            "9925": ("BE0477472701", "BE0477472701"),
            "0106": ("77777677", "77777677"),
            "0190": ("00000001003214345000", "00000001003214345000"),
            "9944": ("NL000099998B57", "NL000099998B57"),
            "9930": ("DE123456788", "DE123456788"),
            "0009": ("73282932000074", "73282932000074"),
            "0002": ("732829320", "732829320"),
            "9938": ("LU15027442", "LU15027442"),
            "0088": ("5430003732007", "5430003732007"),
        }
        for eas, (value, normalised) in valid.items():
            with self.subTest(eas=eas):
                self.assertEqual(check_endpoint(eas, value), (normalised, None))
        invalid = {
            "0208": "0477472702",
            "9925": "BE0477472702",
            "0106": "1234",
            "9930": "DE123456789",
            "0088": "5430003732008",
        }
        for eas, value in invalid.items():
            with self.subTest(eas=eas, value=value):
                endpoint, label = check_endpoint(eas, value)
                self.assertIsNone(endpoint)
                self.assertTrue(label)
        # schemes python-stdnum does not know are left alone
        self.assertEqual(check_endpoint("0204", "991-01234-56"), ("991-01234-56", None))

    def test_suggest_endpoint(self):
        self.assertEqual(suggest_endpoint("BE", vat="BE0477472701"), ("0208", "0477472701"))
        self.assertEqual(suggest_endpoint("NL", vat="NL000099998B57", registry="77777677"), ("0106", "77777677"))
        self.assertEqual(suggest_endpoint("NL", vat="NL000099998B57"), ("9944", "NL000099998B57"))
        self.assertEqual(suggest_endpoint("DE", vat="DE123456788"), ("9930", "DE123456788"))
        self.assertEqual(suggest_endpoint("FR", registry="73282932000074"), ("0009", "73282932000074"))
        self.assertEqual(suggest_endpoint("LU", vat="LU15027442"), ("9938", "LU15027442"))
        self.assertEqual(suggest_endpoint("BE", vat="BE0477472702"), (None, None))

    def test_partner_endpoint_checked_with_suggestion(self):
        partner = self.env["res.partner"].create(
            {"name": "Buyer", "country_id": self.env.ref("base.be").id, "vat": "BE0477472701"}
        )
        with self.assertRaises(ValidationError) as caught:
            partner.write({"peppol_eas": "0208", "peppol_endpoint": "0477472702"})
        self.assertIn("0208:0477472701", str(caught.exception))
        partner.write({"peppol_eas": "9925", "peppol_endpoint": "BE0477472701"})
        self.assertEqual(
            (partner.ar_peppol_suggested_eas, partner.ar_peppol_suggested_endpoint), ("0208", "0477472701")
        )
        partner.action_ar_peppol_apply_suggestion()
        self.assertEqual((partner.peppol_eas, partner.peppol_endpoint), ("0208", "0477472701"))
        self.assertFalse(partner.ar_peppol_suggested_eas)
