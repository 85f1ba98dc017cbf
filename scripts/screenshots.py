#!/usr/bin/env python3
"""Screenshots for the README, taken by headless Chromium against `make run`'s database.

    make run                                   # in another terminal: serves ar_demo on :8069
    .venv/bin/python scripts/screenshots.py    # writes docs/screenshots/*.png

Options: --url (default http://127.0.0.1:8069), --db (default ar_demo), --mail-url (make run's
mail sink, default http://127.0.0.1:8025), --out, --only NAME[,NAME].
It logs in through Odoo's JSON-RPC (`/web/session/authenticate`), hands the session cookie
to Chromium over the DevTools protocol (`websocket-client`), opens each page, waits for the
web client to settle and saves `Page.captureScreenshot`. The letter PDF is rendered by
Odoo's report route and turned into a PNG with `pdftoppm`; reminder e-mails are rendered
from the queued `mail.mail` bodies of the demo's dunning run. The invoice e-mail (its "Pay now"
button) and a sent reminder are shot as the buyer received them, from the mail sink's page.
Credit monitoring: when the demo has no assessment yet (its nightly cron has not run), the
set-up asks for one as admin (`ar.credit.risk.action_recompute`, the cron's code for the
demo company), then shoots the list, the assessment of a customer graded B-E and the risk
section of that customer's form. Promises to pay: the buyer's form in the portal; when the demo has no
promise yet, the buyer sends two through it (one confirmed, one to review), then the accountant's list.
Payment plans (before the promises, which would hold the overdue invoices): the buyer's form with its
schedule and, after proposing one when the demo has none, the plan's page.
"""

import argparse
import base64
import html
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

REPO = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 820


# ----------------------------------------------------------------------------- Odoo side
class Odoo:
    def __init__(self, url, db):
        self.url = url.rstrip("/")
        self.db = db
        self.session = requests.Session()

    def login(self, login, password):
        self.session = requests.Session()
        res = self.session.post(
            f"{self.url}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": self.db, "login": login, "password": password}},
            timeout=60,
        )
        res.raise_for_status()
        if res.json().get("error"):
            raise SystemExit(f"login {login} failed: {res.json()['error']['data']['message']}")
        return self.session.cookies.get("session_id")

    def call(self, model, method, *args, **kwargs):
        res = self.session.post(
            f"{self.url}/web/dataset/call_kw/{model}/{method}",
            json={"jsonrpc": "2.0", "params": {"model": model, "method": method, "args": args, "kwargs": kwargs}},
            timeout=120,
        )
        res.raise_for_status()
        data = res.json()
        if data.get("error"):
            raise RuntimeError(f"{model}.{method}: {data['error']['data']['message']}")
        return data["result"]

    def search_read(self, model, domain, fields, limit=None, order=None):
        kwargs = {"fields": fields}
        if limit:
            kwargs["limit"] = limit
        if order:
            kwargs["order"] = order
        return self.call(model, "search_read", domain, **kwargs)


# ----------------------------------------------------------------------------- Chromium side
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not binary:
            raise SystemExit("Chromium not found (chromium, chromium-browser or google-chrome on PATH)")
        self.profile = tempfile.mkdtemp(prefix="ar_suite_shots_")
        port = free_port()
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while True:
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                if time.time() > deadline:
                    self.close()
                    raise SystemExit("Chromium did not open its DevTools port") from None
                time.sleep(0.3)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.msg_id = 0
        self.send("Page.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        self.msg_id += 1
        self.ws.send(json.dumps({"id": self.msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def set_session(self, url, session_id):
        self.send("Network.clearBrowserCookies")
        if session_id:
            self.send("Network.setCookie", name="session_id", value=session_id, url=url, path="/")

    def evaluate(self, expression):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    def goto(self, url, ready="document.readyState === 'complete'", settle=1.5, timeout=40):
        self.send("Page.navigate", url=url)
        deadline = time.time() + timeout
        time.sleep(0.5)
        while time.time() < deadline:
            try:
                if self.evaluate(f"Boolean({ready})"):
                    break
            except (RuntimeError, websocket.WebSocketTimeoutException):
                pass
            time.sleep(0.3)
        else:
            print(f"    (timed out waiting for {ready!r} on {url})")
        time.sleep(settle)

    def goto_done(self, ready, timeout=40):
        """Wait for a navigation started by the page itself (a form sent) to reach ``ready``."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(f"Boolean({ready})"):
                    return
            except (RuntimeError, websocket.WebSocketTimeoutException):
                pass
            time.sleep(0.3)
        print(f"    (timed out waiting for {ready!r})")

    def shot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        print(f"    {path.relative_to(REPO)} ({path.stat().st_size // 1024} KB)")

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


# ----------------------------------------------------------------------------- the shots
WEBCLIENT_READY = "document.querySelector('.o_action_manager .o_view_controller, .o_action_manager .o_form_view')"
PORTAL_READY = "document.readyState === 'complete' && document.querySelector('#wrap, main')"


def shot_portal(odoo, browser, out):
    session = odoo.login("buyer", "buyer")
    browser.set_session(odoo.url, session)
    browser.goto(f"{odoo.url}/my/invoices", ready=PORTAL_READY)
    browser.shot(out / "portal_invoices.png")
    invoices = odoo.call(
        "account.move",
        "search_read",
        [
            ("move_type", "=", "out_invoice"),
            ("payment_state", "in", ["not_paid", "partial"]),
            ("ar_dispute_state", "=", False),
        ],
        fields=["id", "access_url"],
        limit=1,
        order="invoice_date_due",
    )
    if invoices:
        # the one-click pay link of the e-mails: the invoice with its payment form open
        browser.goto(f"{odoo.url}{invoices[0]['access_url']}?payment=True#portal_pay", ready=PORTAL_READY, settle=3)
        browser.shot(out / "portal_invoice_pay.png")
    undisputed = odoo.call(
        "account.move",
        "search_read",
        [("move_type", "=", "out_invoice"), ("payment_state", "=", "not_paid"), ("ar_dispute_state", "=", False)],
        fields=["id"],
        limit=1,
    )
    if undisputed:
        browser.goto(f"{odoo.url}/my/invoices/{undisputed[0]['id']}/dispute", ready=PORTAL_READY, settle=1.5)
        browser.shot(out / "portal_dispute.png")


def shot_guest_pay_all(odoo, browser, out):
    odoo.login("admin", "admin")
    partner = odoo.search_read("res.users", [("login", "=", "buyer")], ["partner_id"], limit=1)
    if not partner:
        return
    try:
        url = odoo.call("ar.suite.demo", "ar_suite_screenshot_pay_all_url", partner[0]["partner_id"][0])
    except RuntimeError as exc:
        print(f"    (no guest pay-all link: {exc})")
        return
    browser.set_session(odoo.url, None)
    browser.goto(url, ready=PORTAL_READY, settle=2.5)
    browser.shot(out / "guest_pay_all.png")


def shot_backend(odoo, browser, out):
    session = odoo.login("accountant", "accountant")
    browser.set_session(odoo.url, session)
    browser.goto(f"{odoo.url}/odoo/action-ar_suite.ar_suite_dashboard_action", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "dashboard.png")
    browser.goto(f"{odoo.url}/odoo/action-ar_suite.ar_suite_receivable_report_action", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "receivables_analysis.png")
    peppol = odoo.search_read("account.move", [("ar_peppol_state", "=", "rejected")], ["id"], limit=1)
    peppol = peppol or odoo.search_read("account.move", [("ar_peppol_state", "!=", False)], ["id"], limit=1)
    if peppol:
        browser.goto(
            f"{odoo.url}/odoo/action-account.action_move_out_invoice/{peppol[0]['id']}",
            ready=WEBCLIENT_READY,
            settle=3,
        )
        browser.evaluate(
            "(() => { const t = [...document.querySelectorAll('.o_notebook .nav-link')]"
            ".find(a => /peppol/i.test(a.textContent)); if (t) { t.click(); } })()"
        )
        time.sleep(1)
        browser.shot(out / "peppol_status.png")
    odoo.login("admin", "admin")
    session = odoo.session.cookies.get("session_id")
    browser.set_session(odoo.url, session)
    browser.goto(f"{odoo.url}/odoo/action-ar_suite.ar_suite_settings_action", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "onboarding.png")


def shot_reminders(odoo, browser, out, tmp):
    odoo.login("accountant", "accountant")
    for lang in ("nl", "fr", "de"):
        mail = odoo.call("ar.suite.demo", "ar_suite_screenshot_reminder", lang)
        if not mail:
            print(f"    (no {lang} reminder in the run waiting for review)")
            continue
        page = Path(tmp) / f"reminder_{lang}.html"
        page.write_text(
            "<html><head><meta charset='utf-8'><style>body{font-family:Arial,sans-serif;margin:24px;"
            "max-width:900px}.hdr{border-bottom:1px solid #ccc;margin-bottom:16px;padding-bottom:8px;"
            "color:#444}</style></head><body>"
            f"<div class='hdr'><b>{html.escape(mail['subject'] or '')}</b><br/>To: {html.escape(mail['to'])}</div>"
            f"{mail['body_html']}</body></html>"
        )
        browser.set_session(odoo.url, None)
        browser.goto(page.as_uri(), settle=1.5)
        browser.shot(out / f"reminder_{lang}.png")


def shot_letter(odoo, out, tmp):
    odoo.login("accountant", "accountant")
    letter = odoo.call("ar.suite.demo", "ar_suite_screenshot_letter")
    if not letter:
        print("    (no reminder letter in the run waiting for review)")
        return
    report, ids = letter
    res = odoo.session.get(f"{odoo.url}/report/pdf/{report}/{','.join(map(str, ids))}", timeout=300)
    if res.status_code != 200 or not res.content.startswith(b"%PDF"):
        print(f"    (letter PDF not rendered: HTTP {res.status_code})")
        return
    pdf = Path(tmp) / "letter.pdf"
    pdf.write_bytes(res.content)
    target = out / "reminder_letter"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", pdf, target], check=True)
    print(f"    {target.with_suffix('.png').relative_to(REPO)}")


def shot_mails(odoo, mail_url, browser, out):
    """The invoice e-mail and a reminder as the buyer receives them, from make run's mail sink."""
    try:
        mails = requests.get(f"{mail_url}/index.json", timeout=10).json()
    except (requests.RequestException, ValueError):
        print(f"    (no mail sink answering on {mail_url})")
        return
    # the first mail about an invoice is the invoice itself (later ones: dispute, reminders...)
    first_of = {}
    for mail in mails:  # newest first
        if mail["objects"].startswith("account.move-"):
            first_of[mail["objects"]] = mail["number"]
    invoice_mails = set(first_of.values())
    # reminders carry no X-Odoo-Objects header: they are recognised by the subjects of the sent lines
    odoo.login("accountant", "accountant")
    sent = odoo.search_read("ar.dunning.line", [("state", "=", "done"), ("subject", "!=", False)], ["subject"])
    reminder_subjects = {line["subject"] for line in sent}
    buyer = [m for m in mails if "dekroon" in m["to"]]
    wanted = {
        "email_invoice.png": lambda m: m["number"] in invoice_mails,
        "email_reminder.png": lambda m: m["subject"] in reminder_subjects,
    }
    browser.set_session(mail_url, None)
    for name, test in wanted.items():
        mail = next((m for m in buyer if test(m)), None) or next((m for m in mails if test(m)), None)
        if not mail:
            print(f"    (no mail for {name} in the sink yet)")
            continue
        browser.goto(f"{mail_url}/mail/{mail['number']}", settle=2)
        browser.shot(out / name)


def shot_credit(odoo, browser, out):
    """Credit monitoring: the list, one customer's assessment and the risk section of its form."""
    session = odoo.login("admin", "admin")  # a credit controller: the screens show the actions
    if not odoo.call("ar.credit.risk", "search_count", []):
        # the nightly assessment has not run yet: run its code for the demo company now
        odoo.call("ar.credit.risk", "action_recompute", [])
    browser.set_session(odoo.url, session)
    browser.goto(f"{odoo.url}/odoo/action-ar_dunning.ar_credit_risk_action", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "credit_monitoring.png")
    # the buyer's company when it is graded below A, else the riskiest customer (ordered by score)
    risks = odoo.search_read("ar.credit.risk", [("grade", "!=", "A")], ["partner_id"], limit=1, order="score desc")
    buyer = odoo.search_read("res.users", [("login", "=", "buyer")], ["partner_id"], limit=1)
    if buyer:
        company = odoo.search_read("res.partner", [("id", "=", buyer[0]["partner_id"][0])], ["commercial_partner_id"])
        mine = odoo.search_read(
            "ar.credit.risk",
            [("grade", "!=", "A"), ("partner_id", "=", company[0]["commercial_partner_id"][0])],
            ["partner_id"],
            limit=1,
        )
        risks = mine or risks
    if not risks:
        print("    (no customer graded below A)")
        return
    risk = risks[0]
    browser.goto(
        f"{odoo.url}/odoo/action-ar_dunning.ar_credit_risk_action/{risk['id']}", ready=WEBCLIENT_READY, settle=3
    )
    browser.shot(out / "credit_risk.png")
    browser.goto(
        f"{odoo.url}/odoo/action-account.res_partner_action_customer/{risk['partner_id'][0]}",
        ready=WEBCLIENT_READY,
        settle=3,
    )
    browser.evaluate(
        "(() => { const t = document.querySelector('.o_notebook .nav-link[name=\"accounting\"]');"
        " if (t) { t.click(); } })()"
    )
    time.sleep(1)
    browser.evaluate(
        "(() => { const f = document.querySelector('.o_field_widget[name=\"ar_credit_open\"]');"
        " if (f) { f.scrollIntoView({block: 'center'}); } })()"
    )
    time.sleep(1)
    browser.shot(out / "credit_customer.png")


def shot_promises(odoo, browser, out):
    """Promise to pay: the buyer's form in the portal, then the accountant's list of promises. When the
    demo has no promise yet, the buyer sends two through that form: the earliest overdue invoice by a
    date within the policy (confirmed at once), the rest by a later one (for the accountant to review)."""
    session = odoo.login("buyer", "buyer")
    browser.set_session(odoo.url, session)
    fill = (
        "(() => {{ const boxes = [...document.querySelectorAll('.o_ar_promise_check')];"
        " boxes.forEach((b, i) => {{ b.checked = {tick}; }});"
        " if (!boxes.some(b => b.checked)) {{ return false; }}"
        " document.querySelector('#ar_promise_date').value ="
        " new Date(Date.now() + {days} * 864e5).toISOString().slice(0, 10);"
        " document.querySelector('#ar_promise_note').value = {note};"
        " if ({send}) {{ document.querySelector('.o_ar_promise_submit').click(); }} return true; }})()"
    )
    note = json.dumps("Wij betalen zodra onze klant ons betaald heeft.")
    browser.goto(f"{odoo.url}/my/invoices/promise", ready=PORTAL_READY)
    browser.evaluate(fill.format(tick="true", days=10, note=note, send="false"))
    browser.shot(out / "portal_promise.png")
    odoo.login("accountant", "accountant")
    if not odoo.call("ar.dunning.promise", "search_count", []):
        for tick, days in (("i === 0", 10), ("true", 45)):
            browser.goto(f"{odoo.url}/my/invoices/promise", ready=PORTAL_READY, settle=0.5)
            if browser.evaluate(fill.format(tick=tick, days=days, note=note, send="true")):
                browser.goto_done("location.search.includes('ar_promise=')")
    session = odoo.login("accountant", "accountant")
    browser.set_session(odoo.url, session)
    browser.goto(f"{odoo.url}/odoo/action-ar_dunning.ar_dunning_promise_action", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "dunning_promises.png")


def shot_plans(odoo, browser, out):
    """Payment plans, the buyer's side: the form with the server's schedule, then the plan's page with its
    progress and the next instalment's payment form. When the demo buyer has no plan yet, it proposes one
    through that form (the overdue invoices it ticks, three monthly instalments from today) and, if the
    policy sends it for review, the accountant accepts it. Then the accountant's side: the list of plans,
    the kanban by state and the buyer's plan form with its schedule."""
    session = odoo.login("buyer", "buyer")
    browser.set_session(odoo.url, session)
    today = time.strftime("%Y-%m-%d")
    browser.goto(
        f"{odoo.url}/my/invoices/plan?instalment_count=3&frequency=monthly&first_date={today}", ready=PORTAL_READY
    )
    browser.shot(out / "portal_plan_form.png")
    odoo.login("accountant", "accountant")
    buyer = odoo.search_read("res.users", [("login", "=", "buyer")], ["partner_id"], limit=1)
    commercial = odoo.search_read("res.partner", [("id", "=", buyer[0]["partner_id"][0])], ["commercial_partner_id"])
    mine = [
        ("state", "in", ["proposed", "active", "late"]),
        ("partner_id", "=", commercial[0]["commercial_partner_id"][0]),
    ]
    plans = odoo.search_read("ar.dunning.plan", mine, ["id", "state"])
    if not plans:
        note = json.dumps("Ons seizoen begint in maart.")
        sent = browser.evaluate(
            "(() => { const button = document.querySelector('.o_ar_plan_submit'); if (!button) { return false; }"
            f" document.querySelector('#ar_plan_note').value = {note}; button.click(); return true; }})()"
        )
        if sent:
            browser.goto_done("location.search.includes('ar_plan=')")
        plans = odoo.search_read("ar.dunning.plan", mine, ["id", "state"])
    if not plans:
        print("    (no payment plan: the demo buyer has no invoice a plan may cover)")
        return
    plan = plans[0]
    if plan["state"] == "proposed":
        odoo.call("ar.dunning.plan", "action_accept", [plan["id"]])
    browser.goto(f"{odoo.url}/my/plans/{plan['id']}", ready=PORTAL_READY, settle=3)
    browser.shot(out / "portal_plan.png")
    session = odoo.login("accountant", "accountant")
    browser.set_session(odoo.url, session)
    action = f"{odoo.url}/odoo/action-ar_dunning.ar_dunning_plan_action"
    browser.goto(action, ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "dunning_plans.png")
    # wider, so that the five states' columns fit
    browser.send("Emulation.setDeviceMetricsOverride", width=1820, height=HEIGHT, deviceScaleFactor=1, mobile=False)
    browser.goto(f"{action}?view_type=kanban", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "dunning_plans_kanban.png")
    browser.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
    browser.goto(f"{action}/{plan['id']}", ready=WEBCLIENT_READY, settle=3)
    browser.shot(out / "dunning_plan_form.png")


SHOTS = ("portal", "guest", "plans", "promises", "backend", "reminders", "letter", "mails", "credit")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("AR_URL", "http://127.0.0.1:8069"))
    parser.add_argument("--db", default=os.environ.get("AR_DEMO_DB", "ar_demo"))
    parser.add_argument("--mail-url", default=f"http://127.0.0.1:{os.environ.get('AR_MAIL_PORT', '8025')}")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--only", default=",".join(SHOTS), help=f"comma-separated subset of {', '.join(SHOTS)}")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    odoo = Odoo(args.url, args.db)
    try:
        requests.get(f"{odoo.url}/web/health", timeout=5)
    except requests.RequestException:
        sys.exit(f"Odoo is not answering on {odoo.url}: start `make run` first.")
    browser = Browser()
    tmp = tempfile.mkdtemp(prefix="ar_suite_shots_")
    try:
        print(f"==> Screenshots of {odoo.url} (database {odoo.db}) into {out}")
        if "portal" in only:
            shot_portal(odoo, browser, out)
        if "guest" in only:
            shot_guest_pay_all(odoo, browser, out)
        if "plans" in only:
            shot_plans(odoo, browser, out)
        if "promises" in only:
            shot_promises(odoo, browser, out)
        if "backend" in only:
            shot_backend(odoo, browser, out)
        if "reminders" in only:
            shot_reminders(odoo, browser, out, tmp)
        if "letter" in only:
            shot_letter(odoo, out, tmp)
        if "mails" in only:
            shot_mails(odoo, args.mail_url.rstrip("/"), browser, out)
        if "credit" in only:
            shot_credit(odoo, browser, out)
    finally:
        browser.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
