"""Repository-level checks that need no Odoo registry: layout, manifests, translations."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FEATURE_MODULES = ["ar_customer_centric", "ar_peppol_edi", "ar_dunning"]
MODULE_DIRS = {"ar_suite": REPO, **{m: REPO / m for m in FEATURE_MODULES}}
LANGS = ["nl", "fr", "de"]


def manifest(module):
    return ast.literal_eval((MODULE_DIRS[module] / "__manifest__.py").read_text())


@pytest.mark.parametrize("module", sorted(MODULE_DIRS))
def test_manifest(module):
    data = manifest(module)
    assert data["version"].startswith("19.0.") and len(data["version"].split(".")) == 5
    assert data["license"] == "LGPL-3"
    assert "account_peppol" not in data["depends"], "never depend on Odoo's own access point"
    for path in data.get("data", []) + data.get("demo", []):
        assert (MODULE_DIRS[module] / path).is_file(), f"{module}: {path} is listed but missing"


def test_umbrella_depends_on_the_three_modules():
    assert sorted(manifest("ar_suite")["depends"]) == sorted(FEATURE_MODULES)
    imports = [
        line
        for line in (REPO / "__init__.py").read_text().splitlines()
        if "import" in line and not line.lstrip().startswith("#")
    ]
    for module in FEATURE_MODULES:
        assert not any(module in line for line in imports), "the umbrella must not import the feature modules"


@pytest.mark.parametrize("module", sorted(MODULE_DIRS))
def test_module_layout(module):
    root = MODULE_DIRS[module]
    assert (root / "i18n" / f"{module}.pot").is_file()
    for lang in LANGS:
        assert (root / "i18n" / f"{lang}.po").is_file()
    assert (root / "tests" / "__init__.py").is_file()
    if module != "ar_suite":
        for part in ("DESCRIPTION.md", "USAGE.md", "CONFIGURE.md"):
            assert (root / "readme" / part).is_file(), f"{module}: readme/{part} missing"
        assert (root / "security").is_dir()


def _po_entries(path):
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        if "msgid" not in block or 'msgid ""\nmsgstr ""\n"Project-Id-Version' in block:
            continue
        msgid = "".join(re.findall(r'"(.*)"', re.search(r"^msgid((?:\s*\".*\")+)", block, re.M).group(1)))
        if not msgid:
            continue
        m = re.search(r"^msgstr((?:\s*\".*\")+)", block, re.M)
        msgstr = "".join(re.findall(r'"(.*)"', m.group(1))) if m else ""
        yield msgid, msgstr, "#, fuzzy" in block


@pytest.mark.parametrize("module", sorted(MODULE_DIRS))
@pytest.mark.parametrize("lang", LANGS)
def test_translations_complete(module, lang):
    root = MODULE_DIRS[module]
    pot_ids = {msgid for msgid, _s, _f in _po_entries(root / "i18n" / f"{module}.pot")}
    po = {msgid: (msgstr, fuzzy) for msgid, msgstr, fuzzy in _po_entries(root / "i18n" / f"{lang}.po")}
    missing = sorted(pot_ids - set(po))
    assert not missing, f"{module} {lang}.po lacks {len(missing)} entries, e.g. {missing[:3]}"
    empty = sorted(k for k, (s, fuzzy) in po.items() if not s or fuzzy)
    assert not empty, f"{module} {lang}.po has {len(empty)} untranslated/fuzzy entries, e.g. {empty[:3]}"
    # placeholders survive translation
    for msgid, (msgstr, _f) in po.items():
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", msgstr)), (
            f"{module} {lang}.po: placeholders differ in {msgid!r}"
        )
