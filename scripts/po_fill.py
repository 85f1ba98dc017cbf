"""Fill translations into a module's nl/fr/de .po files from a JSON file.

    .venv/bin/python scripts/po_fill.py ar_dunning translations.json

translations.json: {"<msgid>": {"nl": "...", "fr": "...", "de": "..."}, ...}
Only entries present in the .po (run `make i18n` first) are filled; the rest is reported.
Use scripts/po_fill.py --missing <module> to list what is still untranslated.
"""

import json
import sys
from pathlib import Path

import polib

REPO = Path(__file__).resolve().parent.parent


def module_dir(module):
    return REPO if module == "ar_suite" else REPO / module


def main():
    if sys.argv[1] == "--missing":
        for lang in ("nl", "fr", "de"):
            po = polib.pofile(str(module_dir(sys.argv[2]) / "i18n" / f"{lang}.po"))
            for entry in po.untranslated_entries() + po.fuzzy_entries():
                sys.stdout.write(f"{lang}\t{json.dumps(entry.msgid, ensure_ascii=False)}\n")
        return
    module, source = sys.argv[1], sys.argv[2]
    table = json.loads(Path(source).read_text(encoding="utf-8"))
    for lang in ("nl", "fr", "de"):
        path = module_dir(module) / "i18n" / f"{lang}.po"
        po = polib.pofile(str(path), wrapwidth=78)
        ids = {e.msgid for e in po}
        for entry in po:
            if entry.msgid in table and table[entry.msgid].get(lang):
                entry.msgstr = table[entry.msgid][lang]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
        po.save(str(path))
        unknown = [k for k in table if k not in ids]
        left = len(po.untranslated_entries())
        sys.stdout.write(f"{module} {lang}.po: {left} untranslated; {len(unknown)} JSON keys not in the .po\n")


if __name__ == "__main__":
    main()
