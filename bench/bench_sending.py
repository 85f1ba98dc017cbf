"""Send invoices through Odoo's batch flow, with and without ar_suite, PDFs rendered for real.

100 invoices of 30 customers (FULL=1: 1,000 of 300; N_INVOICES / N_CUSTOMERS override):

A. Stock Odoo (the base template: Odoo's modules, no ar_*): every invoice by e-mail.
B. ar_customer_centric installed, the same invoices, every invoice by e-mail.
C. ar_customer_centric, customers with mixed preferences (e-mail, portal notification, postal
   letter, AP portal (cXML to a local network), fallback from an unset AP portal to e-mail,
   consolidated statement (held), manual).

All go through `account.move.send._generate_and_send_invoices` in batches of 100 (the size the
sending cron uses with job_count=100), outside test mode: every invoice PDF is rendered by
wkhtmltopdf, one invoice per call on every side (`account.pdf_generation_batch` = 0: this
machine's wkhtmltopdf, unpatched Qt, cannot split a multi-invoice PDF). Each side's data is built
once; every measurement runs in a subprocess of its own on a fresh copy, in turns A B C A B C ...
over ROUNDS (>= 5) rounds; median and spread.
"""

import hashlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROUNDS, Timer, alternate, arsuite, load_average, report_ratio, report_series

FULL = os.environ.get("FULL") == "1"
N_CUSTOMERS = int(os.environ.get("N_CUSTOMERS", "300" if FULL else "30"))
N_INVOICES = int(os.environ.get("N_INVOICES", "1000" if FULL else "100"))
BATCH = 100


class OkNetwork(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (
            b'<cXML payloadID="a@b" timestamp="2026-12-01T00:00:00+00:00">'
            b'<Response><Status code="200" text="OK"/></Response></cXML>'
        )
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


def registry_of(db):
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", str(arsuite.CONF), "-d", db, "--log-level=warn"], setup_logging=True)
    return Registry(db)


def build(db, mixed, endpoint):
    """A company, its customers and N_INVOICES posted invoices waiting for the sending cron."""
    import odoo
    from odoo import api

    with registry_of(db).cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        be = env.ref("base.be")
        company = env["res.company"].create({"name": "Bench Sending", "country_id": be.id})
        company.email = "ar@bench.example"
        env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
        env = env(context={"allowed_company_ids": [company.id]})
        # one invoice per wkhtmltopdf call, on every side (see the module docstring)
        env["ir.config_parameter"].set_param("account.pdf_generation_batch", "0")
        env.user.company_ids |= company
        env.user.company_id = company
        if mixed:
            company.ar_structured_reference_type = "be"
            # the local network listens on 127.0.0.1: allowed as an administrator would allow it
            env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", "1")
        address = {"street": "Rue Neuve 1", "city": "Bruxelles", "zip": "1000", "country_id": be.id}
        partners = env["res.partner"].create(
            [
                {"name": f"Customer {i}", "is_company": True, "email": f"ap{i}@customer.example", **address}
                for i in range(N_CUSTOMERS)
            ]
        )
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
        cr.commit()
        cr.execute("ANALYZE")
        return {"company": company.id, "moves": moves.ids}


def side(db, mixed, ids):
    from odoo import api

    with registry_of(db).cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]})
        moves = env["account.move"].browse(ids["moves"])
        Send = env["account.move.send"]
        with Timer(env) as timer:
            for start in range(0, len(moves), BATCH):
                Send._generate_and_send_invoices(moves[start : start + BATCH], from_cron=True)
                cr.commit()
        result = {"seconds": timer.seconds, "queries": timer.queries}
        # the invoice PDF is a field attachment (res_field): a plain attachment search does not see it
        moves.invalidate_recordset(["invoice_pdf_report_id"])
        result["pdfs"] = len(moves.filtered("invoice_pdf_report_id"))
        result["emails"] = env["mail.message"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", moves.ids), ("message_type", "=", "comment")]
        )
        if mixed:
            groups = env["ar.delivery.log"]._read_group(
                [("move_id", "in", moves.ids)], ["channel", "state", "is_fallback"], ["__count"]
            )
            result["channels"] = ", ".join(f"{c}/{s}{'/fallback' if f else ''}: {n}" for c, s, f, n in groups)
    return result


def subprocess_json(*args):
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
    return json.loads(lines[-1])


def main():
    if len(sys.argv) > 1:  # a subprocess: --build DB MIXED ENDPOINT | --side DB MIXED IDS
        mixed = sys.argv[3] == "1"
        if sys.argv[1] == "--build":
            result = build(sys.argv[2], mixed, sys.argv[4])
        else:
            result = side(sys.argv[2], mixed, json.loads(sys.argv[4]))
        print(json.dumps(result), flush=True)
        return

    pg, base, full = base_template()
    server = ThreadingHTTPServer(("127.0.0.1", 0), OkNetwork)
    # cXML goes over https only: a certificate for 127.0.0.1 made for this run, trusted by requests
    # in the subprocesses through REQUESTS_CA_BUNDLE
    folder = tempfile.mkdtemp(prefix="bench_cxml_")
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    os.environ["REQUESTS_CA_BUNDLE"] = cert
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"https://127.0.0.1:{server.server_address[1]}/cxml"
    kinds = {
        "stock Odoo, all by e-mail": (base, False),
        "ar_customer_centric, all by e-mail": (full, False),
        "ar_customer_centric, mixed preferences": (full, True),
    }
    books = {label: f"bench_sending_{i}{arsuite.SUFFIX}" for i, label in enumerate(kinds)}
    run_db = f"bench_sending_run{arsuite.SUFFIX}"
    print(f"load average at start: {load_average()}", flush=True)
    try:
        for label, (template, _mixed) in kinds.items():  # copy all first: templates may be rebuilt
            arsuite.copy_db(pg, template, books[label])
        ids = {
            label: subprocess_json("--build", books[label], "1" if mixed else "0", endpoint)
            for label, (_template, mixed) in kinds.items()
        }

        def measure(label):
            def run_once():
                arsuite.copy_db(pg, books[label], run_db)
                try:
                    return subprocess_json("--side", run_db, "1" if kinds[label][1] else "0", json.dumps(ids[label]))
                finally:
                    arsuite.drop_db(pg, run_db)

            return run_once

        results = alternate({label: measure(label) for label in kinds})
    finally:
        for db in books.values():
            arsuite.drop_db(pg, db)
        server.shutdown()
    print(f"load average at end: {load_average()}", flush=True)
    print(f"== sending: {N_INVOICES} invoices of {N_CUSTOMERS} customers, PDFs rendered, {ROUNDS} rounds in turns ==")
    for label, series in results.items():
        first = series[0]
        median = report_series(label, series)
        print(
            f"    {N_INVOICES / median:.2f} inv/s, {first['queries'] / N_INVOICES:.1f} queries/inv, "
            f"{first['pdfs']} PDFs, {first['emails']} e-mails posted {first.get('channels', '')}"
        )
    stock = results["stock Odoo, all by e-mail"]
    report_ratio(
        "ar_customer_centric all e-mail / stock",
        results["ar_customer_centric, all by e-mail"],
        stock,
        " (goal <= 1.20x)",
    )
    report_ratio(
        "ar_customer_centric mixed / stock",
        results["ar_customer_centric, mixed preferences"],
        stock,
        " (goal <= 1.20x)",
    )


if __name__ == "__main__":
    main()
