from lxml import etree

from odoo.tests import tagged

from .common import PeppolCommon

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@tagged("post_install", "-at_install")
class TestUblMatrix(PeppolCommon):
    """Every generated document passes the official CEN EN 16931 and Peppol BIS 3 rules."""

    def _assert_valid(self, move):
        xml, errors = move._ar_peppol_export()
        self.assertFalse(errors, f"{move.name}: builder errors {errors}")
        fatal = move._ar_peppol_validate_xml(xml)
        findings = [
            f"{f.rule} @ {f.location}: {f.official_text}" for f in move.ar_peppol_finding_ids if f.flag == "fatal"
        ]
        self.assertEqual(fatal, 0, f"{move.name} ({move.partner_id.name}): " + "\n".join(findings))
        self.assertEqual(move.ar_peppol_state, "ready")
        return etree.fromstring(xml)

    def test_buyers_by_country(self):
        for partner in (self.partner_be, self.partner_nl, self.partner_de, self.partner_fr, self.partner_lu):
            with self.subTest(country=partner.country_id.code):
                tax = self.tax_21 if partner == self.partner_be else self.tax_eu
                move = self._invoice(partner, [{"taxes": tax}], delivery_date="2026-01-10")
                root = self._assert_valid(move)
                endpoint = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
                self.assertEqual(endpoint.get("schemeID"), partner.peppol_eas)

    def test_several_vat_rates_and_discounts(self):
        move = self._invoice(
            self.partner_be,
            [
                {"taxes": self.tax_21, "price_unit": 99.99, "quantity": 3, "discount": 10},
                {"taxes": self.tax_12, "price_unit": 45.55, "quantity": 7},
                {"taxes": self.tax_6, "price_unit": 0.333, "quantity": 13, "discount": 2.5},
            ],
        )
        root = self._assert_valid(move)
        self.assertEqual(len(root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)), 3)

    def test_rounding_sensitive_amounts(self):
        move = self._invoice(
            self.partner_be,
            [{"taxes": self.tax_21, "price_unit": 0.4567, "quantity": 3.333} for _i in range(7)]
            + [{"taxes": self.tax_6, "price_unit": 1039.99, "quantity": 1}],
        )
        self._assert_valid(move)

    def test_reverse_charge_exempt_export(self):
        cases = {
            "AE": (self.partner_be, self.tax_cocontractant),
            "E": (self.partner_be, self.tax_exempt),
            "K": (self.partner_de, self.tax_eu),
            "G": (self.partner_us, self.tax_export),
        }
        for code, (partner, tax) in cases.items():
            with self.subTest(category=code):
                move = self._invoice(
                    partner, [{"taxes": tax}, {"taxes": tax, "price_unit": 12.5}], delivery_date="2026-01-10"
                )
                root = self._assert_valid(move)
                category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
                self.assertEqual(category.findtext("cbc:ID", namespaces=NS), code)
                self.assertTrue(
                    category.findtext("cbc:TaxExemptionReasonCode", namespaces=NS)
                    or category.findtext("cbc:TaxExemptionReason", namespaces=NS)
                )

    def test_foreign_currency(self):
        usd = self.setup_other_currency("USD", rates=[("2026-01-01", 1.1)])
        move = self._invoice(
            self.partner_de,
            [{"taxes": self.tax_eu, "price_unit": 333.33}],
            currency_id=usd.id,
            delivery_date="2026-01-10",
        )
        root = self._assert_valid(move)
        self.assertEqual(root.findtext("cbc:TaxCurrencyCode", namespaces=NS), "EUR")
        move_be = self._invoice(self.partner_be, [{"taxes": self.tax_21, "price_unit": 333.33}], currency_id=usd.id)
        root = self._assert_valid(move_be)
        amounts = {el.get("currencyID") for el in root.findall("cac:TaxTotal/cbc:TaxAmount", NS)}
        self.assertEqual(amounts, {"USD", "EUR"})

    def test_credit_note(self):
        invoice = self._invoice(self.partner_be, [{"taxes": self.tax_21}, {"taxes": self.tax_6}])
        refund = self._invoice(
            self.partner_be, [{"taxes": self.tax_21}], move_type="out_refund", reversed_entry_id=invoice.id
        )
        root = self._assert_valid(refund)
        self.assertEqual(etree.QName(root).localname, "CreditNote")
        self.assertEqual(
            root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS), invoice.name
        )

    def test_payment_means_structured_reference(self):
        move = self._invoice(self.partner_be, [{}])
        root = self._assert_valid(move)
        means = root.find("cac:PaymentMeans", NS)
        self.assertEqual(means.findtext("cbc:PaymentMeansCode", namespaces=NS), "30")
        self.assertEqual(means.findtext("cbc:PaymentID", namespaces=NS), move.payment_reference)
        self.assertEqual(means.findtext("cac:PayeeFinancialAccount/cbc:ID", namespaces=NS), "BE15001559627230")
        self.assertTrue(root.findtext("cac:PaymentTerms/cbc:Note", namespaces=NS))
        self.assertEqual(
            root.findtext("cac:OrderReference/cbc:ID", namespaces=NS)
            or root.findtext("cbc:BuyerReference", namespaces=NS),
            "PO-4711",
        )

    def test_special_characters(self):
        partner = self._peppol_partner(
            "Ça & Cie <Bâtiments> \"Œuvre\" 'ß'",
            "BE",
            vat="BE0477472701",
            street="Rue d'Été 5 & 7",
            zip="1000",
            city="Bruxelles",
        )
        move = self._invoice(partner, [{"name": "Émail <b>bold</b> & co — 5 € ≤ 10 €\nsecond line"}])
        root = self._assert_valid(move)
        self.assertIn(
            "Émail <b>bold</b>",
            root.findtext("cac:InvoiceLine/cac:Item/cbc:Description", namespaces=NS)
            or root.findtext("cac:InvoiceLine/cac:Item/cbc:Name", namespaces=NS),
        )

    def test_incomplete_address_is_a_clear_error(self):
        partner = self._peppol_partner("No Country", "BE", vat="BE0477472701")
        partner.country_id = False
        move = self._invoice(partner, [{}])
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "invalid")
        self.assertTrue(move.ar_peppol_fatal_count)
        self.assertTrue(
            any("country" in (f.message or "").lower() for f in move.ar_peppol_finding_ids),
            move.ar_peppol_finding_ids.mapped("message"),
        )

    def test_document_discount_line(self):
        move = self._invoice(
            self.partner_be,
            [
                {"taxes": self.tax_21, "price_unit": 200.0},
                {"taxes": self.tax_21, "price_unit": -20.0, "name": "Discount 10%"},
            ],
        )
        self._assert_valid(move)

    def test_dutch_buyer_known_by_vat_only_no_empty_company_id(self):
        # Odoo's own builder writes <cbc:CompanyID schemeID="0106"/> (empty: PEPPOL-EN16931-R008)
        buyer = self._peppol_partner(
            "Koper BV", "NL", vat="NL000099998B57", street="Damrak 1", zip="1012 LG", city="Amsterdam"
        )
        self.assertFalse(buyer.company_registry)
        move = self._invoice(buyer, [{"taxes": self.tax_eu}], delivery_date="2026-01-10")
        root = self._assert_valid(move)
        legal = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity", NS)
        self.assertIsNone(legal.find("cbc:CompanyID", NS))
        self.assertFalse([el for el in root.iter() if len(el) == 0 and not (el.text or "").strip()])

    def test_buyer_without_electronic_address(self):
        # derivable from the VAT number: written (R010 satisfied)
        buyer = self._peppol_partner(
            "Käufer GmbH", "DE", vat="DE123456788", street="Hauptstraße 5", zip="10115", city="Berlin"
        )
        buyer.write({"peppol_eas": False, "peppol_endpoint": False})
        root = self._assert_valid(self._invoice(buyer, [{"taxes": self.tax_eu}], delivery_date="2026-01-10"))
        endpoint = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
        self.assertEqual((endpoint.get("schemeID"), endpoint.text), ("9930", "DE123456788"))
        # nothing to derive (buyer outside the EU, no Peppol address): refused before any rule runs,
        # even for a company whose rules are missing
        outside = self._peppol_partner("Buyer Inc", "US", street="1 Main Street", zip="10001", city="New York")
        self.company.ar_peppol_rules_path = "/nonexistent/rules"
        move = self._invoice(outside, [{"taxes": self.tax_export}])
        _xml, errors = move._ar_peppol_export()
        self.assertTrue(any("Peppol address" in error for error in errors), errors)
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "invalid")
        self.assertEqual(move.ar_peppol_finding_ids.mapped("stage"), ["EXPORT"])
