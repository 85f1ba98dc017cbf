from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_structured_reference_type = fields.Selection(
        selection=[
            ("journal", "As set on the sales journal"),
            ("be", "Belgian structured communication (OGM/VCS)"),
            ("rf", "International creditor reference (RF, ISO 11649)"),
            ("nl", "Dutch payment reference (betalingskenmerk)"),
        ],
        string="Structured Payment Reference",
        default="journal",
        required=True,
        help="Reference printed on customer invoices and statements, with the EPC QR code, so "
        "that incoming payments are matched automatically.",
    )
    ar_segment_default_ids = fields.One2many("ar.segment.default", "company_id", string="Segment Defaults")
    ar_auto_send = fields.Boolean(
        string="Send Invoices Automatically",
        help="Queue every posted customer invoice for sending through the customer's channel.",
    )

    ar_instalment_notice_days = fields.Integer(
        string="Instalment Notice (Days Before)",
        default=5,
        help="Days before each instalment of an invoice with several due lines (a multi-line payment term or "
        "a payment plan) that the customer receives a notice with the amount, the date and a pay link. "
        "0 sends none. Autopay customers receive the pre-notification of the collection instead.",
    )

    def _ar_reference_label(self, reference="", capital=False):
        """What the payment reference is called in the reader's language, after the company's reference type.

        Belgium: "gestructureerde mededeling" / "communication structurée"; the Netherlands:
        "betalingskenmerk"; ISO 11649: RF creditor reference. With the journal's own reference
        the label follows the reference's form (+++…+++ is Belgian, RF… is ISO 11649).
        """
        self.ensure_one()
        kind = self.ar_structured_reference_type
        if kind not in ("be", "rf", "nl"):
            compact = (reference or "").replace(" ", "")
            kind = "be" if compact[:3] in ("+++", "***") else "rf" if compact[:2].upper() == "RF" else ""
        label = {
            "be": self.env._("structured communication"),
            "rf": self.env._("creditor reference (RF)"),
            "nl": self.env._("payment reference (betalingskenmerk)"),
        }.get(kind) or self.env._("payment reference")
        return label[:1].upper() + label[1:] if capital else label

    def _ar_sepa_mandate_text(self, scheme):
        """The EPC's mandatory mandate text of the scheme, in the reader's language.

        English: EPC SEPA Direct Debit Core / B2B rulebooks, mandate (DS-01) wording; the nl and de .po
        give the national communities' versions (Betaalvereniging Nederland, Deutsche Kreditwirtschaft),
        nl_BE and fr renderings of the English where no official text could be read. CORE states the
        8-week refund right under the bank's terms; B2B has no refund right after the debit
        (repo_tests/test_language.py checks both in every language, and the official texts word for word).

        Sources (checked 2026-12-02; each translation carries its own source as a translator's comment in
        the .po, kept by `make i18n`):
        - English (this msgid): EPC392-08 "Guidelines for the Appearance of Mandates for the SDD Core and
          SDD B2B Schemes", version 5.0, 24 September 2019, legal wording of the Core and B2B specimens, as
          quoted by https://gocardless.com/guides/sepa/mandate-contents/ (the EPC document itself could
          only be read as far as its table of contents).
        - de.po: Deutsche Kreditwirtschaft "SEPA-Lastschriftmandat" / "SEPA-Firmenlastschrift-Mandat",
          word for word as quoted by https://gocardless.com/de/handbuch/sepa/mandate-inhalt/ (2021-06).
        - nl.po: Betaalvereniging Nederland consent texts (standaard / zakelijke Europese incasso), as quoted
          by https://gocardless.com/nl/handleidingen/sepa/machtiging-inhoud/ (Jan 2020) and ING's standard
          machtigingskaart.
        - fr.po (France, and Belgian French: fr_BE.po has no entry): the Core text French banks print
          (banquepopulaire.fr, read up to its refund clause); the rest of the French Core text and the
          French B2B text are renderings of the EPC English text.
        - nl_BE.po: renderings of the EPC English text. The EPC publishes legally checked translations per
          banking community (Belgium: Flemish, French, German; France: French), "SDD Core Mandate
          Translations" https://www.europeanpaymentscouncil.eu/other/core-sdd-mandate-translations and
          "SEPA B2B DD Mandate Translations"
          http://www.europeanpaymentscouncil.eu/content.cfm?page=sepa_b2b_dd_mandate_translations, but
          their documents could not be read here; no Febelfin or CFONB model text was found.
          The company's bank's mandate form prevails (readme, limits).
        """
        self.ensure_one()
        if scheme == "B2B":
            return self.env._(
                "By signing this mandate form, you authorise (A) %(creditor)s to send instructions to your bank "
                "to debit your account and (B) your bank to debit your account in accordance with the instructions "
                "from %(creditor)s. This mandate is only intended for business-to-business transactions. You are "
                "not entitled to a refund from your bank after your account has been debited, but you are entitled "
                "to request your bank not to debit your account up until the day on which the payment is due.",
                creditor=self.name,
            )
        return self.env._(
            "By signing this mandate form, you authorise (A) %(creditor)s to send instructions to your bank to "
            "debit your account and (B) your bank to debit your account in accordance with the instructions from "
            "%(creditor)s. As part of your rights, you are entitled to a refund from your bank under the terms "
            "and conditions of your agreement with your bank. A refund must be claimed within 8 weeks starting "
            "from the date on which your account was debited. Your rights are explained in a statement that you "
            "can obtain from your bank.",
            creditor=self.name,
        )
