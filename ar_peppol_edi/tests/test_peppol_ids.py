from odoo.tests import TransactionCase, tagged

from odoo.addons.ar_peppol_edi.tools.peppol_ids import be_enterprise_number, participant_id


@tagged("post_install", "-at_install")
class TestPeppolIds(TransactionCase):
    def test_participant_id(self):
        self.assertEqual(participant_id("0208", " 0477472701 "), "iso6523-actorid-upis::0208:0477472701")

    def test_be_enterprise_number_from_vat(self):
        self.assertEqual(be_enterprise_number("BE 0477.472.701"), "0477472701")
        self.assertIsNone(be_enterprise_number("BE0477472702"))  # wrong check digits
