"""Dunning batch on a generated book: 10,000 invoices, 2,000 customers in BE/NL/DE.

Most invoices are overdue, some paid, partly paid or netted by an unreconciled credit note.
Measures ar_dunning's preview (`ar.dunning.run._run_batch(execute=False)`) and execute
(queued e-mails with their PDF statement, merged letters, activities, holds), with SQL
queries per batch. Letters are rendered 200 per wkhtmltopdf call.

Optionally (OCA=1 and OCA's wheel unpacked in .local/oca_addons/), times OCA's
account_credit_control 19.0 on the same book: its run, then its e-mailer.

    AR_WORKER=me BENCH=dunning make bench            # N_PARTNERS=200 N_INVOICES=1000 for a quick look
"""

import logging
import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timer, bench_env, report

N_PARTNERS = int(os.environ.get("N_PARTNERS", "2000"))
N_INVOICES = int(os.environ.get("N_INVOICES", "10000"))
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


OCA_DIR = Path(__file__).resolve().parent.parent / ".local" / "oca_addons" / "addons"


def oca_run(env, company):
    """Install OCA account_credit_control into the same database and time its run + e-mailer."""
    import odoo
    from odoo import api
    from odoo.modules.module import Manifest
    from odoo.modules.registry import Registry

    if str(OCA_DIR) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(OCA_DIR))
    Manifest._get_manifest_from_addons.cache_clear()
    env["ir.module.module"].update_list()
    module = env["ir.module.module"].search([("name", "=", "account_credit_control")])
    with Timer(env) as t_install:
        module.button_immediate_install()
    report("OCA account_credit_control install", t_install.seconds)
    registry = Registry(env.cr.dbname)
    with registry.cursor() as cr:
        oenv = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [company.id]})
        company = oenv["res.company"].browse(company.id)
        policy = oenv.ref("account_credit_control.credit_control_3_time")
        policy.write(
            {"company_id": company.id, "account_ids": [(6, 0, [company.partner_id.property_account_receivable_id.id])]}
        )
        company.credit_policy_id = policy
        cr.commit()
        oenv.invalidate_all()
        with Timer(oenv) as t_run:
            run = oenv["credit.control.run"].create(
                {"date": RUN_DATE, "policy_ids": [(6, 0, policy.ids)], "company_id": company.id}
            )
            run.generate_credit_lines()
            run.set_to_ready_lines()
            cr.commit()
        lines = run.line_ids.filtered(lambda x: x.state == "to_be_sent" and x.channel == "email")
        report(
            "OCA credit control run",
            t_run.seconds,
            t_run.queries,
            per_item=N_INVOICES,
            unit="invoice",
            extra=f"{len(run.line_ids)} lines",
        )
        oenv.invalidate_all()
        with Timer(oenv) as t_mail:
            oenv["credit.control.emailer"].create({"line_ids": [(6, 0, lines.ids)]}).email_lines()
            cr.commit()
        comms = oenv["credit.control.communication"].search_count([])
        report(
            "OCA e-mailer (mails + PDF summaries)",
            t_mail.seconds,
            t_mail.queries,
            per_item=max(comms, 1),
            unit="reminder",
            extra=f"{comms} communications",
        )
        return t_run.seconds + t_mail.seconds


def main():
    with bench_env("bench_dunning", modules=["ar_dunning"]) as base_env:
        logging.getLogger("odoo.addons.ar_dunning").setLevel(logging.INFO)  # per-batch progress lines
        with Timer(base_env) as t:
            env, company, policy = build_book(base_env)
        report(f"build book ({N_INVOICES} invoices, {N_PARTNERS} customers)", t.seconds, t.queries)

        env.invalidate_all()
        Run = env["ar.dunning.run"].with_company(company)
        with Timer(env) as t_preview:
            run = Run._run_batch(date=RUN_DATE, policy_ids=policy.ids, company=company)
            env.cr.commit()
        todo = run.todo_count
        report(
            "ar_dunning preview",
            t_preview.seconds,
            t_preview.queries,
            per_item=N_INVOICES,
            unit="invoice",
            extra=f"{len(run.line_ids)} lines, {todo} to send, {run.excluded_count} excluded",
        )
        env.invalidate_all()
        with Timer(env) as t_exec:
            run._execute(batch_size=BATCH)
            env.cr.commit()
        batches = max(1, -(-todo // BATCH))
        mails = env["mail.mail"].search_count([("model", "=", "res.partner")])
        report(
            "ar_dunning execute (mails + PDF statements)",
            t_exec.seconds,
            t_exec.queries,
            per_item=todo,
            unit="reminder",
            extra=f"{mails} mails queued, {t_exec.queries / batches:.0f} queries/batch of {BATCH}",
        )
        total = t_preview.seconds + t_exec.seconds
        report("ar_dunning whole batch (preview + execute)", total, t_preview.queries + t_exec.queries)
        levels = {}
        for line in run.line_ids.filtered(lambda x: x.state == "done"):
            levels[line.level_id.name] = levels.get(line.level_id.name, 0) + 1
        tones = {}
        for line in run.line_ids:
            tones[line.tone] = tones.get(line.tone, 0) + 1
        reasons = {}
        for line in run.line_ids.filtered("exclusion_reason"):
            reasons[line.exclusion_reason] = reasons.get(line.exclusion_reason, 0) + 1
        print(f"    levels sent: {levels}; tones: {tones}; exclusions: {reasons}")
        print(f"    merged letters: {len(run.letter_attachment_id.raw or b'') // 1024} KiB")

        # idempotency on the big book: a rerun sends nothing
        with Timer(env) as t_rerun:
            run._execute(batch_size=BATCH)
        after = env["mail.mail"].search_count([("model", "=", "res.partner")])
        report(
            "ar_dunning rerun (must send nothing)", t_rerun.seconds, t_rerun.queries, extra=f"{after - mails} new mails"
        )

        with Timer(env) as t_kpi:
            env["ar.dunning.kpi"].with_company(company)._refresh(on_date=RUN_DATE)
        report("ar_dunning KPI refresh", t_kpi.seconds, t_kpi.queries, per_item=N_PARTNERS, unit="customer")
        env.cr.commit()

        if os.environ.get("OCA") and (OCA_DIR / "account_credit_control").is_dir():
            oca_total = oca_run(env, company)
            print(f"    speed-up ar_dunning vs OCA (same book): {oca_total / total:.1f}x")


if __name__ == "__main__":
    main()
