import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.ar_peppol_edi.tools import rules_store

from .common import PeppolCommon


@tagged("post_install", "-at_install")
class TestRulesStore(PeppolCommon):
    """The product's own download of the pinned official rules, against a local server that
    serves the artefacts as their official addresses would (this machine has no internet)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rules = cls.rules_dir
        xsdrt = os.path.join(cls.rules_location, "ubl-2.1", "xsdrt")
        with open(os.path.join(rules, "CEN-EN16931-UBL.xslt"), "rb") as handle:
            cen = handle.read()
        with open(os.path.join(rules, "PEPPOL-EN16931-UBL.xslt"), "rb") as handle:
            peppol = handle.read()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:  # laid out like OASIS' UBL-2.1.zip
            for root, _dirs, names in os.walk(xsdrt):
                for name in names:
                    path = os.path.join(root, name)
                    archive.write(path, "xsdrt/" + os.path.relpath(path, xsdrt))
        cls.files = {"/cen.xslt": cen, "/peppol.xslt": peppol, "/UBL-2.1.zip": buffer.getvalue()}
        files = cls.files

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cls.addClassCleanup(server.server_close)
        cls.addClassCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        peppol_sha = hashlib.sha256(peppol).hexdigest()
        cls.artefacts = [dict(a) for a in rules_store.ARTEFACTS]
        cls.artefacts[0]["url"] = f"{url}/cen.xslt"
        cls.artefacts[1].update(url=f"{url}/peppol.xslt", sha256=peppol_sha)
        cls.artefacts[2]["url"] = f"{url}/UBL-2.1.zip"
        cls.url = url
        # the served Peppol XSLT is a known compilation of the 3.0.21 rules (the pinned one or the
        # mirror's SchXslt compilation); the CEN file and the UBL schemas are checked against the
        # product's real pins
        assert rules_store.KNOWN_RULES.get(peppol_sha) == "Peppol BIS Billing 3.0.21"

    def setUp(self):
        super().setUp()
        self.data_dir = tempfile.mkdtemp(prefix="ar_peppol_rules_test_")
        self.addCleanup(shutil.rmtree, self.data_dir, ignore_errors=True)
        # no offline mirror for these tests: the store in the data directory is what counts
        environ = {k: v for k, v in os.environ.items() if k != rules_store.ENV_VAR}
        patcher = patch.dict(os.environ, environ, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        patcher = patch.object(type(self.env["res.company"]), "_ar_peppol_rules_data_dir", lambda _self: self.data_dir)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_pins_are_complete(self):
        for artefact in rules_store.ARTEFACTS:
            self.assertTrue(artefact["url"].startswith("https://"), artefact)
            self.assertTrue(artefact.get("sha256") or artefact.get("members"), artefact)
        self.assertEqual(rules_store.CEN_SHA256, hashlib.sha256(self.files["/cen.xslt"]).hexdigest())

    def test_no_rules_means_not_validated_with_the_way_to_fix_it(self):
        self.assertIsNone(self.company._ar_peppol_rules_location())
        move = self._invoice(self.partner_be, [{}])
        with self.assertLogs("odoo.addons.ar_peppol_edi.models.account_move", level="WARNING"):
            move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "to_validate")
        self.assertEqual(move.ar_peppol_finding_ids.rule, "NOT-VALIDATED")
        self.assertIn("AR_PEPPOL_RULES", move.ar_peppol_finding_ids.official_text)

    def test_download_verify_store_and_use_by_default(self):
        folder = rules_store.install(self.data_dir, artefacts=self.artefacts)
        self.assertEqual(folder, rules_store.store_folder(self.data_dir))
        for relpath in rules_store.UBL_XSDRT:
            self.assertTrue(os.path.isfile(os.path.join(folder, "ubl-2.1", "xsdrt", relpath)))
        self.assertEqual(self.company._ar_peppol_rules_location(), folder)
        move = self._invoice(self.partner_be, [{}])
        move.action_ar_peppol_validate()
        self.assertEqual(move.ar_peppol_state, "ready", move.ar_peppol_finding_ids.mapped("official_text"))
        self.assertEqual(move.ar_peppol_rules_version, "CEN EN 16931 UBL 1.3.16 + Peppol BIS Billing 3.0.21")
        # a finding records which rules judged it
        tax_s0 = self.tax_21.copy({"name": "0% S", "amount": 0.0, "ubl_cii_tax_category_code": "S"})
        bad = self._invoice(self.partner_be, [{"taxes": tax_s0}])
        bad.action_ar_peppol_validate()
        self.assertEqual(
            set(bad.ar_peppol_finding_ids.mapped("rules_version")),
            {"CEN EN 16931 UBL 1.3.16 + Peppol BIS Billing 3.0.21"},
        )

    def test_tampered_artefact_is_refused_and_nothing_is_stored(self):
        artefacts = [dict(a) for a in self.artefacts]
        artefacts[0]["sha256"] = "0" * 64
        with self.assertRaisesRegex(rules_store.RulesDownloadError, "does not match the pinned"):
            rules_store.install(self.data_dir, artefacts=artefacts)
        artefacts = [dict(a) for a in self.artefacts]
        artefacts[2]["members"] = dict(rules_store.UBL_XSDRT, **{"maindoc/UBL-Invoice-2.1.xsd": "1" * 64})
        with self.assertRaisesRegex(rules_store.RulesDownloadError, "UBL-Invoice-2.1.xsd"):
            rules_store.install(self.data_dir, artefacts=artefacts)
        artefacts = [dict(a) for a in self.artefacts]
        artefacts[1]["url"] = f"{self.url}/missing.xslt"
        with self.assertRaisesRegex(rules_store.RulesDownloadError, "404"):
            rules_store.install(self.data_dir, artefacts=artefacts)
        self.assertFalse(rules_store.installed(self.data_dir))
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "ar_peppol_rules")), [])
        self.assertIsNone(self.company._ar_peppol_rules_location())

    def test_settings_button_admin_only(self):
        Company = type(self.env["res.company"])
        with patch.object(Company, "_ar_peppol_rule_artefacts", lambda _self: self.artefacts):
            settings = self.env["res.config.settings"].create({})
            action = settings.action_ar_peppol_install_official_rules()
            self.assertEqual(action["params"]["type"], "success")
            self.assertIn("Peppol BIS Billing 3.0.21", action["params"]["message"])
            accountant = self.env["res.users"].create(
                {
                    "name": "Accountant",
                    "login": "ar_peppol_rules_accountant",
                    "group_ids": [(6, 0, [self.env.ref("account.group_account_manager").id])],
                }
            )
            with self.assertRaises(UserError):
                self.env["res.company"].with_user(accountant)._ar_peppol_install_official_rules()
