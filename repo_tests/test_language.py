"""Customer-facing language: one register per surface, salutations and signatures, the glossary.

The rules live in i18n/GLOSSARY.md (the tables marked "checked"); this test reads them and the
.po files of the four modules. Effective texts: nl.po for nl, nl_BE.po over nl.po for nl_BE, fr.po for
fr (France French), fr_BE.po over fr.po for fr_BE (Belgian French), as Odoo loads them.
"""

import re
from pathlib import Path

import polib
import pytest

REPO = Path(__file__).resolve().parent.parent
MODULE_DIRS = {
    "ar_suite": REPO,
    "ar_customer_centric": REPO / "ar_customer_centric",
    "ar_peppol_edi": REPO / "ar_peppol_edi",
    "ar_dunning": REPO / "ar_dunning",
}
LOCALES = ["nl", "nl_BE", "fr", "fr_BE", "de"]
# regional overrides Odoo loads over the language's .po: {locale: base locale}
OVERRIDES = {"nl_BE": "nl", "fr_BE": "fr"}
GLOSSARY = REPO / "i18n" / "GLOSSARY.md"

# pronouns of the informal and the formal register, per language (whole words)
INFORMAL = {
    "nl": r"\b(je|jij|jou|jouw|jullie)\b",
    "fr": r"\b(tu|toi|ton|ta|tes|te)\b",
    "de": r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|euch|euer|eure)\b",
}
FORMAL = {
    "nl": r"\b(u|uw)\b",
    "fr": r"\b(vous|votre|vos)\b",
    "de": r"\b(Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b",
}
# customer-facing occurrences: e-mail and letter templates, PDF reports, portal pages, portal controllers
CUSTOMER_FACING = re.compile(
    r"^(model:mail\.template,(body_html|subject):"
    r"|model_terms:ir\.ui\.view,arch_db:\w+\.(portal_|report_|ar_customer_statement_report)"
    r"|code:addons/\w+/controllers/)"
)


def _tables(markdown):
    """{section title: [row dicts]} of the markdown tables under '## title' headings."""
    tables, title, header = {}, None, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            title, header = line[3:].strip(), None
        elif line.startswith("|") and title:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if header is None:
                header = cells
                tables[title] = []
            else:
                tables[title].append(dict(zip(header, cells, strict=True)))
        else:
            header = None
    return tables


TABLES = _tables(GLOSSARY.read_text(encoding="utf-8"))
SIGN = {row["locale"]: row for row in TABLES["Salutations and sign-offs (checked)"]}
AVOID = TABLES["Words we do not use (checked)"]


def _po(path):
    return polib.pofile(str(path)) if path.exists() else polib.POFile()


def effective_entries(module, locale):
    """[(entry, text the reader sees)] for one module and locale (nl_BE.po over nl.po, fr_BE.po over fr.po)."""
    i18n = MODULE_DIRS[module] / "i18n"
    if locale == "en":
        return [(e, e.msgid) for e in _po(i18n / f"{module}.pot")]
    if locale in OVERRIDES:
        over = {(e.msgctxt, e.msgid): e.msgstr for e in _po(i18n / f"{locale}.po") if e.msgstr}
        return [(e, over.get((e.msgctxt, e.msgid)) or e.msgstr) for e in _po(i18n / f"{OVERRIDES[locale]}.po")]
    return [(e, e.msgstr) for e in _po(i18n / f"{locale}.po")]


def visible_text(msgstr):
    """The words a reader sees: no tags, no attributes, no QWeb/Jinja expressions or placeholders."""
    text = re.sub(r"\{\{.*?\}\}", " ", msgstr, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"%\(\w+\)s|%s", " ", text)
    return re.sub(r"\s+", " ", text)


def _is_customer_facing(entry):
    return any(CUSTOMER_FACING.match(occ) for occ, _line in entry.occurrences)


def _is_template_body(entry):
    return any(occ.startswith("model:mail.template,body_html:") for occ, _line in entry.occurrences)


CASES = [(m, loc) for m in sorted(MODULE_DIRS) for loc in LOCALES]


def register_problems(locale, entries):
    lang = locale[:2]
    problems = []
    for entry, text in entries:
        if not text or not _is_customer_facing(entry):
            continue
        words = visible_text(text)
        informal = re.findall(INFORMAL[lang], words, flags=re.I if lang != "de" else 0)
        if informal:
            formal = re.findall(FORMAL[lang], words)
            kind = "mixes registers" if formal else "is informal"
            problems.append(f"{entry.occurrences[0][0]}: {kind} ({', '.join(sorted(set(informal)))})")
    return problems


def salutation_problems(locale, entries):
    salutation, sign_off = SIGN[locale]["salutation"], SIGN[locale]["sign-off"]
    problems = []
    for entry, text in entries:
        if not text or not _is_template_body(entry):
            continue
        where = entry.occurrences[0][0]
        paragraphs = [visible_text(p).strip() for p in re.findall(r"<p\b[^>]*>(.*?)</p>", text, flags=re.S)]
        paragraphs = [p for p in paragraphs if p]
        if not paragraphs or paragraphs[0] != salutation:
            problems.append(f"{where}: does not open with {salutation!r} (opens with {paragraphs[:1]})")
        closing = re.search(re.escape(sign_off) + r"\s*<br\s*/?>\s*<t t-out=\"object\.company_id\.name", text)
        if not closing:
            problems.append(f"{where}: lacks the sign-off {sign_off!r} followed by the company name (signature)")
        else:
            rest = text[closing.end() :]
            if visible_text(rest[rest.find("</p>") + 4 :]).strip():
                problems.append(f"{where}: text after the signature")
    return problems


def glossary_problems(locale, entries):
    rules = [r for r in AVOID if locale in [s.strip() for s in r["scope"].split(",")]]
    problems = []
    for entry, text in entries:
        if not text:
            continue
        words = visible_text(text)
        for rule in rules:
            if re.search(r"(?<![\w-])" + re.escape(rule["avoid"]) + r"(?![\w-])", words, flags=re.I):
                problems.append(f"{entry.msgid[:60]!r}: {rule['avoid']!r} -> {rule['use instead']!r}")
    return problems


@pytest.mark.parametrize(("module", "locale"), CASES)
def test_one_register_per_customer_text(module, locale):
    problems = register_problems(locale, effective_entries(module, locale))
    assert not problems, f"{module} {locale}: " + "; ".join(problems[:5])


@pytest.mark.parametrize(("module", "locale"), [*CASES, *[(m, "en") for m in sorted(MODULE_DIRS)]])
def test_templates_have_salutation_and_signature(module, locale):
    problems = salutation_problems(locale, effective_entries(module, locale))
    assert not problems, f"{module} {locale}: " + "; ".join(problems[:5])


@pytest.mark.parametrize(("module", "locale"), CASES)
def test_glossary_terms(module, locale):
    problems = glossary_problems(locale, effective_entries(module, locale))
    assert not problems, f"{module} {locale}: " + "; ".join(problems[:5])


@pytest.mark.parametrize(("module", "locale"), [(m, loc) for m in sorted(MODULE_DIRS) for loc in OVERRIDES])
def test_regional_overrides_only_existing_entries(module, locale):
    """nl_BE.po / fr_BE.po hold overrides of entries of the .pot, each different from nl.po / fr.po (else useless)."""
    i18n = MODULE_DIRS[module] / "i18n"
    pot = {(e.msgctxt, e.msgid) for e in _po(i18n / f"{module}.pot")}
    base = {(e.msgctxt, e.msgid): e.msgstr for e in _po(i18n / f"{OVERRIDES[locale]}.po")}
    for entry in _po(i18n / f"{locale}.po"):
        key = (entry.msgctxt, entry.msgid)
        assert key in pot, f"{module} {locale}.po: stale entry {entry.msgid[:60]!r}"
        assert entry.msgstr and entry.msgstr != base.get(key), (
            f"{module} {locale}.po: {entry.msgid[:60]!r} adds nothing"
        )


# --- the checks themselves must fire on the mistakes the issue lists, and only on those ---------


def _entry(msgstr, occurrence="model:mail.template,body_html:ar_dunning.x"):
    return polib.POEntry(msgid="x", msgstr=msgstr, occurrences=[(occurrence, "")])


GOOD_NL = (
    "<div><p>Geachte heer, mevrouw,</p><p>Scan met uw bankapp; u kunt betalen.</p>"
    '<p>Met vriendelijke groet,<br/><t t-out="object.company_id.name"/></p></div>'
)


def test_checks_fire_on_the_known_mistakes():
    mixed = _entry(GOOD_NL.replace("Scan met uw bankapp", "Scan met je bankapp"))
    assert register_problems("nl", [(mixed, mixed.msgstr)])
    named = _entry(GOOD_NL.replace("Geachte heer, mevrouw,", 'Geachte <t t-out="object.partner_id.name"/>,'))
    assert salutation_problems("nl", [(named, named.msgstr)])
    unsigned = _entry(GOOD_NL.replace('<br/><t t-out="object.company_id.name"/>', ""))
    assert salutation_problems("nl", [(unsigned, unsigned.msgstr)])
    german = _entry("<p>Sehr geehrte Damen und Herren von <t t-out='object.company_id.name'/>,</p>")
    assert salutation_problems("de", [(german, german.msgstr)])
    statement = _entry("Hierbij uw afschrift", "model:ir.model.fields,field_description:x")
    assert glossary_problems("nl", [(statement, statement.msgstr)])
    dispute = _entry("Einspruch gegen Rechnung", "code:addons/ar_customer_centric/models/x.py")
    assert glossary_problems("de", [(dispute, dispute.msgstr)])


def test_checks_do_not_fire_on_correct_text():
    good = _entry(GOOD_NL)
    assert not register_problems("nl", [(good, good.msgstr)])
    assert not salutation_problems("nl", [(good, good.msgstr)])
    assert not glossary_problems("nl", [(good, good.msgstr)])
    # code, placeholders and compounds are not words of the text
    code = _entry('<p t-if="je">%(jouw)s {{ object.ton }} bankafschrift rekeningoverzicht uw</p>')
    assert not register_problems("nl", [(code, code.msgstr)])
    assert not glossary_problems("nl", [(code, code.msgstr)])
    # a German "Sie" at the start of a sentence is formal, never informal; "Ihr" is the formal possessive
    german = _entry("<p>Sie können Ihr Portal öffnen.</p>")
    assert not register_problems("de", [(german, german.msgstr)])
    # back-office texts are not customer-facing: their register is not checked here
    office = _entry("Vink je keuze aan", "model:ir.model.fields,help:ar_dunning.x")
    assert not register_problems("nl", [(office, office.msgstr)])


# --- legal wording of the finals (issue 13 point 4) -------------------------------------------------


def test_french_final_notice_says_mise_en_demeure_once_and_closes_formally():
    """A French reminder puts the debtor "en demeure" at most once, and ends with the formal closing."""
    sign_off = SIGN["fr"]["sign-off"]
    for module, locale in [(m, loc) for m in sorted(MODULE_DIRS) for loc in ("fr", "fr_BE")]:
        for entry, text in effective_entries(module, locale):
            if not text or not _is_template_body(entry):
                continue
            words = visible_text(text)
            where = entry.occurrences[0][0]
            assert len(re.findall(r"(?i)\bdemeure\b", words)) <= 1, f"{where}: 'demeure' repeated"
            assert sign_off in words, f"{where}: no formal closing"


def test_german_fixed_compensation_is_verzugspauschale():
    """The EUR 40 of § 288(5) BGB is the "Verzugspauschale" in every German text, never "Mahnkosten"."""
    entries = effective_entries("ar_dunning", "de")
    # the sentences the reminders print (code) and the fee rule the charges invoice names
    pauschale = [t for e, t in entries if "288(5)" in e.msgid and "40" in e.msgid and t != e.msgid]
    assert pauschale and all("Verzugspauschale" in t for t in pauschale)
    assert not [e.msgid for e, t in entries if re.search(r"(?i)mahnkosten", t or "")]


def test_belgian_french_reads_belgian_and_french_reads_french():
    """fr_BE.po is loaded over fr.po: a Belgian reader sees "domiciliation", a French one "prélèvement"."""
    fr = " ".join(t for e, t in effective_entries("ar_customer_centric", "fr") if t)
    fr_be = " ".join(t for e, t in effective_entries("ar_customer_centric", "fr_BE") if t)
    assert "Mandat de prélèvement SEPA" in fr and "domiciliation" not in fr.lower()
    assert "Mandat de domiciliation SEPA" in fr_be
    broken = _entry("Plus aucun prélèvement ne sera effectué.", "model_terms:ir.ui.view,arch_db:x.portal_x")
    assert glossary_problems("fr_BE", [(broken, broken.msgstr)])


# --- the SEPA mandate texts (issue 13: legal and banking texts exact) -------------------------------
# The mandate form shows the mandatory text of the scheme (res.company._ar_sepa_mandate_text). Where an
# official national text was found, its words are written out here, copied from the source the .po
# cites next to the translation, so that a changed msgstr fails; where none could be read, the .po must
# say that its text is a rendering of the EPC English and that the bank's mandate form prevails.

MANDATE_LOCALES = ["en", "nl", "nl_BE", "fr", "fr_BE", "de"]

# {(locale, scheme): (the official text, a string the .po comment must contain: the source's URL)}
OFFICIAL_MANDATE_TEXTS = {
    # EPC392-08 v5.0 (24 September 2019), legal wording of the Core and B2B specimens: the msgid
    ("en", "CORE"): (
        "By signing this mandate form, you authorise (A) %(creditor)s to send instructions to your bank to "
        "debit your account and (B) your bank to debit your account in accordance with the instructions from "
        "%(creditor)s. As part of your rights, you are entitled to a refund from your bank under the terms "
        "and conditions of your agreement with your bank. A refund must be claimed within 8 weeks starting "
        "from the date on which your account was debited. Your rights are explained in a statement that you "
        "can obtain from your bank.",
        None,
    ),
    ("en", "B2B"): (
        "By signing this mandate form, you authorise (A) %(creditor)s to send instructions to your bank to "
        "debit your account and (B) your bank to debit your account in accordance with the instructions from "
        "%(creditor)s. This mandate is only intended for business-to-business transactions. You are not "
        "entitled to a refund from your bank after your account has been debited, but you are entitled to "
        "request your bank not to debit your account up until the day on which the payment is due.",
        None,
    ),
    # Betaalvereniging Nederland, doorlopende machtiging (standaard / zakelijk)
    ("nl", "CORE"): (
        "Door ondertekening van dit formulier geeft u toestemming aan (A) %(creditor)s om doorlopende "
        "incasso-opdrachten te sturen naar uw bank om een bedrag van uw rekening af te schrijven en (B) aan uw "
        "bank om doorlopend een bedrag van uw rekening af te schrijven overeenkomstig de opdracht van "
        "%(creditor)s. Als u het niet eens bent met deze afschrijving kunt u deze laten terugboeken. Neem "
        "hiervoor binnen 8 weken na afschrijving contact op met uw bank. Vraag uw bank naar de voorwaarden.",
        "https://gocardless.com/nl/handleidingen/sepa/machtiging-inhoud/",
    ),
    ("nl", "B2B"): (
        "Door ondertekening van dit formulier geeft u toestemming aan (A) %(creditor)s om zakelijke "
        "doorlopende incasso-opdrachten te sturen naar uw bank om een bedrag af te schrijven en (B) aan uw "
        "bank om doorlopend een bedrag van uw rekening af te schrijven overeenkomstig de opdracht van "
        "%(creditor)s. Deze machtiging is uitsluitend bedoeld voor zakelijke incassotransacties tussen "
        "bedrijven. Na afschrijving heeft u geen recht om het bedrag terug te laten boeken. U heeft wel het "
        "recht om uw bank te vragen het bedrag niet af te schrijven van uw rekening. U kunt dit doen tot en "
        "met de dag waarop de afschrijving zou plaatsvinden.",
        "https://gocardless.com/nl/handleidingen/sepa/machtiging-inhoud/",
    ),
    # Deutsche Kreditwirtschaft, SEPA-Lastschriftmandat / SEPA-Firmenlastschrift-Mandat
    ("de", "CORE"): (
        "Ich ermächtige %(creditor)s, Zahlungen von meinem Konto mittels Lastschrift einzuziehen. Zugleich "
        "weise ich mein Kreditinstitut an, die von %(creditor)s auf mein Konto gezogenen Lastschriften "
        "einzulösen. Hinweis: Ich kann innerhalb von acht Wochen, beginnend mit dem Belastungsdatum, die "
        "Erstattung des belasteten Betrages verlangen. Es gelten dabei die mit meinem Kreditinstitut "
        "vereinbarten Bedingungen.",
        "https://gocardless.com/de/handbuch/sepa/mandate-inhalt/",
    ),
    ("de", "B2B"): (
        "Ich ermächtige %(creditor)s, Zahlungen von meinem Konto mittels Lastschrift einzuziehen. Zugleich "
        "weise ich mein Kreditinstitut an, die von %(creditor)s auf mein Konto gezogenen Lastschriften "
        "einzulösen. Hinweis: Dieses Lastschriftmandat dient nur dem Einzug von Lastschriften, die auf Konten "
        "von Unternehmen gezogen sind. Ich bin nicht berechtigt, nach der erfolgten Einlösung eine Erstattung "
        "des belasteten Betrages zu verlangen. Ich bin berechtigt, mein Kreditinstitut bis zum Fälligkeitstag "
        "anzuweisen, Lastschriften nicht einzulösen.",
        "https://gocardless.com/de/handbuch/sepa/mandate-inhalt/",
    ),
}
# official only as far as the source could be read: {(locale, scheme): (verified beginning, source URL)}
PARTLY_OFFICIAL_MANDATE_TEXTS = {
    ("fr", "CORE"): (
        "En signant ce formulaire de mandat, vous autorisez (A) %(creditor)s à envoyer des instructions à "
        "votre banque pour débiter votre compte, et (B) votre banque à débiter votre compte conformément aux "
        "instructions de %(creditor)s. Vous bénéficiez du droit d'être remboursé par votre banque selon les "
        "conditions décr",
        "https://www.banquepopulaire.fr/",
    ),
}
# no official text could be read: the .po says what the text is and what the company does
RENDERED_MANDATE_TEXTS = {("nl_BE", "CORE"), ("nl_BE", "B2B"), ("fr", "B2B"), ("fr_BE", "CORE"), ("fr_BE", "B2B")}
RENDERING_NOTICE = ("rendering of the EPC English", "not an official text", "bank's mandate form, which prevails")

# what each text must say, per language: {lang: (CORE's refund right, its 8 weeks, CORE's pointer to the
# bank's terms, B2B's "no refund", B2B's "businesses only")}
MANDATE_MEANING = {
    "en": (
        r"you are entitled to a refund",
        r"\b8 weeks\b",
        r"terms and conditions of your agreement with your bank",
        r"not entitled to a refund",
        r"only intended for business-to-business",
    ),
    "nl": (
        r"laten terugboeken|recht op terugbetaling",
        r"\b8 weken\b",
        r"Vraag uw bank naar de voorwaarden|voorwaarden van uw overeenkomst met uw bank",
        r"geen recht (om het bedrag terug te laten boeken|op terugbetaling)",
        r"uitsluitend bedoeld voor .*tussen (bedrijven|ondernemingen)",
    ),
    "fr": (
        r"Vous bénéficiez du droit d'être remboursé",
        r"\b8 semaines\b",
        r"conditions décrites dans la convention",
        r"Vous n'avez pas le droit d'être remboursé",
        r"uniquement aux transactions interentreprises",
    ),
    "de": (
        r"Ich kann .*die Erstattung des belasteten Betrages verlangen",
        r"\bacht Wochen\b",
        r"mit meinem Kreditinstitut vereinbarten Bedingungen",
        r"nicht berechtigt, nach der erfolgten Einlösung eine Erstattung",
        r"nur dem Einzug von Lastschriften, die auf Konten von Unternehmen",
    ),
}


def mandate_texts(locale):
    """{scheme: (translator's comment, text the reader sees)} of the two mandate texts in one locale."""
    i18n = MODULE_DIRS["ar_customer_centric"] / "i18n"
    if locale == "en":
        files = [i18n / "ar_customer_centric.pot"]
    elif locale in OVERRIDES:
        files = [i18n / f"{locale}.po", i18n / f"{OVERRIDES[locale]}.po"]  # the override first
    else:
        files = [i18n / f"{locale}.po"]
    texts = {}
    for path in files:
        for entry in _po(path):
            if not entry.msgid.startswith("By signing this mandate form"):
                continue
            scheme = "B2B" if "business-to-business" in entry.msgid else "CORE"
            text = entry.msgid if locale == "en" else entry.msgstr
            if text and scheme not in texts:
                texts[scheme] = (entry.tcomment or "", text)
    return texts


def mandate_meaning_problems(lang, core, b2b):
    """What the CORE and B2B texts of one language fail to say (or say wrongly)."""
    refund, weeks, terms, no_refund, business = MANDATE_MEANING[lang]
    problems = []
    if not re.search(refund, core) or re.search(no_refund, core):
        problems.append("CORE does not state the refund right")
    if not re.search(weeks, core):
        problems.append("CORE does not state the 8 weeks")
    if not re.search(terms, core):
        problems.append("CORE does not refer to the bank's terms")
    if not re.search(no_refund, b2b) or re.search(weeks, b2b):
        problems.append("B2B does not state that there is no refund")
    if not re.search(business, b2b) or re.search(business, core):
        problems.append("B2B is not the businesses-only text")
    return problems


@pytest.mark.parametrize("locale", MANDATE_LOCALES)
def test_mandate_core_has_the_refund_right_and_b2b_has_none(locale):
    texts = mandate_texts(locale)
    assert set(texts) == {"CORE", "B2B"}, f"{locale}: mandate texts missing ({sorted(texts)})"
    (_c, core), (_b, b2b) = texts["CORE"], texts["B2B"]
    problems = mandate_meaning_problems(locale[:2], core, b2b)
    assert not problems, f"{locale}: " + "; ".join(problems)
    for scheme, text in texts.items():
        assert text[1].count("%(creditor)s") == 2, f"{locale} {scheme}: the creditor is not named twice"


@pytest.mark.parametrize(("locale", "scheme"), sorted(OFFICIAL_MANDATE_TEXTS))
def test_mandate_text_is_the_cited_official_text(locale, scheme):
    official, url = OFFICIAL_MANDATE_TEXTS[(locale, scheme)]
    comment, text = mandate_texts(locale)[scheme]
    assert text == official, f"{locale} {scheme}: the text no longer matches the official text"
    if url:
        assert comment.startswith("Source:") and url in comment.replace("\n", ""), (
            f"{locale} {scheme}: the .po comment does not cite {url}"
        )


@pytest.mark.parametrize(("locale", "scheme"), sorted(PARTLY_OFFICIAL_MANDATE_TEXTS))
def test_mandate_text_starts_with_the_verified_official_words(locale, scheme):
    beginning, url = PARTLY_OFFICIAL_MANDATE_TEXTS[(locale, scheme)]
    comment, text = mandate_texts(locale)[scheme]
    assert text.startswith(beginning), f"{locale} {scheme}: the verified official words changed"
    flat = " ".join(comment.split())
    assert comment.startswith("Source") and url in comment.replace("\n", ""), f"{locale} {scheme}: source not cited"
    missing = [n for n in RENDERING_NOTICE if n not in flat]
    assert not missing, f"{locale} {scheme}: the .po comment lacks {missing} for the unverified rest"


@pytest.mark.parametrize(("locale", "scheme"), sorted(RENDERED_MANDATE_TEXTS))
def test_mandate_text_without_official_source_says_so(locale, scheme):
    """The documented limit: no official text read, so the .po says it is ours and the bank's form prevails."""
    comment, _text = mandate_texts(locale)[scheme]
    flat = " ".join(comment.split())
    missing = [n for n in RENDERING_NOTICE if n not in flat]
    assert not missing, f"{locale} {scheme}: the .po comment lacks {missing}"
    assert "europeanpaymentscouncil.eu" in comment.replace("\n", ""), f"{locale} {scheme}: the EPC source is not named"


def test_every_mandate_text_is_classified():
    """A new locale's mandate texts must be given an official source or declared a rendering."""
    known = set(OFFICIAL_MANDATE_TEXTS) | set(PARTLY_OFFICIAL_MANDATE_TEXTS) | RENDERED_MANDATE_TEXTS
    assert {(loc, s) for loc in MANDATE_LOCALES for s in ("CORE", "B2B")} == known


def test_mandate_checks_fire_on_the_known_mistakes():
    en = mandate_texts("en")
    core, b2b = en["CORE"][1], en["B2B"][1]
    assert not mandate_meaning_problems("en", core, b2b)
    assert mandate_meaning_problems("en", b2b, core)  # schemes swapped
    assert mandate_meaning_problems("en", core.replace("within 8 weeks", "within 13 months"), b2b)
    assert mandate_meaning_problems("en", core, b2b.replace("not entitled", "entitled"))
    de = mandate_texts("de")
    assert mandate_meaning_problems("de", de["CORE"][1].replace("acht", "sechs"), de["B2B"][1])
