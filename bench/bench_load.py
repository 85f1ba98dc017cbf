"""Load test of the buyer's portal on Odoo's prefork server, next to stock Odoo under the same load.

Two servers run side by side, each `odoo-bin --workers=4 --max-cron-threads=1` with memory and
time limits (the README's production settings), on two databases holding the same book:

A. stock Odoo (the base template: Odoo's modules, no ar_*);
B. ar_suite installed.

Each book: 50 customers with a portal buyer each, 20 invoices per customer (15 paid, 5 open of
which 3 overdue). Locust (a maintained PyPI package, in .local/load-venv, pinned in
bench/requirements-load.txt) runs 50 concurrent logged-in buyers, headless, against 127.0.0.1
only, LOAD_SECONDS (30) per run, with 1-3 s of think time between clicks:
/my/invoices (3 of 6 clicks), an open invoice's page /my/invoices/<id> (2 of 6) and the pay-all
page (1 of 6: ar_suite's /my/pay-all/<signed link>; stock Odoo's own "pay overdue invoices" page
/my/invoices/overdue). The runs alternate A B A B ... over ROUNDS (>= 5) rounds; reported per
page: median over the rounds of p50 and p95 latency, spread, requests and errors (non-200 or
page marker missing), and the servers' log checks (workers alive, the cron worker, no worker
killed for memory or time).

The load comes from one address (127.0.0.1): in the ar_suite book the guest rate limit
(`ar_customer_centric.guest_rate_limit`, 60 a minute per address and worker) is raised so that
the test measures the page, not the limiter.

    AR_WORKER=me BENCH=load make bench            # LOAD_SECONDS=60 USERS=50 ROUNDS=5
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROUNDS, arsuite, base_template_name, load_average, stats

USERS = int(os.environ.get("USERS", "50"))
LOAD_SECONDS = int(os.environ.get("LOAD_SECONDS", "30"))
PER_BUYER = 20
PASSWORD = "bench-load-1"
LOAD_VENV = arsuite.LOCAL / "load-venv"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-load.txt"
PAGES = ["/my/invoices", "/my/invoices/<id>", "pay-all page"]
# the production settings documented in the README (section "Serving in production")
SERVER_OPTIONS = [
    "--workers=4",
    "--max-cron-threads=1",
    f"--limit-memory-soft={1024 * 1024 * 1024}",
    f"--limit-memory-hard={1536 * 1024 * 1024}",
    "--limit-time-cpu=60",
    "--limit-time-real=120",
    "--limit-request=8192",
]


def ensure_load_venv():
    stamp = LOAD_VENV / ".stamp"
    wanted = REQUIREMENTS.read_text()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print("==> load generator: a virtual environment with locust in .local/load-venv", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(LOAD_VENV)], check=True)
    pip = [str(LOAD_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ the book (subprocess)
def build(db, with_ar):
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", str(arsuite.CONF), "-d", db, "--log-level=warn"], setup_logging=True)
    with Registry(db).cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        be = env.ref("base.be")
        company = env["res.company"].create({"name": "Bench Load Supplier", "country_id": be.id})
        env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
        env = env(context={"allowed_company_ids": [company.id], "tracking_disable": True})
        env.user.company_ids |= company
        env.user.company_id = company
        env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", True)
        if with_ar:
            env["ir.config_parameter"].set_param("ar_customer_centric.guest_rate_limit", 1000000)
        provider = env["payment.provider"].search([("code", "=", "demo"), ("company_id", "=", company.id)], limit=1)
        provider.write({"state": "test", "is_published": True})
        customers = env["res.partner"].create(
            [
                {"name": f"Load Buyer {i} NV", "is_company": True, "email": f"ap{i}@buyer.example", "country_id": be.id}
                for i in range(USERS)
            ]
        )
        contacts = env["res.partner"].create(
            [{"name": f"Buyer {i}", "parent_id": c.id, "email": f"b{i}@buyer.example"} for i, c in enumerate(customers)]
        )
        portal = env.ref("base.group_portal")
        users = env["res.users"].create(
            [
                {
                    "name": contact.name,
                    "login": f"load_buyer_{i}",
                    "partner_id": contact.id,
                    "company_id": company.id,
                    "company_ids": [odoo.Command.set(company.ids)],
                    "group_ids": [odoo.Command.set(portal.ids)],
                }
                for i, contact in enumerate(contacts)
            ]
        )
        users[0].password = PASSWORD
        env.flush_all()
        cr.execute(
            "UPDATE res_users SET password = (SELECT password FROM res_users WHERE id = %s) WHERE id = ANY(%s)",
            [users[0].id, users.ids],
        )
        today = odoo.fields.Date.today()
        moves = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    # addressed to the buyer (a contact of the customer): stock Odoo's "pay
                    # overdue invoices" page lists only the invoices of the user's own partner
                    "partner_id": contact.id,
                    "invoice_date": today - timedelta(days=10 * (PER_BUYER - j)),
                    "invoice_date_due": today - timedelta(days=10 * (PER_BUYER - j) - 30),
                    "invoice_line_ids": [
                        odoo.Command.create({"name": f"Service {j}", "quantity": 1, "price_unit": 100.0 + j})
                    ],
                }
                for contact in contacts
                for j in range(PER_BUYER)
            ]
        )
        moves.action_post()
        result = []
        Register = env["account.payment.register"]
        for customer in customers:
            own = moves.filtered(lambda m, c=customer: m.commercial_partner_id == c).sorted("invoice_date")
            paid, open_ = own[: PER_BUYER - 5], own[PER_BUYER - 5 :]
            for start in range(0, len(paid), 5):  # one bank transfer per five invoices
                Register.with_context(active_model="account.move", active_ids=paid[start : start + 5].ids).create(
                    {"group_payment": True}
                )._create_payments()
            if with_ar:
                url, marker = f"/my/pay-all/{customer._ar_get_pay_all_token()}", "o_ar_pay_all_row"
            else:
                url, marker = "/my/invoices/overdue", 'id="o_payment_form"'
            result.append(
                {
                    "invoice": open_[-1].id,
                    "invoice_name": open_[-1].name,
                    "pay_all_url": url,
                    "pay_all_marker": marker,
                }
            )
        cr.commit()
        cr.execute("ANALYZE")
    return result


# ------------------------------------------------------------------ servers and runs
class Server:
    def __init__(self, db, label):
        self.db, self.label = db, label
        self.port, self.gevent_port = free_port(), free_port()
        self.log = arsuite.LOG_DIR / f"bench-load-{label}.log"
        self.log.unlink(missing_ok=True)
        cmd = arsuite.odoo_cmd(
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--http-port={self.port}",
            f"--gevent-port={self.gevent_port}",
            f"--logfile={self.log}",
            "--log-level=info",
            *SERVER_OPTIONS,
        )
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        import requests

        for _i in range(240):
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{label}: odoo exited, see {self.log}")
            time.sleep(1)
        else:
            raise RuntimeError(f"{label}: odoo did not answer on {self.url}, see {self.log}")

    def sessions(self, buyers):
        """Log every buyer in once (not measured); their session cookies go to the load users."""
        import requests

        for i, buyer in enumerate(buyers):
            client = requests.Session()
            page = client.get(f"{self.url}/web/login", timeout=60).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            response = client.post(
                f"{self.url}/web/login",
                data={"login": f"load_buyer_{i}", "password": PASSWORD, "csrf_token": csrf, "redirect": "/my"},
                allow_redirects=False,
                timeout=60,
            )
            assert response.status_code in (302, 303), (self.label, response.status_code)
            buyer["session"] = client.cookies["session_id"]
            # warm this worker's caches (QWeb, assets) like a server that has been up a while
            client.get(f"{self.url}/my/invoices", timeout=60)
        return buyers

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        text = self.log.read_text(errors="replace")
        return {
            "workers started": len(re.findall(r"Worker WorkerHTTP \(\d+\) alive", text)),
            "cron worker started": len(re.findall(r"Worker WorkerCron \(\d+\) alive", text)),
            "killed for memory/time": len(re.findall(r"virtual memory limit|CPU time limit|Worker .* timeout", text)),
            "ERROR lines": len(re.findall(r" (ERROR|CRITICAL) ", text)),
        }


def locust_run(server, users_file, csv_prefix):
    cmd = [
        str(LOAD_VENV / "bin" / "locust"),
        "-f",
        str(Path(__file__).resolve().parent / "load_portal_locust.py"),
        "--headless",
        "--only-summary",
        "--reset-stats",
        "-u",
        str(USERS),
        "-r",
        str(USERS),
        "-t",
        f"{LOAD_SECONDS}s",
        "--stop-timeout",
        "10",
        "--host",
        server.url,
        "--csv",
        str(csv_prefix),
    ]
    env = dict(os.environ, BENCH_LOAD_USERS=str(users_file))
    env.pop("PYTHONPATH", None)
    subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=LOAD_SECONDS + 120, check=False
    )
    rows = {}
    import csv

    with open(f"{csv_prefix}_stats.csv") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] in PAGES:
                rows[row["Name"]] = {
                    "requests": int(row["Request Count"]),
                    "errors": int(row["Failure Count"]),
                    "p50": float(row["50%"]),
                    "p95": float(row["95%"]),
                }
    return rows


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
    if len(sys.argv) > 1:  # subprocess: --build DB 0|1
        print(json.dumps(build(sys.argv[2], sys.argv[3] == "1")), flush=True)
        return
    ensure_load_venv()
    pg = arsuite.setup(quiet=True)
    # the whole suite, as deployed (one ensure_templates call: another module set would drop it)
    full = arsuite.ensure_templates(pg, [], arsuite.ALL_MODULES)
    base = base_template_name()
    sides = {"stock Odoo": (base, False), "ar_suite": (full, True)}
    dbs = {label: f"bench_load_{i}{arsuite.SUFFIX}" for i, label in enumerate(sides)}
    work = arsuite.LOCAL / "bench-load"
    work.mkdir(parents=True, exist_ok=True)
    servers = {}
    print(f"load average at start: {load_average()}", flush=True)
    try:
        for label, (template, _with_ar) in sides.items():
            arsuite.copy_db(pg, template, dbs[label])
        users_files = {}
        for label, (_template, with_ar) in sides.items():
            buyers = subprocess_json("--build", dbs[label], "1" if with_ar else "0")
            servers[label] = Server(dbs[label], label.replace(" ", "_"))
            users_files[label] = work / f"users-{label.replace(' ', '_')}.json"
            users_files[label].write_text(json.dumps(servers[label].sessions(buyers)))
        results = {label: [] for label in sides}
        for index in range(ROUNDS):
            for label, server in servers.items():
                rows = locust_run(server, users_files[label], work / f"{label.replace(' ', '_')}-{index}")
                results[label].append(rows)
                summary = ", ".join(
                    f"{p} p50 {r['p50']:.0f} p95 {r['p95']:.0f} ms ({r['errors']} err)" for p, r in rows.items()
                )
                print(f"    round {index + 1}/{ROUNDS} {label}: {summary}", flush=True)
    finally:
        checks = {label: server.stop() for label, server in servers.items()}
        for db in dbs.values():
            arsuite.drop_db(pg, db)
    print(f"load average at end: {load_average()}", flush=True)
    print(
        f"== load: {USERS} concurrent buyers, {LOAD_SECONDS} s per run, {ROUNDS} rounds in turns, "
        f"{' '.join(SERVER_OPTIONS[:2])} =="
    )
    medians = {}
    for label, rounds in results.items():
        for page in PAGES:
            series = [r[page] for r in rounds if page in r]
            if not series:
                print(f"{label:12s} {page:20s} no requests")
                continue
            p50, _l, _h, spread50 = stats([s["p50"] for s in series])
            p95, low95, high95, _s = stats([s["p95"] for s in series])
            requests_, errors = sum(s["requests"] for s in series), sum(s["errors"] for s in series)
            medians[label, page] = (p50, p95)
            print(
                f"{label:12s} {page:20s} p50 {p50:6.0f} ms (spread {spread50:.0%})  p95 {p95:6.0f} ms "
                f"(min {low95:.0f}, max {high95:.0f})  {requests_} requests, {errors} errors"
            )
        print(f"    server log: {checks.get(label)}")
    if ("stock Odoo", "/my/invoices") in medians and ("ar_suite", "/my/invoices") in medians:
        stock, ar = medians["stock Odoo", "/my/invoices"], medians["ar_suite", "/my/invoices"]
        print(
            f"/my/invoices ar_suite / stock: p50 {ar[0] / stock[0]:.2f}x, p95 {ar[1] / stock[1]:.2f}x (goal <= 1.10x)"
        )


if __name__ == "__main__":
    main()
