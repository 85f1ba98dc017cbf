from odoo import api, fields, models

from ..tools.ubl_validator import FATAL_FLAGS


class ArPeppolFinding(models.Model):
    _name = "ar.peppol.finding"
    _description = "Peppol validation finding"
    _order = "flag_rank, id"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    stage = fields.Char(help="Which rule set raised it: XSD, CEN, PEPPOL, EXPORT.")
    rule = fields.Char()
    flag = fields.Selection(
        selection=[("fatal", "Blocking"), ("warning", "Warning"), ("info", "Information")],
        required=True,
        default="fatal",
    )
    flag_rank = fields.Integer(compute="_compute_flag_rank", store=True)
    message = fields.Char(
        string="What is wrong", help="In plain words, in your language when the rule is a common one."
    )
    fix = fields.Char(string="What to fix")
    location = fields.Char(string="Where in the document")
    official_text = fields.Text(string="Official rule text")
    rules_version = fields.Char(
        string="Rules version", help="The release of the official rules that judged the document."
    )

    @api.depends("flag")
    def _compute_flag_rank(self):
        for finding in self:
            finding.flag_rank = {"fatal": 0, "warning": 1}.get(finding.flag, 2)

    @api.model
    def _explanations(self):
        """Rule id -> (what is wrong, what to fix) for the common findings."""
        return {
            "PEPPOL-EN16931-R003": (
                self.env._("The buyer reference or the purchase order number is missing."),
                self.env._("Fill in the Customer Reference of the invoice (or the PO number)."),
            ),
            "PEPPOL-EN16931-R010": (
                self.env._("The customer has no Peppol electronic address."),
                self.env._("Set the Peppol address (EAS and endpoint) on the customer."),
            ),
            "PEPPOL-EN16931-R020": (
                self.env._("Your company has no Peppol electronic address."),
                self.env._("Set the Peppol address (EAS and endpoint) on your company."),
            ),
            "BR-CO-09": (
                self.env._("A VAT number does not start with its country code."),
                self.env._("Correct the Tax ID of your company or of the customer (e.g. BE0477472701)."),
            ),
            "BR-61": (
                self.env._("Payment by bank transfer needs the account number."),
                self.env._("Set the Recipient Bank account on the invoice."),
            ),
            "BR-E-10": (
                self.env._("An exempt VAT line has no exemption reason."),
                self.env._("Set the exemption reason on the tax (Peppol tab of the tax)."),
            ),
            "BR-AE-10": (
                self.env._("A reverse-charge VAT line has no exemption reason."),
                self.env._("Set the exemption reason on the reverse-charge tax."),
            ),
            "BR-IC-11": (
                self.env._("An intra-community supply needs the delivery date or the invoicing period."),
                self.env._("Set the delivery date on the invoice."),
            ),
            "BR-IC-12": (
                self.env._("An intra-community supply needs the delivery country."),
                self.env._("Set the country on the delivery address."),
            ),
            "BR-08": (
                self.env._("Your company's postal address is missing."),
                self.env._("Complete your company's address."),
            ),
            "BR-09": (
                self.env._("Your company's country is missing."),
                self.env._("Set the country of your company."),
            ),
            "BR-10": (
                self.env._("The customer's postal address is missing."),
                self.env._("Complete the customer's address."),
            ),
            "BR-11": (
                self.env._("The customer's country is missing."),
                self.env._("Set the country of the customer."),
            ),
            "BR-CO-15": (
                self.env._("The invoice total with VAT does not add up."),
                self.env._("Check the rounding of the taxes and report it to your administrator."),
            ),
            "BR-CO-10": (
                self.env._("The sum of the lines does not add up."),
                self.env._("Check the line amounts and report it to your administrator."),
            ),
            "BR-S-08": (
                self.env._("A standard-rate VAT base does not add up."),
                self.env._("Check the taxes of the lines and report it to your administrator."),
            ),
            "PEPPOL-EN16931-R041": (
                self.env._("An allowance or charge amount is not consistent."),
                self.env._("Check the discounts of the invoice."),
            ),
            "XSD": (
                self.env._("The document does not follow the UBL 2.1 structure."),
                self.env._("Report it to your administrator."),
            ),
        }

    @api.model
    def _response_labels(self):
        return {
            "AB": self.env._("Received by the buyer"),
            "IP": self.env._("In process"),
            "UQ": self.env._("Under query"),
            "CA": self.env._("Conditionally accepted"),
            "RE": self.env._("Rejected"),
            "AP": self.env._("Accepted"),
            "PD": self.env._("Paid"),
        }

    @api.model
    def _finding_vals(self, move, finding, version=False):
        message, fix = self._explanations().get(finding["id"], (False, False))
        if finding["stage"] == "XSD":
            message, fix = self._explanations()["XSD"]
        flag = "fatal" if finding["flag"] in FATAL_FLAGS else ("warning" if finding["flag"] == "warning" else "info")
        return {
            "move_id": move.id,
            "stage": finding["stage"],
            "rule": finding["id"],
            "flag": flag,
            "message": message or finding["text"][:250],
            "fix": fix,
            "location": finding["location"][:250],
            "official_text": finding["text"],
            "rules_version": version or False,
        }

    @api.model
    def _not_validated_vals(self, move, reason):
        return {
            "move_id": move.id,
            "stage": "RULES",
            "rule": "NOT-VALIDATED",
            "flag": "fatal",
            "message": self.env._("Not validated: the official Peppol rules are not available."),
            "fix": self.env._(
                "Ask your administrator to click 'Download the official rules' in the Peppol settings "
                "(or, offline, to set AR_PEPPOL_RULES to a folder holding the rules)."
            ),
            "official_text": reason,
        }

    @api.model
    def _export_error_vals(self, move, error):
        return {
            "move_id": move.id,
            "stage": "EXPORT",
            "rule": "EXPORT",
            "flag": "fatal",
            "message": str(error)[:250],
            "fix": self.env._("Complete the invoice or the partner as described, then check again."),
            "official_text": str(error),
        }
