"""Send 1,000 invoices of 300 customers through Odoo's batch flow, with and without ar_suite.

1. Stock Odoo (the base template: Odoo's modules, no ar_*): every invoice by e-mail.
2. ar_customer_centric installed, the same invoices, customers with mixed preferences
   (e-mail, portal notification, postal letter, AP portal (cXML to a local network),
   fallback from an unset AP portal to e-mail, consolidated statement (held), manual).

Both go through `account.move.send._generate_and_send_invoices` in batches of 100 (the size
the sending cron uses with job_count=100). Invoice documents are rendered as HTML unless
`--pdf` is given (see main()).
"""

import hashlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timer, arsuite, report

N_CUSTOMERS = 300
N_INVOICES = 1000
BATCH = 100


class OkNetwork(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'<cXML><Response><Status code="200" text="OK"/></Response></cXML>'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def base_template():
    pg = arsuite.setup(quiet=True)
    full = arsuite.ensure_templates(pg, [], ["ar_customer_centric"])
    deps = arsuite.odoo_dependencies()
    base_key = hashlib.sha1(
        ("|".join(deps) + (arsuite.ODOO_SRC / "odoo" / "release.py").read_text() + str(arsuite.ODOO_SRC)).encode()
    ).hexdigest()[:10]
    return (
        pg,
        f"ar_tmpl{arsuite.SUFFIX}_{arsuite.REPO_TAG}_base_{base_key}",
        full,
    )


def preferences(index, endpoint):
    """Mixed preferences of customer ``index`` (ar_suite run only), out of 20 customers:
    8 e-mail, 3 portal, 2 letter, 2 AP portal, 2 AP portal unset (fallback e-mail),
    2 consolidated statement, 1 manual."""
    cxml = {
        "invoice_sending_method": "ar_cxml",
        "ar_cxml_endpoint": endpoint,
        "ar_cxml_from_identity": "SUP",
        "ar_cxml_to_identity": "BUY",
        "ar_cxml_sender_identity": "SUP",
        "ar_cxml_shared_secret": "x",
    }
    table = (
        [{}] * 8
        + [{"invoice_sending_method": "ar_portal"}] * 3
        + [{"invoice_sending_method": "ar_letter"}] * 2
        + [cxml] * 2
        + [{"invoice_sending_method": "ar_cxml", "ar_fallback_sending_method": "email"}] * 2
        + [{"ar_invoice_grouping": "statement", "ar_statement_period": "monthly", "ar_statement_day": 1}] * 2
        + [{"invoice_sending_method": "manual"}]
    )
    return table[index % 20]


def run(db, label, mixed, endpoint):
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    registry = Registry(db)
    if "--pdf" not in sys.argv:
        # Invoice documents rendered as HTML (Odoo's test-mode rendering, switched on once the
        # registry is loaded): wkhtmltopdf costs the same in both runs and this machine's
        # wkhtmltopdf (unpatched Qt) renders one PDF per call, ~0.5 s each; --pdf keeps them.
        odoo.tools.config["test_enable"] = True
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        be = env.ref("base.be")
        company = env["res.company"].create({"name": f"Bench {label}", "country_id": be.id})
        company.email = "ar@bench.example"
        env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
        env = env(context={"allowed_company_ids": [company.id]})
        if "--pdf" in sys.argv:  # one PDF per wkhtmltopdf call (unpatched Qt cannot do more)
            env["ir.config_parameter"].set_param("account.pdf_generation_batch", "0")
        env.user.company_ids |= company
        env.user.company_id = company
        if mixed:
            company.ar_structured_reference_type = "be"
        address = {"street": "Rue Neuve 1", "city": "Bruxelles", "zip": "1000", "country_id": be.id}
        vals_list = [
            {"name": f"Customer {i}", "is_company": True, "email": f"ap{i}@customer.example", **address}
            for i in range(N_CUSTOMERS)
        ]
        partners = env["res.partner"].create(vals_list)
        if mixed:
            for i, partner in enumerate(partners):
                if prefs := preferences(i, endpoint):
                    partner.write(prefs)
        product = env["product.product"].create({"name": "Consulting", "list_price": 100.0})
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[i % N_CUSTOMERS].id,
                    "invoice_date": "2026-11-02",
                    "invoice_line_ids": [
                        odoo.Command.create({"product_id": product.id, "quantity": 1 + i % 3, "price_unit": 100.0})
                    ],
                }
                for i in range(N_INVOICES)
            ]
        )
        moves.action_post()
        # what the batch Send wizard does before the sending cron takes over
        moves.sending_data = {"author_user_id": env.uid, "author_partner_id": env.user.partner_id.id}
        env.cr.commit()
        Send = env["account.move.send"]
        with Timer(env) as timer:
            for start in range(0, N_INVOICES, BATCH):
                Send._generate_and_send_invoices(moves[start : start + BATCH], from_cron=True)
                env.cr.commit()
        report(label, timer.seconds, timer.queries, per_item=N_INVOICES, unit="invoice")
        if mixed:
            groups = env["ar.delivery.log"]._read_group(
                [("move_id", "in", moves.ids)], ["channel", "state", "is_fallback"], ["__count"]
            )
            print("    " + ", ".join(f"{c}/{s}{'/fallback' if f else ''}: {n}" for c, s, f, n in groups))
        sent = env["mail.message"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", moves.ids), ("message_type", "=", "comment")]
        )
        print(f"    e-mails posted: {sent}")
    odoo.tools.config["test_enable"] = False
    Registry.delete(db)
    return timer.seconds


def main():
    from odoo.tools import config

    pg, base, full = base_template()
    config.parse_config(["-c", str(arsuite.CONF), "--log-level=warn"], setup_logging=True)

    server = ThreadingHTTPServer(("127.0.0.1", 0), OkNetwork)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/cxml"
    results = {}
    runs = (
        ("bench_sending_stock", base, False, "stock Odoo, all by e-mail"),
        ("bench_sending_ar_email", full, False, "ar_customer_centric, all by e-mail"),
        ("bench_sending_ar", full, True, "ar_customer_centric, mixed preferences"),
    )
    for name, template, _mixed, _label in runs:  # copy both first: templates may be rebuilt meanwhile
        arsuite.copy_db(pg, template, name)
    try:
        for name, _template, mixed, label in runs:
            results[name] = run(name, label, mixed, endpoint)
    finally:
        for name, *_rest in runs:
            arsuite.drop_db(pg, name)
    stock = results["bench_sending_stock"]
    print(
        f"ar_customer_centric all e-mail / stock time: {results['bench_sending_ar_email'] / stock:.2f}x (goal <= 1.20x)"
    )
    print(f"ar_customer_centric mixed / stock time: {results['bench_sending_ar'] / stock:.2f}x (goal <= 1.20x)")
    server.shutdown()


if __name__ == "__main__":
    main()
