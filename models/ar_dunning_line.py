import re

from markupsafe import Markup

from odoo import models

QR_BLOCK_RE = re.compile(r'<div class="ar_suite_epc_qr".*?</div>', re.S)


class ArDunningLine(models.Model):
    _inherit = "ar.dunning.line"

    # ------------------------------------------------------------------ EPC QR (account_qr_code_sepa)
    def _ar_suite_qr_bank(self):
        """The company's IBAN account the EPC QR code pays to."""
        self.ensure_one()
        return self.company_id.partner_id.bank_ids.filtered(lambda bank: bank.acc_type == "iban")[:1]

    def _ar_suite_qr_params(self):
        self.ensure_one()
        invoices = self.statement_item_ids.move_id
        communication = " ".join(invoices.mapped("name"))[:140] or self.partner_id.display_name[:140]
        return {
            "amount": self.amount_claimed,
            "free_communication": communication,
            "structured_communication": None,
            "currency": self.currency_id,
            "debtor_partner": self.partner_id,
            "qr_method": "sct_qr",
            "silent_errors": True,
        }

    def _ar_suite_epc_qr_url(self):
        """Absolute URL of the EPC QR image (e-mails), or False when no QR can be made."""
        self.ensure_one()
        bank = self._ar_suite_qr_bank()
        if not bank or self.amount_claimed <= 0:
            return False
        url = bank.build_qr_code_url(**self._ar_suite_qr_params())
        return url and f"{self.get_base_url()}{url}"

    def _ar_suite_epc_qr_base64(self):
        """The EPC QR image as a data URI (letters), or False."""
        self.ensure_one()
        bank = self._ar_suite_qr_bank()
        if not bank or self.amount_claimed <= 0:
            return False
        return bank.build_qr_code_base64(**self._ar_suite_qr_params()) or False

    def _ar_suite_qr_block(self, src):
        self.ensure_one()
        env = self.with_context(lang=self.lang).env
        return Markup(
            '<div class="ar_suite_epc_qr" style="margin-top: 16px;">'
            '<p style="margin: 0 0 4px 0; font-size: 13px;">%s</p>'
            '<img src="%s" alt="EPC QR" width="140" height="140" style="width: 140px; height: 140px;"/>'
            "</div>"
        ) % (env._("Or scan this code with your banking app to pay by transfer:"), src)

    @staticmethod
    def _ar_suite_before_signature(body, block):
        """The body with ``block`` inserted before its last paragraph (sign-off and signature):
        every reminder ends with its signature."""
        body = str(body or "")
        last = body.rfind("<p")
        if last < 0:
            return Markup(body) + block
        return Markup(body[:last]) + block + Markup(body[last:])

    def _ar_suite_letter_body(self):
        """The reminder text for the printed letter: the QR image inlined (no web fetch)."""
        self.ensure_one()
        body = QR_BLOCK_RE.sub("", str(self.body_html or ""))
        qr = self._ar_suite_epc_qr_base64()
        return self._ar_suite_before_signature(body, self._ar_suite_qr_block(qr)) if qr else Markup(body)

    def write(self, vals):
        # EXTENDS 'ar_dunning'
        # A freshly rendered reminder gets the EPC QR code under the pay link, when the company
        # has an IBAN account and the amount can be paid by SEPA transfer.
        res = super().write(vals)
        if vals.get("body_html") and not self.env.context.get("ar_suite_qr_done"):
            for line in self:
                url = line._ar_suite_epc_qr_url()
                if url and "ar_suite_epc_qr" not in str(line.body_html):
                    line.with_context(ar_suite_qr_done=True).write(
                        {"body_html": line._ar_suite_before_signature(line.body_html, line._ar_suite_qr_block(url))}
                    )
        return res
