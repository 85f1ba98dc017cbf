from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSegment(TransactionCase):
    def test_segment_is_per_company(self):
        partner = self.env["res.partner"].create({"name": "Segmented NV", "is_company": True})
        other = self.env["res.company"].create({"name": "Second company"})
        partner.ar_segment = "enterprise"
        self.assertEqual(partner.with_company(other).ar_segment, False)
        partner.with_company(other).ar_segment = "small"
        self.assertEqual(partner.ar_segment, "enterprise")
        self.assertEqual(partner.with_company(other).ar_segment, "small")
