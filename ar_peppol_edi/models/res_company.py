import io
import os
import zipfile

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..tools import rules_store


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_peppol_rules_path = fields.Char(
        string="Peppol rules location",
        help="Folder or ZIP file on the server holding the official compiled rules "
        "(CEN-EN16931-UBL.xslt and PEPPOL-EN16931-UBL.xslt). Without it, invoices are not validated "
        "and cannot be sent on Peppol.",
    )
    ar_peppol_rules_url = fields.Char(
        string="Peppol rules download URL",
        help="Address of a ZIP of the official validation artefacts, fetched by 'Download the rules'.",
    )
    ar_peppol_connector_id = fields.Many2one(
        "ar.peppol.connector",
        string="Peppol access point",
        domain="[('company_id', '=', id)]",
        help="The access point used to send invoices on Peppol (own access point channel).",
    )

    def _ar_peppol_rules_location(self):
        """The company's own rules (folder/ZIP/downloaded URL), else the system-wide setting,
        else the product's pinned official rules (offline mirror or verified download)."""
        self.ensure_one()
        return (
            self.ar_peppol_rules_path
            or self.env["ir.config_parameter"].sudo().get_param("ar_peppol_edi.rules_path")  # sudo: system setting
            or rules_store.default_location(self._ar_peppol_rules_data_dir())
        )

    @api.model
    def _ar_peppol_rules_data_dir(self):
        return config["data_dir"]

    @api.model
    def _ar_peppol_rule_artefacts(self):
        return rules_store.ARTEFACTS

    @api.model
    def _ar_peppol_install_official_rules(self):
        """Download the pinned official artefacts, check their SHA-256 and store them in the data
        directory, where every company without rules of its own finds them."""
        if not self.env.is_admin():
            raise UserError(self.env._("Only an administrator can download the Peppol rules."))
        try:
            return rules_store.install(self._ar_peppol_rules_data_dir(), artefacts=self._ar_peppol_rule_artefacts())
        except rules_store.RulesDownloadError as exc:
            raise UserError(
                self.env._(
                    "The official Peppol rules were not installed: %(error)s. Nothing was changed. Without "
                    "network access, set the environment variable AR_PEPPOL_RULES to a folder holding the rules.",
                    error=str(exc),
                )
            ) from exc

    def _ar_peppol_fetch_rules(self):
        """Download the rules ZIP from ``ar_peppol_rules_url`` into the data directory and point
        the company at it. The ZIP must contain the compiled rules, else nothing changes."""
        self.ensure_one()
        if not self.ar_peppol_rules_url:
            raise UserError(self.env._("Set the Peppol rules download URL first."))
        try:
            response = requests.get(self.ar_peppol_rules_url, timeout=60)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise UserError(
                self.env._("The Peppol rules cannot be downloaded: %(error)s", error=str(exc)[:300])
            ) from exc
        try:
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                names = [os.path.basename(name).upper() for name in archive.namelist()]
        except zipfile.BadZipFile as exc:
            raise UserError(self.env._("The downloaded Peppol rules are not a ZIP file.")) from exc
        if not any(n.startswith("CEN-EN16931-UBL") for n in names) or not any(
            n.startswith("PEPPOL-EN16931-UBL") and n.endswith((".XSL", ".XSLT")) for n in names
        ):
            raise UserError(
                self.env._("The downloaded ZIP does not contain the compiled CEN and Peppol rules (.xslt).")
            )
        folder = os.path.join(config["data_dir"], "ar_peppol_rules", self.env.cr.dbname)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"rules-company-{self.id}.zip")
        with open(path, "wb") as handle:
            handle.write(response.content)
        self.ar_peppol_rules_path = path
        return path
