from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ar_customer_centric.controllers.rate_limit import THROTTLE


class ArPortalCommon(AccountTestInvoicingCommon, HttpCase):
    """Two buyers (A and B), each with a portal user, posted invoices and Odoo's demo provider."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.env["ir.config_parameter"].sudo().set_param("account_payment.enable_portal_payment", True)
        cls.provider = cls.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.provider.write({"state": "test", "is_published": True})
        cls.provider.journal_id = cls.company_data["default_journal_bank"]
        cls.payment_method = cls.provider.payment_method_ids[:1]
        cls.payment_method.active = True

        cls.buyer_a = cls.env["res.partner"].create(
            {"name": "Buyer A NV", "is_company": True, "email": "ap@buyer-a.example.com"}
        )
        cls.buyer_b = cls.env["res.partner"].create(
            {"name": "Buyer B BV", "is_company": True, "email": "ap@buyer-b.example.com"}
        )
        cls.contact_a = cls.env["res.partner"].create(
            {"name": "Alice of A", "parent_id": cls.buyer_a.id, "email": "alice@buyer-a.example.com"}
        )
        cls.contact_b = cls.env["res.partner"].create(
            {"name": "Bob of B", "parent_id": cls.buyer_b.id, "email": "bob@buyer-b.example.com"}
        )
        portal_values = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.portal_a = new_test_user(
            cls.env, login="portal_a", groups="base.group_portal", partner_id=cls.contact_a.id, **portal_values
        )
        cls.portal_b = new_test_user(
            cls.env, login="portal_b", groups="base.group_portal", partner_id=cls.contact_b.id, **portal_values
        )
        today = fields.Date.today()
        cls.inv_a1 = cls._ar_invoice(cls.buyer_a, 100.0, today - timedelta(days=10))
        cls.inv_a2 = cls._ar_invoice(cls.buyer_a, 200.0, today + timedelta(days=20))
        cls.inv_b = cls._ar_invoice(cls.buyer_b, 300.0, today - timedelta(days=5))

    @classmethod
    def _ar_invoice(cls, partner, amount, due, post=True):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create({"name": "Consulting", "quantity": 1, "price_unit": amount, "tax_ids": False})
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    def setUp(self):
        super().setUp()
        THROTTLE.reset()

    def _json(self, url, params):
        """JSON-RPC call; returns (result, error message)."""
        response = self.url_open(url, json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
        payload = response.json()
        if "error" in payload:
            return None, payload["error"]["data"]["message"]
        return payload["result"], None

    def _tx_params(self, **extra):
        return {
            "provider_id": self.provider.id,
            "payment_method_id": self.payment_method.id,
            "token_id": None,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my/invoices",
            **extra,
        }
