from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_cxml import CxmlCommon


@tagged("ar_with_sale", "-standard", "post_install", "-at_install")
class TestCxmlWithSale(CxmlCommon):
    """The buyer's references come from the sales order when `sale` is installed (soft hook:
    ar_customer_centric does not depend on `sale`). `make test` runs this class on a copy of the
    test database with `sale` installed (scripts/arsuite.py, tag ar_with_sale)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the accountant of the test also sells (sales orders need the salesman's rights)
        cls.env.user.group_ids |= cls.env.ref("sales_team.group_sale_salesman")
        cls.product_b.default_code = "SKU-B"
        (cls.product_a | cls.product_b).invoice_policy = "order"

    def _order(self, client_ref, products):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.cxml_customer.id,
                "client_order_ref": client_ref,
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": 1, "price_unit": 100.0})
                    for product in products
                ],
            }
        )
        order.action_confirm()
        return order

    def _invoice(self, orders):
        self._set_cxml(self.cxml_customer, "/ok", ar_cxml_network="ariba")
        self.server.network = "ariba"
        move = orders._create_invoices()
        move.fiscal_position_id = False
        move.action_post()
        return move

    def test_references_from_the_sales_order(self):
        order = self._order("4500099999", self.product_a | self.product_b)
        move = self._invoice(order)
        self.assertEqual(move.ar_buyer_po, "4500099999")
        self.assertEqual(move.ar_buyer_po_date, order.date_order.date())
        by_product = {line.product_id: line for line in move.invoice_line_ids}
        self.assertEqual(by_product[self.product_a].ar_buyer_po_line, 1)
        self.assertEqual(by_product[self.product_b].ar_buyer_po_line, 2)
        self.assertEqual(by_product[self.product_b].ar_supplier_part, "SKU-B")
        # Ariba requires the supplier part number of every line: product_a has none yet
        with self.assertRaisesRegex(UserError, "Supplier Part Number"):
            self._send(move)
        move.button_draft()
        by_product[self.product_a].ar_supplier_part = "SKU-A"
        move.action_post()
        self._send(move)
        self.assertEqual(move.ar_delivery_state, "sent")
        root = etree.fromstring(self._posted("/ok")[-1][2], parser=etree.XMLParser(load_dtd=False))
        self.assertEqual(root.find(".//InvoiceDetailOrderInfo/OrderIDInfo").get("orderID"), "4500099999")
        self.assertEqual(sorted(ref.get("lineNumber") for ref in root.iter("InvoiceDetailItemReference")), ["1", "2"])

    def test_a_value_typed_by_hand_is_kept(self):
        order = self._order("4500099999", self.product_a)
        move = order._create_invoices()
        move.write({"ar_buyer_po": "PO-TYPED", "fiscal_position_id": False})
        move.invoice_line_ids.ar_buyer_po_line = 7
        move.action_post()
        self.assertEqual(move.ar_buyer_po, "PO-TYPED")
        self.assertEqual(move.invoice_line_ids.ar_buyer_po_line, 7)

    def test_two_orders_with_different_references_are_not_guessed(self):
        orders = self._order("PO-1", self.product_a) | self._order("PO-2", self.product_b)
        move = self._invoice(orders)
        self.assertFalse(move.ar_buyer_po, "two purchase orders: the buyer's PO is not guessed")
        self.assertEqual(move.invoice_line_ids.mapped("ar_buyer_po_line"), [1, 1])
        with self.assertRaisesRegex(UserError, "requires the Buyer's PO Number"):
            self._send(move)
        self.assertFalse(self._posted())
