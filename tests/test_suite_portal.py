from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestSuitePortal(AccountTestInvoicingCommon, HttpCase):
    """The whole suite installed: a portal buyer sees their own invoices, never another's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer_company = cls.env["res.partner"].create({"name": "Buyer NV", "is_company": True})
        cls.other_company = cls.env["res.partner"].create({"name": "Other BV", "is_company": True})
        contact = cls.env["res.partner"].create(
            {"name": "Jan Buyer", "parent_id": cls.buyer_company.id, "email": "jan@buyer.example"}
        )
        cls.buyer_user = cls.env["res.users"].create(
            {
                "name": "Jan Buyer",
                "login": "jan_buyer",
                "password": "jan_buyer_pw",
                "partner_id": contact.id,
                "group_ids": [Command.set([cls.env.ref("base.group_portal").id])],
            }
        )
        cls.own_invoice = cls.init_invoice("out_invoice", partner=cls.buyer_company, amounts=[100.0], post=True)
        cls.other_invoice = cls.init_invoice("out_invoice", partner=cls.other_company, amounts=[200.0], post=True)

    def test_portal_buyer_sees_only_own_invoices(self):
        self.authenticate("jan_buyer", "jan_buyer_pw")
        response = self.url_open("/my/invoices")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.own_invoice.name, response.text)
        self.assertNotIn(self.other_invoice.name, response.text)
        response = self.url_open(f"/my/invoices/{self.other_invoice.id}", allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)
