"""Export + validate Peppol BIS 3 invoices, next to Odoo's own builder, alternating the sides.

1. Stock Odoo (the base template, no ar_*): `account.edi.xml.ubl_bis3._export_invoice`.
2. ar_peppol_edi installed: the same call (Odoo's builder with our fixes).
3. The official CEN + Peppol BIS 3 rules (the rules the product uses by default: the offline
   mirror named by AR_PEPPOL_RULES, else the verified download in the data directory; compiled
   once in the helper process) on every document exported by (2).

Both databases get the same 1,000 invoices; then ROUNDS rounds export all of them on each side,
the side that starts alternating from round to round, and validate them. Reported: median and
spread (min-max) of the per-invoice times over the rounds. Goals: export overhead <= 1.2x
Odoo's builder; validation <= 15 ms per document.
"""

import hashlib
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import arsuite

N_INVOICES = 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or 5)


def templates():
    pg = arsuite.setup(quiet=True)
    full = arsuite.ensure_templates(pg, [], ["ar_peppol_edi"])
    deps = arsuite.odoo_dependencies()
    base_key = hashlib.sha1(
        ("|".join(deps) + (arsuite.ODOO_SRC / "odoo" / "release.py").read_text() + str(arsuite.ODOO_SRC)).encode()
    ).hexdigest()[:10]
    return pg, f"ar_tmpl{arsuite.SUFFIX}_{arsuite.REPO_TAG}_base_{base_key}", full


def make_invoices(env):
    from odoo import Command

    be = env.ref("base.be")
    company = env["res.company"].create({"name": "Bench Peppol", "country_id": be.id})
    env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
    env = env(context={"allowed_company_ids": [company.id]})
    env.user.company_ids |= company
    env.user.company_id = company
    company.partner_id.write(
        {
            "street": "Chaussée de Namur 40",
            "zip": "1367",
            "city": "Ramillies",
            "vat": "BE0202239951",
            "company_registry": "0202239951",
            "bank_ids": [Command.create({"acc_number": "BE15001559627230"})],
        }
    )
    ref = env["account.chart.template"].with_company(company).ref
    taxes = [ref("attn_VAT-OUT-21-L"), ref("attn_VAT-OUT-06-L"), ref("attn_VAT-OUT-12-L")]
    partners = env["res.partner"].create(
        [
            {
                "name": f"Customer {i}",
                "is_company": True,
                "vat": "BE0477472701",
                "street": f"Rue Neuve {i}",
                "city": "Bruxelles",
                "zip": "1000",
                "country_id": be.id,
            }
            for i in range(50)
        ]
    )
    product = env["product.product"].create({"name": "Consulting", "list_price": 100.0})
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partners[i % 50].id,
                "invoice_date": "2026-01-15",
                "ref": f"PO-{i}",
                "partner_bank_id": company.partner_id.bank_ids[:1].id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1 + (i + j) % 7,
                            "price_unit": 10.0 + (i * 7 + j) % 300 + 0.37,
                            "discount": 5.0 if j == 2 else 0.0,
                            "tax_ids": [Command.set(taxes[j % 3].ids)],
                        }
                    )
                    for j in range(3)
                ],
            }
            for i in range(N_INVOICES)
        ]
    )
    moves.action_post()
    return env, moves


def export_all(env, moves):
    builder = env["account.edi.xml.ubl_bis3"]
    docs = []
    for move in moves:
        xml, _errors = builder._export_invoice(move)
        docs.append(xml)
    return docs


def spread(values):
    return f"median {statistics.median(values):.1f}, spread {min(values):.1f}-{max(values):.1f}"


def main():
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    pg, base, full = templates()
    config.parse_config(["-c", str(arsuite.CONF), "--log-level=warn"], setup_logging=True)
    from odoo.addons.ar_peppol_edi.tools import rules_store
    from odoo.addons.ar_peppol_edi.tools.ubl_validator import close_all, get_validator

    location = rules_store.default_location(config["data_dir"])
    if not location:
        raise SystemExit(rules_store.how_to_provide())
    sides = {"stock": ("bench_peppol_stock", base), "ar": ("bench_peppol_ar", full)}
    cursors, envs, moves = {}, {}, {}
    try:
        for side, (name, template) in sides.items():
            arsuite.copy_db(pg, template, name)
            cursors[side] = Registry(name).cursor()
            env = api.Environment(cursors[side], api.SUPERUSER_ID, {})
            envs[side], moves[side] = make_invoices(env)
            cursors[side].commit()
            export_all(envs[side], moves[side][:20])  # warm-up (templates, caches)
        times = {"stock": [], "ar": [], "validate": []}
        t0 = time.perf_counter()
        validator = get_validator(location)
        compile_s = time.perf_counter() - t0
        docs = []
        for index in range(ROUNDS):
            order = ("stock", "ar") if index % 2 == 0 else ("ar", "stock")
            for side in order:
                envs[side].invalidate_all()
                t0 = time.perf_counter()
                exported = export_all(envs[side], moves[side])
                times[side].append((time.perf_counter() - t0) * 1000 / N_INVOICES)
                if side == "ar":
                    docs = exported
            if index == 0:
                validator.validate(docs[0])  # warm-up (stylesheet JIT)
            t0 = time.perf_counter()
            fatal = sum(validator.validate(doc)["fatal"] for doc in docs)
            times["validate"].append((time.perf_counter() - t0) * 1000 / N_INVOICES)
            print(
                f"  round {index + 1} ({order[0]} first): stock {times['stock'][-1]:.1f} ms/invoice, "
                f"ar_peppol_edi {times['ar'][-1]:.1f} ms/invoice, validation {times['validate'][-1]:.1f} ms/doc "
                f"(fatal={fatal})"
            )
        ratios = [a / s for a, s in zip(times["ar"], times["stock"], strict=True)]
        print(f"Odoo builder export: {spread(times['stock'])} ms/invoice over {ROUNDS} rounds of {N_INVOICES}")
        print(f"ar_peppol_edi export: {spread(times['ar'])} ms/invoice")
        print(
            f"export ar_peppol_edi / Odoo builder: median {statistics.median(ratios):.2f}x, "
            f"spread {min(ratios):.2f}-{max(ratios):.2f}x (goal <= 1.20x)"
        )
        print(
            f"validation ({validator.version}): {spread(times['validate'])} ms/doc (goal <= 15 ms); "
            f"rules compiled once in {compile_s:.2f} s"
        )
        close_all()  # the helper's peak RSS is known once it has ended
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"validation helper peak RSS: {child / 1024:.0f} MiB")
    finally:
        close_all()
        for side, (name, _template) in sides.items():
            if side in cursors:
                cursors[side].rollback()
                cursors[side].close()
                Registry.delete(name)
            arsuite.drop_db(pg, name)


if __name__ == "__main__":
    main()
