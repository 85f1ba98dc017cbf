"""Export + validate 1,000 Peppol BIS 3 invoices, next to Odoo's own builder in the same run.

1. Stock Odoo (the base template, no ar_*): `account.edi.xml.ubl_bis3._export_invoice`.
2. ar_peppol_edi installed: the same call (Odoo's builder with our fixes), then the official
   CEN + Peppol BIS 3 rules (from /work/shared/peppol/rules, compiled once) on every document.

Reports ms per invoice and peak Python memory (tracemalloc, on a 200-invoice second pass so
that it does not slow the timed one), plus the resident size of the validation helper process.
Goals: export overhead <= 1.2x Odoo's builder; validation <= 15 ms per document.
"""

import hashlib
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import arsuite, report

N_INVOICES = 1000
SAMPLE = 200
RULES = "/work/shared/peppol/rules"


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


def reference_validator_ms(docs):
    """Per-document time of the shared reference validator (bench only, never the product)."""
    import importlib.util

    from lxml import etree

    spec = importlib.util.spec_from_file_location("peppol_reference", "/work/shared/peppol/validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    validator = module.Validator()
    validator.validate_element(etree.fromstring(docs[0]))  # warm-up
    t0 = time.perf_counter()
    for doc in docs:
        validator.validate_element(etree.fromstring(doc))
    return (time.perf_counter() - t0) * 1000 / len(docs)


def run(db, label, validate):
    from odoo import api
    from odoo.modules.registry import Registry

    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        env, moves = make_invoices(env)
        env.cr.commit()
        export_all(env, moves[:20])  # warm-up (templates, caches)
        env.invalidate_all()
        t0 = time.perf_counter()
        docs = export_all(env, moves)
        export_s = time.perf_counter() - t0
        report(
            f"{label}: export",
            export_s,
            per_item=N_INVOICES,
            unit="invoice",
            extra=f"{export_s * 1000 / N_INVOICES:.1f} ms/invoice",
        )
        env.invalidate_all()
        tracemalloc.start()
        export_all(env, moves[:SAMPLE])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"    peak Python memory during export ({SAMPLE} invoices, tracemalloc): {peak / 2**20:.1f} MiB")
        result = {"export": export_s}
        if validate:
            from odoo.addons.ar_peppol_edi.tools.ubl_validator import close_all, get_validator

            t0 = time.perf_counter()
            validator = get_validator(RULES)
            compile_s = time.perf_counter() - t0
            validator.validate(docs[0])  # warm-up (stylesheet JIT)
            t0 = time.perf_counter()
            fatal = sum(validator.validate(doc)["fatal"] for doc in docs)
            validate_s = time.perf_counter() - t0
            report(
                f"{label}: validate (CEN + Peppol + XSD)",
                validate_s,
                per_item=N_INVOICES,
                unit="doc",
                extra=f"{validate_s * 1000 / N_INVOICES:.1f} ms/doc, compile {compile_s:.2f} s, fatal={fatal}",
            )
            close_all()
            reference_ms = reference_validator_ms(docs[:SAMPLE])
            print(
                f"    reference: /work/shared/peppol/validate.py in-process on {SAMPLE} of the same documents: "
                f"{reference_ms:.1f} ms/doc (the engine's floor on this machine, at this moment)"
            )
            child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(f"    validation helper peak RSS: {child / 1024:.0f} MiB")
            result["validate"] = validate_s
        cr.rollback()
    return result


def main():
    from odoo.tools import config

    pg, base, full = templates()
    config.parse_config(["-c", str(arsuite.CONF), "--log-level=warn"], setup_logging=True)
    results = {}
    for name, template, validate, label in (
        ("bench_peppol_stock", base, False, "Odoo builder"),
        ("bench_peppol_ar", full, True, "ar_peppol_edi"),
    ):
        arsuite.copy_db(pg, template, name)
        try:
            results[name] = run(name, label, validate)
        finally:
            arsuite.drop_db(pg, name)
    ratio = results["bench_peppol_ar"]["export"] / results["bench_peppol_stock"]["export"]
    print(f"export ar_peppol_edi / Odoo builder: {ratio:.2f}x (goal <= 1.20x)")
    per_doc = results["bench_peppol_ar"]["validate"] * 1000 / N_INVOICES
    print(f"validation: {per_doc:.1f} ms/doc (goal <= 15 ms)")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
