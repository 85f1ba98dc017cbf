"""The buyer's portal with 2,000 invoices (200 open) for one customer, next to stock Odoo.

1. Stock Odoo (the base template: Odoo's modules, no ar_*): `/my/invoices`.
2. ar_customer_centric installed, the same data: `/my/invoices` (status, dispute badges, search,
   pay-all button) and the guest pay-all page `/my/pay-all/<token>` listing the 200 open invoices
   with the payment form.

The routes are driven through Odoo's WSGI application with werkzeug's test client (a real login,
cookies and CSRF), in this process, so `odoo.sql_db.sql_counter` counts the queries of each
request. Each page is requested once to warm the caches (QWeb compilation, assets), then the
two sides run in turns over ROUNDS (>= 5) rounds, the side that starts alternating; a round
requests each page REPEAT times (its mean is the round's figure). Reported: median and spread
of the rounds, and the median of the per-round ratios.
"""

import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_sending import base_template
from bench.common import ROUNDS, arsuite, load_average, report_ratio, report_series

N_INVOICES = 2000
N_OPEN = 200
REPEAT = 5
PASSWORD = "bench-portal-1"


def build_data(db):
    """Company with a Belgian chart, a customer with 2,000 posted invoices of which 1,800 paid
    by 180 payments of 10 invoices each."""
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        be = env.ref("base.be")
        company = env["res.company"].create({"name": "Bench Portal Supplier", "country_id": be.id})
        env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
        env = env(context={"allowed_company_ids": [company.id]})
        env.user.company_ids |= company
        env.user.company_id = company
        env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", True)
        provider = env["payment.provider"].search([("code", "=", "demo"), ("company_id", "=", company.id)], limit=1)
        provider.write({"state": "test", "is_published": True})
        buyer = env["res.partner"].create(
            {"name": "Bench Buyer NV", "is_company": True, "email": "ap@bench-buyer.example", "country_id": be.id}
        )
        contact = env["res.partner"].create(
            {"name": "Bench Buyer AP", "parent_id": buyer.id, "email": "portal@bench-buyer.example"}
        )
        env["res.users"].create(
            {
                "name": "Bench Portal",
                "login": "bench_portal",
                "password": PASSWORD,
                "partner_id": contact.id,
                "company_id": company.id,
                "company_ids": [odoo.Command.set(company.ids)],
                "group_ids": [odoo.Command.set(env.ref("base.group_portal").ids)],
            }
        )
        start = date(2025, 1, 1)
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": buyer.id,
                    "invoice_date": start + timedelta(days=i // 8),
                    "invoice_date_due": start + timedelta(days=i // 8 + 30),
                    "invoice_line_ids": [
                        odoo.Command.create({"name": f"Service {i}", "quantity": 1, "price_unit": 100.0 + i % 50})
                    ],
                }
                for i in range(N_INVOICES)
            ]
        )
        moves.action_post()
        paid = moves[: N_INVOICES - N_OPEN]
        # the buyer pays in runs of 10 invoices per bank transfer (180 payments)
        for start in range(0, len(paid), 10):
            chunk = paid[start : start + 10]
            env["account.payment.register"].with_context(active_model="account.move", active_ids=chunk.ids).create(
                {"group_payment": True}
            )._create_payments()
        open_count = env["account.move"].search_count(
            [
                ("partner_id", "=", buyer.id),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        assert open_count == N_OPEN, open_count
        token = buyer._ar_get_pay_all_token() if hasattr(buyer, "_ar_get_pay_all_token") else None
        cr.commit()
        # statistics as autovacuum keeps them in production: without them PostgreSQL plans the
        # portal record rules of 2,000 fresh invoices badly (seconds per query, in stock Odoo too)
        cr.execute("ANALYZE")
    return token


ENVIRON = {"REMOTE_ADDR": "127.0.0.1"}


def login(client, db):
    page = client.get(f"/web/login?db={db}", follow_redirects=True, environ_base=ENVIRON).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/web/login",
        data={"login": "bench_portal", "password": PASSWORD, "csrf_token": csrf, "redirect": "/my"},
        environ_base=ENVIRON,
    )
    assert response.status_code in (302, 303), response.status_code


def measure(client, url, expect):
    from odoo import sql_db

    response = client.get(url, environ_base=ENVIRON)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and expect in body, (url, response.status_code)
    seconds = queries = 0
    for _i in range(REPEAT):
        q0 = sql_db.sql_counter
        t0 = time.perf_counter()
        response = client.get(url, environ_base=ENVIRON)
        seconds += time.perf_counter() - t0
        queries += sql_db.sql_counter - q0
        assert response.status_code == 200
    return seconds / REPEAT, queries // REPEAT


def main():
    from werkzeug.test import Client

    import odoo.http
    from odoo.modules.registry import Registry
    from odoo.tools import config

    pg, base, full = base_template()
    config.parse_config(["-c", str(arsuite.CONF), "--log-level=warn"], setup_logging=True)
    sides = {"stock": ("bench_portal_stock", base), "ar": ("bench_portal_ar", full)}
    config["db_name"] = [name for name, _template in sides.values()]
    clients, tokens = {}, {}
    try:
        for side, (name, template) in sides.items():
            arsuite.copy_db(pg, template, name)
            tokens[side] = build_data(name)
            clients[side] = Client(odoo.http.root)
            login(clients[side], name)
        guest = Client(odoo.http.root)
        guest.get(f"/web/login?db={sides['ar'][0]}", follow_redirects=True, environ_base=ENVIRON)
        pages = {
            "stock": [("stock Odoo /my/invoices (2,000 invoices)", clients["stock"], "/my/invoices", "/my/invoices/")],
            "ar": [
                ("ar_customer_centric /my/invoices", clients["ar"], "/my/invoices", "/my/invoices/"),
                (
                    "ar_customer_centric /my/invoices?filterby=ar_open",
                    clients["ar"],
                    "/my/invoices?filterby=ar_open",
                    "/my/invoices/",
                ),
                (
                    "ar_customer_centric /my/pay-all (200 open)",
                    guest,
                    f"/my/pay-all/{tokens['ar']}",
                    "o_ar_pay_all_row",
                ),
            ],
        }
        # the two sides in turns (the side that starts alternates), each page REPEAT times a round
        results = {label: [] for side in pages.values() for label, *_rest in side}
        for index in range(ROUNDS):
            order = ("stock", "ar") if index % 2 == 0 else ("ar", "stock")
            for side in order:
                for label, client, url, expect in pages[side]:
                    seconds, queries = measure(client, url, expect)
                    results[label].append({"seconds": seconds, "queries": queries})
            print(
                f"    round {index + 1}/{ROUNDS} ({order[0]} first): stock "
                f"{results[pages['stock'][0][0]][-1]['seconds']:.3f} s, ar_customer_centric "
                f"{results[pages['ar'][0][0]][-1]['seconds']:.3f} s",
                flush=True,
            )
    finally:
        for name, _template in sides.values():
            Registry.delete(name)
            arsuite.drop_db(pg, name)
    print(f"== portal: {N_INVOICES} invoices ({N_OPEN} open), {ROUNDS} rounds in turns, load {load_average()} ==")
    for label, series in results.items():
        report_series(label, series)
        print(f"{'':52s} {series[-1]['queries']} queries per request", flush=True)
    report_ratio(
        "/my/invoices ar_customer_centric / stock",
        results[pages["ar"][0][0]],
        results[pages["stock"][0][0]],
        " (goal <= 1.10x)",
    )


if __name__ == "__main__":
    main()
