from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ArDunningCommon


@tagged("ar_with_sale", "-standard", "post_install", "-at_install")
class TestCreditMonitoringWithSale(ArDunningCommon):
    """Credit monitoring on a database with `sale`: what Odoo still has to invoice counts in the exposure,
    and Odoo's own credit-limit warning on sales orders stays (run by `TAGS=ar_with_sale make test`)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("sales_team.group_sale_manager")
        cls.company.account_use_credit_limit = True
        cls.customer = cls.env["res.partner"].create({"name": "Sales Customer NV", "is_company": True})
        cls.customer.with_company(cls.company).credit_limit = 1000.0
        cls.service = cls.env["product.product"].create(
            {"name": "Consulting", "type": "service", "invoice_policy": "order", "list_price": 100.0, "taxes_id": []}
        )

    def _order(self, amount):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.service.id, "product_uom_qty": 1, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )

    def test_to_invoice_in_exposure_and_odoo_warning_stays(self):
        first = self._order(800.0)
        first.action_confirm()
        partner = self.customer.with_company(self.company)
        self.assertEqual(partner.ar_credit_to_invoice, 800.0)
        self.assertEqual(partner.ar_credit_exposure, 800.0)
        self.assertFalse(partner.ar_credit_over_limit)
        # a second order would bring the customer over its limit: Odoo warns on the order, as before
        second = self._order(500.0)
        self.assertIn("credit limit", second.partner_credit_warning)
        second.action_confirm()  # orders are Odoo's: a warning only
        partner.invalidate_recordset()
        self.assertEqual(partner.ar_credit_exposure, 1300.0)
        self.assertTrue(partner.ar_credit_over_limit)
        # the nightly assessment stores it
        self.env["ar.credit.risk"].with_company(self.company)._compute_company()
        risk = self.env["ar.credit.risk"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((risk.to_invoice_amount, risk.over_limit), (1300.0, True))
        # invoicing the first order: Odoo's own test (the order's amount is not counted twice) says over the
        # limit, so posting needs a credit controller or an override
        invoice = first._create_invoices()
        self.env.invalidate_all()
        self.assertTrue(invoice.partner_credit_warning)
        with self.assertRaisesRegex(UserError, "credit limit"):
            invoice.action_post()
        invoice.with_context(ar_credit_override_reason="Order paid in advance").action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertIn("Order paid in advance", invoice.message_ids[0].body)
        partner.invalidate_recordset()
        self.assertEqual((partner.ar_credit_open, partner.ar_credit_to_invoice), (800.0, 500.0))
