from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestPortalInvoicingCompany(AccountTestInvoicingCommon, HttpCase):
    """A guest with a signed link sees the company that invoiced, not the database's default."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = cls.setup_other_company(name="Seller Two Services NV")["company"]
        cls.buyer = cls.env["res.partner"].create(
            {"name": "Guest Buyer BV", "is_company": True, "email": "ap@guest-buyer.example.com"}
        )
        cls.invoice = (
            cls.env["account.move"]
            .with_company(cls.seller)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.buyer.id,
                    "company_id": cls.seller.id,
                    "invoice_line_ids": [
                        Command.create({"name": "Consulting", "quantity": 1, "price_unit": 100.0, "tax_ids": False})
                    ],
                }
            )
        )
        cls.invoice.action_post()
        cls.default_company = cls.env.ref("base.main_company")

    def _footer_company(self, html):
        marker = 'class="o_footer_copyright_name'
        self.assertIn(marker, html)
        return html.split(marker, 1)[1][:400]

    def test_invoice_by_token_shows_the_invoicing_company(self):
        self.invoice._portal_ensure_token()
        page = self.url_open(f"/my/invoices/{self.invoice.id}?access_token={self.invoice.access_token}")
        self.assertEqual(page.status_code, 200)
        footer = self._footer_company(page.text)
        self.assertNotEqual(self.default_company, self.seller)
        self.assertIn("Seller Two Services NV", footer)
        self.assertNotIn(self.default_company.name, footer)
        self.assertIn(f"/logo.png?company={self.seller.id}", page.text)

    def test_guest_pay_all_shows_the_invoicing_company(self):
        url = self.buyer.with_company(self.seller)._ar_get_pay_all_url()
        page = self.url_open("/my/pay-all/" + url.split("/my/pay-all/", 1)[1])
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        footer = self._footer_company(page.text)
        self.assertIn("Seller Two Services NV", footer)
        self.assertIn(f"/logo.png?company={self.seller.id}", page.text)
