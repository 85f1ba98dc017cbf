"""ar_dunning next to OCA's account_credit_control 19.0 on copies of the same book.

The book: 1,000 invoices of 200 customers in BE/NL/DE (FULL=1: 10,000 / 2,000; N_INVOICES and
N_PARTNERS override), most overdue, some paid, partly paid or netted by an open credit note.
It is built once, with ar_dunning AND OCA's module installed (OCA's released 19.0 wheel, fetched
with pip into .local/oca_addons/, never into the repository), then every measurement runs in a
subprocess of its own on a fresh copy of that database. Three sides, in turns (A B C A B C ...,
ROUNDS=5 at least), median and spread:

- "ar_dunning, 1 PDF/call": preview + execute (e-mails queued with their PDF statement),
  every statement rendered by its own wkhtmltopdf call -- the same PDF setting as OCA's
  e-mailer, which renders one PDF per communication through its mail template. This is the
  like-for-like comparison.
- "ar_dunning, as shipped": the same, statements rendered 200 per wkhtmltopdf call and split.
- "OCA": credit control run (generate lines, set to ready) + e-mailer (mails with the PDF).

Both engines leave the e-mails queued or failed (no SMTP server): sending costs are not counted.

    AR_WORKER=me BENCH=dunning make bench            # FULL=1 for 10,000 invoices
"""

import json
import logging
import os
import random
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROUNDS,
    Timer,
    alternate,
    arsuite,
    load_average,
    prepare_db,
    report,
    report_ratio,
    report_series,
)

FULL = os.environ.get("FULL") == "1"
N_PARTNERS = int(os.environ.get("N_PARTNERS", "2000" if FULL else "200"))
N_INVOICES = int(os.environ.get("N_INVOICES", "10000" if FULL else "1000"))
BATCH = 200
RUN_DATE = date(2026, 3, 31)
LANGS = {"BE": ["nl_BE", "fr_BE"], "NL": ["nl_NL"], "DE": ["de_DE"]}


def build_book(env):
    rnd = random.Random(42)
    countries = {code: env.ref(f"base.{code.lower()}") for code in LANGS}
    be = countries["BE"]
    company = env["res.company"].create({"name": "Bench Dunning NV", "country_id": be.id, "email": "ar@bench.example"})
    env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
    env = env(context={"allowed_company_ids": [company.id], "tracking_disable": True, "mail_notrack": True})
    env.user.company_ids |= company
    env.user.company_id = company
    for code in ("nl_BE", "fr_BE", "nl_NL", "de_DE"):
        env["res.lang"]._activate_lang(code)
    env["ir.module.module"]._get("ar_dunning")._update_translations(["nl_BE", "fr_BE", "nl_NL", "de_DE"])
    policy = company._ar_dunning_create_default_policy()
    policy._ar_translate_names()

    partner_vals = []
    for i in range(N_PARTNERS):
        code = rnd.choice(["BE", "BE", "NL", "DE"])
        is_company = rnd.random() < 0.7
        partner_vals.append(
            {
                "name": f"{'Firma' if is_company else 'Klant'} {code} {i}",
                "is_company": is_company,
                "country_id": countries[code].id,
                "lang": rnd.choice(LANGS[code]),
                "email": f"ap{i}@customer.example",
                "street": f"Straat {i}",
                "city": "Gent" if code == "BE" else ("Utrecht" if code == "NL" else "Köln"),
                "zip": "9000",
            }
        )
    partners = env["res.partner"].create(partner_vals)
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    invoices = env["account.move"]
    for start in range(0, N_INVOICES, 500):
        vals = []
        for i in range(start, min(start + 500, N_INVOICES)):
            partner = partners[i % N_PARTNERS]
            due = RUN_DATE - timedelta(days=rnd.randint(-20, 80))
            vals.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": due - timedelta(days=30),
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {"name": "Consulting", "quantity": 1, "price_unit": rnd.randint(50, 5000), "tax_ids": []},
                        )
                    ],
                }
            )
        moves = env["account.move"].create(vals)
        moves.action_post()
        invoices |= moves
        env.cr.commit()
    # 10% paid in full (in batches), 3% partly paid, 3% of customers with an open credit note
    shuffled = invoices.ids[:]
    rnd.shuffle(shuffled)
    paid = env["account.move"].browse(shuffled[: N_INVOICES // 10])
    Register = env["account.payment.register"]
    for start in range(0, len(paid), 250):
        chunk = paid[start : start + 250]
        Register.with_context(active_model="account.move", active_ids=chunk.ids).create(
            {"payment_date": RUN_DATE - timedelta(days=5), "group_payment": False}
        )._create_payments()
        env.cr.commit()
    for move in env["account.move"].browse(shuffled[N_INVOICES // 10 : N_INVOICES // 10 + N_INVOICES * 3 // 100]):
        Register.with_context(active_model="account.move", active_ids=move.ids).create(
            {"payment_date": RUN_DATE - timedelta(days=3), "amount": move.amount_total / 2}
        )._create_payments()
    refunds = env["account.move"].create(
        [
            {
                "move_type": "out_refund",
                "partner_id": p.id,
                "journal_id": journal.id,
                "invoice_date": RUN_DATE - timedelta(days=10),
                "invoice_line_ids": [(0, 0, {"name": "Credit", "quantity": 1, "price_unit": 300, "tax_ids": []})],
            }
            for p in partners[: N_PARTNERS * 3 // 100]
        ]
    )
    refunds.action_post()
    env.cr.commit()
    return env, company, policy


OCA_WHEEL = "odoo-addon-account-credit-control==19.0.1.0.0.13"  # OCA's 19.0 release on PyPI
OCA_DIR = arsuite.LOCAL / "oca_addons"
BOOK_DB = f"bench_dunning_book{arsuite.SUFFIX}"
SIDE_DB = f"bench_dunning_side{arsuite.SUFFIX}"


def ensure_oca():
    """OCA's account_credit_control 19.0 from its released wheel, unpacked under .local/."""
    if (OCA_DIR / "account_credit_control" / "__manifest__.py").is_file():
        return
    wheels = OCA_DIR / "wheel"
    subprocess.run(
        [str(arsuite.PY), "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), OCA_WHEEL], check=True
    )
    [wheel] = wheels.glob("odoo_addon_account_credit_control-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("odoo/addons/account_credit_control/"):
                target = OCA_DIR / name.removeprefix("odoo/addons/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))


def odoo_env(db):
    """Registry and superuser cursor on ``db`` (this subprocess only), OCA's module importable."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", str(arsuite.CONF), "-d", db, "--log-level=warn"], setup_logging=True)
    if str(OCA_DIR) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(OCA_DIR))
    return Registry(db)


def build(db):
    """Build the book in ``db`` and install OCA's module beside ar_dunning (not timed)."""
    from odoo import api
    from odoo.modules.module import Manifest

    registry = odoo_env(db)
    with registry.cursor() as cr:
        base_env = api.Environment(cr, api.SUPERUSER_ID, {})
        with Timer(base_env) as t:
            env, company, policy = build_book(base_env)
        report(f"build book ({N_INVOICES} invoices, {N_PARTNERS} customers)", t.seconds, t.queries)
        Manifest._get_manifest_from_addons.cache_clear()
        env["ir.module.module"].update_list()
        env["ir.module.module"].search([("name", "=", "account_credit_control")]).button_immediate_install()
        ids = {"company": company.id, "policy": policy.id}
    registry = odoo_env(db)  # reloaded with OCA's models
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]})
        company = env["res.company"].browse(ids["company"])
        oca_policy = env.ref("account_credit_control.credit_control_3_time")
        oca_policy.write(
            {"company_id": company.id, "account_ids": [(6, 0, [company.partner_id.property_account_receivable_id.id])]}
        )
        company.credit_policy_id = oca_policy
        ids["oca_policy"] = oca_policy.id
        cr.commit()
        # statistics as autovacuum keeps them in production
        cr.execute("ANALYZE")
    return ids


def side_ar(db, ids, per_document):
    from odoo import api

    registry = odoo_env(db)
    if per_document:
        Line = registry["ar.dunning.line"]
        render = Line._render_letters

        def one_pdf_per_call(self):
            # the product's own one-letter path, once per line: one wkhtmltopdf call each
            return {line.id: render(line)[line.id] for line in self} if len(self) > 1 else render(self)

        Line._render_letters = one_pdf_per_call
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]})
        company = env["res.company"].browse(ids["company"])
        with Timer(env) as timer:
            run = (
                env["ar.dunning.run"]
                .with_company(company)
                ._run_batch(date=RUN_DATE, policy_ids=[ids["policy"]], company=company)
            )
            cr.commit()
            todo = run.todo_count
            run._execute(batch_size=BATCH)
            cr.commit()
        mails = env["mail.mail"].search_count([("model", "=", "res.partner")])
        pdfs = env["ir.attachment"].search_count([("res_model", "=", "ar.dunning.line")])
    return {"seconds": timer.seconds, "queries": timer.queries, "reminders": todo, "mails": mails, "pdfs": pdfs}


def side_oca(db, ids):
    from odoo import api

    registry = odoo_env(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]})
        with Timer(env) as timer:
            run = env["credit.control.run"].create(
                {"date": RUN_DATE, "policy_ids": [(6, 0, [ids["oca_policy"]])], "company_id": ids["company"]}
            )
            run.generate_credit_lines()
            run.set_to_ready_lines()
            cr.commit()
            lines = run.line_ids.filtered(lambda x: x.state == "to_be_sent" and x.channel == "email")
            env["credit.control.emailer"].create({"line_ids": [(6, 0, lines.ids)]}).email_lines()
            cr.commit()
        comms = env["credit.control.communication"].search_count([])
        pdfs = env["ir.attachment"].search_count([("mimetype", "=", "application/pdf"), ("res_model", "!=", False)])
    return {"seconds": timer.seconds, "queries": timer.queries, "reminders": comms, "pdfs": pdfs}


def subprocess_side(*args):
    """Run this script with ``args`` in a fresh Python process; its last stdout line is JSON."""
    res = subprocess.run(
        [str(arsuite.PY), __file__, *args],
        check=False,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(arsuite.REPO)),
    )
    lines = res.stdout.strip().splitlines()
    if res.returncode or not lines:
        raise RuntimeError(f"{args} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    for line in lines[:-1]:
        print(line, flush=True)
    return json.loads(lines[-1])


def main():
    if len(sys.argv) > 1:  # a subprocess: --build DB | --side NAME DB IDS
        logging.getLogger("odoo").setLevel(logging.WARNING)
        if sys.argv[1] == "--build":
            result = build(sys.argv[2])
        else:
            name, db, ids = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
            result = side_oca(db, ids) if name == "oca" else side_ar(db, ids, per_document=name == "ar1")
        print(json.dumps(result), flush=True)
        return

    ensure_oca()
    pg = arsuite.setup(quiet=True)
    prepare_db(BOOK_DB)
    print(f"load average at start: {load_average()}", flush=True)
    try:
        ids = subprocess_side("--build", BOOK_DB)

        def side(name):
            def measure():
                arsuite.copy_db(pg, BOOK_DB, SIDE_DB)
                try:
                    return subprocess_side("--side", name, SIDE_DB, json.dumps(ids))
                finally:
                    arsuite.drop_db(pg, SIDE_DB)

            return measure

        results = alternate(
            {
                "ar_dunning, 1 PDF/call": side("ar1"),
                "OCA run + e-mailer": side("oca"),
                "ar_dunning, as shipped (200 PDF/call)": side("ar"),
            }
        )
    finally:
        arsuite.drop_db(pg, BOOK_DB)
    print(f"load average at end: {load_average()}", flush=True)
    print(f"== dunning: {N_INVOICES} invoices, {N_PARTNERS} customers, {ROUNDS} rounds in turns ==")
    for label, series in results.items():
        first = series[0]
        report_series(label, series)
        print(
            f"    {first['reminders']} reminders, {first['pdfs']} PDFs, "
            f"{first['queries']} queries ({first['queries'] / max(first['reminders'], 1):.1f}/reminder)"
        )
    oca = results["OCA run + e-mailer"]
    report_ratio("OCA / ar_dunning, both 1 PDF per call", oca, results["ar_dunning, 1 PDF/call"])
    report_ratio("OCA / ar_dunning as shipped", oca, results["ar_dunning, as shipped (200 PDF/call)"])


if __name__ == "__main__":
    main()
