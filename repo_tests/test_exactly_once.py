"""Exactly-once with real processes and real commits.

Real Odoo processes (``odoo-bin shell`` with the project's configuration) work on this suite's
own copy of the test template database. The outside world is a set of local fakes on 127.0.0.1
(port 0) that count what reaches them: an SMTP server, a Storecove-like access point and a cXML
network. For the Peppol queue, cXML retries, autopay charging, statement generation and the
dunning execute:

(a) two processes run the job at the same instant (the cron and the manual button, or two workers);
(b) a process is killed with SIGKILL in the middle of a batch, then the job is run again.

Afterwards each e-mail, Peppol transmission, charge, cXML document and statement exists exactly
once. A process is stopped mid-batch without any hook in the code: either the fake server keeps
the n-th request unanswered (the request reached the provider, the answer never reaches Odoo),
or the test holds a row lock on the customer of an item, so that the process waits inside that
item's transaction after having committed the items before it.

Payment plans (issue 16): two plans proposed on one invoice at the same instant, and a plan accepted
while a payment is registered on its invoice, in the orders the invoice's row lock (held by the test
until both processes wait) or the accept's transaction (begun before the payment commits) give, and
with the accept clicked while the payment's reconciliation holds the invoice's receivable line and has
not yet written the invoice (the order in which a deadlock was possible): no deadlock in any order.
"""

import json
import os
import tempfile
from pathlib import Path

import pytest
from multiprocess import (
    FakeCxmlNetwork,
    FakeSmtp,
    FakeStorecove,
    OdooProcess,
    backends_waiting_on_lock,
    connect,
    copy_database,
    run_together,
    settings,
    succeeded_together,
    wait_for,
)

N = 4  # items per scenario
API_KEY = "mp-key"

SETUP = """
import base64, uuid
from datetime import datetime, timedelta
from odoo import Command, fields

cfg = _json.loads(_os.environ["AR_MP_SETUP"])
env = env(context=dict(env.context, tracking_disable=True, mail_notrack=True, no_reset_password=True))
company = env.company
be = env.ref("base.be")
company.write({"country_id": be.id, "email": "billing@supplier.example", "vat": "BE0202239951"})
company.partner_id.write({"street": "Kerkstraat 1", "city": "Gent", "zip": "9000"})
if not env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1):
    env["account.chart.template"].try_loading("be_comp", company, install_demo=False)
env["ir.mail_server"].create({
    "name": "fake smtp", "smtp_host": "127.0.0.1", "smtp_port": cfg["smtp_port"],
    "smtp_encryption": "none", "from_filter": False,
})
env["ir.config_parameter"].set_param("mail.catchall.domain", False)
# the killed process waits for its answers until every job is mid-batch: no client time-out
env["ir.config_parameter"].set_param("ar_customer_centric.cxml_timeout", "600")
# the fake cXML network listens on 127.0.0.1 (https): allowed as an administrator would allow it
env["ir.config_parameter"].set_param("ar_customer_centric.cxml_allow_internal", "1")
Partner = env["res.partner"]
today = fields.Date.context_today(Partner)
address = {"street": "Rue Neuve 1", "city": "Bruxelles", "zip": "1000", "country_id": be.id, "is_company": True}

def partner(name, **vals):
    return Partner.create({"name": name, "email": f"{name.lower().replace(' ', '.')}@buyer.example", **address, **vals})

def invoice(customer, amount=100.0, date=None, due=None):
    move = env["account.move"].create({
        "move_type": "out_invoice", "partner_id": customer.id,
        "invoice_date": date or today, "invoice_date_due": due or date or today,
        "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": []})],
    })
    move.action_post()
    return move

out = {}
n = cfg["n"]
UBL = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'

# --- Peppol: a Storecove-like access point; set b waits (next try in a year) ----------------
# the official rules are tested in ar_peppol_edi; here a rules folder that accepts every document
# (the system setting "Peppol rules location") lets the minimal UBL through the check before sending
env["ir.config_parameter"].set_param("ar_peppol_edi.rules_path", cfg["rules"])
connector = env["ar.peppol.connector"].create({
    "name": "Local Storecove", "provider": "storecove", "base_url": cfg["storecove"],
    "api_key": cfg["api_key"], "account_ref": "42", "timeout": 600,
})
company.ar_peppol_connector_id = connector
for key in ("a", "b"):
    moves = env["account.move"]
    for i in range(n):
        base = f"{4774720 + 10 * i + (key == 'b'):08d}"  # Belgian enterprise number: 8 digits + mod-97 check
        endpoint = f"{base}{97 - int(base) % 97:02d}"
        customer = partner(f"Peppol {key}{i}", peppol_eas="0208", peppol_endpoint=endpoint)
        move = invoice(customer, 100 + i)
        move.ubl_cii_xml_file = base64.b64encode(UBL)
        moves |= move
    moves._ar_peppol_queue(connector)
    if key == "b":
        moves.ar_peppol_next_try = fields.Datetime.now() + timedelta(days=365)
    out[f"peppol_{key}"] = moves.ids

# --- cXML: transient failures waiting for their retry ---------------------------------------
for key in ("a", "b"):
    moves = env["account.move"]
    for i in range(n):
        customer = partner(f"Cxml {key}{i}", ref=f"PO-{key}{i}")
        customer.write({
            "ar_cxml_endpoint": cfg["cxml"] + "/invoice", "ar_cxml_from_identity": "SUPPLIER-01",
            "ar_cxml_to_identity": "BUYER-01", "ar_cxml_sender_identity": "SUPPLIER-01",
            "ar_cxml_shared_secret": "s3cr3t", "invoice_sending_method": "ar_cxml",
        })
        moves |= invoice(customer, 200 + i)
    when = fields.Datetime.now() - timedelta(minutes=1) if key == "a" else fields.Datetime.now() + timedelta(days=365)
    for move in moves:
        move._ar_log_delivery("ar_cxml", "retry", destination=cfg["cxml"], payload_id=move._ar_cxml_payload(),
                              response_code="503", attempt_count=1, next_attempt=when)
    out[f"cxml_{key}"] = moves.ids

# --- Autopay: saved demo-provider tokens, invoices notified and due today ---------------------
provider = env["payment.provider"].search([("code", "=", "demo"), ("company_id", "=", company.id)], limit=1)
provider.write({"state": "test", "journal_id": env["account.journal"].search(
    [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1).id})
method = provider.payment_method_ids[:1]
method.active = True
for key in ("a", "b"):
    moves = env["account.move"]
    for i in range(n):
        customer = partner(f"Autopay {key}{i}")
        token = env["payment.token"].create({
            "provider_id": provider.id, "payment_method_id": method.id, "partner_id": customer.id,
            "payment_details": "4242", "provider_ref": f"demo-{key}{i}", "demo_simulated_state": "done",
        })
        customer.write({"ar_autopay": True, "ar_autopay_token_id": token.id})
        moves |= invoice(customer, 300 + i, date=today - timedelta(days=30), due=today)
    # set b is notified only when its test starts
    if key == "a":
        moves.write({"ar_autopay_state": "notified", "ar_autopay_notified_on": today - timedelta(days=5)})
    out[f"autopay_{key}"] = moves.ids
    out[f"autopay_{key}_partners"] = moves.partner_id.ids

# --- Statements: monthly customers with November invoices ----------------------------------
statement_partners = Partner
for i in range(n):
    customer = partner(f"Statement {i}", ar_invoice_grouping="statement", ar_statement_period="monthly",
                       ar_statement_day=1, invoice_sending_method="email", tz="Europe/Brussels")
    invoice(customer, 400 + i, date=datetime(2026, 11, 10).date(), due=datetime(2026, 12, 10).date())
    statement_partners |= customer
out["statement_partners"] = statement_partners.ids
out["statement_emails"] = statement_partners.mapped("email")

# --- Dunning: two previewed runs of overdue customers ----------------------------------------
policy = env["ar.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
policy = policy or company._ar_dunning_create_default_policy()
for key in ("a", "b"):
    customers = Partner
    for i in range(2 * n):
        customer = partner(f"Dunning {key}{i}", vat=False)
        invoice(customer, 500 + i, date=today - timedelta(days=60), due=today - timedelta(days=40))
        customers |= customer
    run = env["ar.dunning.run"]._run_batch(
        date=today, policy_ids=policy.ids, partner_ids=customers.ids, company=company
    )
    lines = run.line_ids.filtered(lambda line: line.state == "draft" and line.selected)
    assert len(lines) == 2 * n and all(lines.mapped("channel_email")), run.line_ids.read(["state", "exclusion_reason"])
    out[f"dunning_{key}"] = run.id
    out[f"dunning_{key}_partners"] = lines.partner_id.ids
    out[f"dunning_{key}_emails"] = lines.contact_id.mapped("email")
env.cr.commit()
result(**out)
"""

ACCEPT_ALL = """<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <xsl:template match="/"><svrl:schematron-output/></xsl:template>
</xsl:stylesheet>
"""

MAIL_QUEUE = """
env["mail.mail"].process_email_queue()
env.cr.commit()
result(outgoing=env["mail.mail"].search_count([("state", "in", ("outgoing", "exception"))]))
"""


@pytest.fixture(scope="module")
def world():
    cfg = settings()
    workdir = Path(tempfile.mkdtemp(prefix="ar_mp_"))
    smtp = FakeSmtp()
    storecove = FakeStorecove(API_KEY, delay=0.15)
    cxml = FakeCxmlNetwork(delay=0.15)
    copy_database(cfg)
    rules = workdir / "rules"
    rules.mkdir()
    for name in ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt"):
        (rules / name).write_text(ACCEPT_ALL)
    os.environ["AR_MP_SETUP"] = json.dumps(
        {
            "smtp_port": smtp.port,
            "storecove": storecove.url,
            "cxml": cxml.url,
            "api_key": API_KEY,
            "n": N,
            "rules": str(rules),
        }
    )
    # the Odoo processes trust the fake network's certificate (requests' documented setting)
    os.environ["REQUESTS_CA_BUNDLE"] = cxml.cafile
    # two workers and the process to be killed, loading Odoo at once
    procs = {name: OdooProcess(cfg, workdir, name) for name in ("a", "b", "victim")}
    try:
        for proc in procs.values():
            proc.wait_ready()
        data = procs["a"].run(SETUP, timeout=600)
        yield {
            "cfg": cfg,
            "procs": procs,
            "smtp": smtp,
            "storecove": storecove,
            "cxml": cxml,
            "data": data,
        }
    finally:
        for proc in procs.values():
            proc.stop()
        for server in (smtp, storecove, cxml):
            server.close()


def sql(world, query, params=None):
    conn = connect(world["cfg"], world["cfg"]["AR_MP_DB"])
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(query, params)
        rows = cr.fetchall() if cr.description else []
    conn.close()
    return rows


def smtp_count(world, emails):
    """{e-mail address: number of messages received for it}"""
    counts = dict.fromkeys(emails, 0)
    for rcpts, _subject, _msgid in world["smtp"].messages:
        for rcpt in rcpts:
            if rcpt in counts:
                counts[rcpt] += 1
    return counts


# ------------------------------------------------------------------------------------------
# (a) two processes run the same job at the same instant
# ------------------------------------------------------------------------------------------
PEPPOL_CRON = """
t0 = _time.time()
answer = env.ref("ar_peppol_edi.ir_cron_ar_peppol_transmit").method_direct_trigger()
assert answer is True, answer  # a failed job comes back as an error action
result(start=t0, end=_time.time())
"""
PEPPOL_DIRECT = """
t0 = _time.time()
env["account.move"]._cron_ar_peppol_transmit()
env.cr.commit()
result(start=t0, end=_time.time())
"""


def _together(world, script_a, script_b):
    """Run both scripts at the same instant; (results, a check to call after the counts)."""
    procs = world["procs"]["a"], world["procs"]["b"]
    results = run_together(*procs, script_a, script_b)
    return lambda: succeeded_together(*procs, results)


def _peppol_states(world, ids):
    return sql(
        world, "SELECT ar_peppol_state, ar_peppol_idempotency_key FROM account_move WHERE id IN %s", [tuple(ids)]
    )


def test_peppol_two_processes_at_once(world):
    ap = world["storecove"]
    ids = world["data"]["peppol_a"]
    before = len(ap.requests)
    both_succeeded = _together(world, PEPPOL_CRON, PEPPOL_DIRECT)
    rows = _peppol_states(world, ids)
    keys = [key for _state, key in rows]
    assert sorted(ap.requests[before:]) == sorted(keys), "each invoice offered to the access point exactly once"
    assert sorted(k for k in ap.transmissions if k in keys) == sorted(keys)
    both_succeeded()
    assert {state for state, _key in rows} == {"sent"}


CXML_CRON = """
t0 = _time.time()
answer = env.ref("ar_customer_centric.ir_cron_ar_retry_cxml").method_direct_trigger()
assert answer is True, answer  # a failed job comes back as an error action
result(start=t0, end=_time.time())
"""
CXML_DIRECT = """
t0 = _time.time()
env["account.move"]._cron_ar_retry_cxml()
env.cr.commit()
result(start=t0, end=_time.time())
"""


def _cxml_payloads(world, ids):
    rows = sql(
        world,
        "SELECT move_id, state, payload_id FROM ar_delivery_log"
        " WHERE move_id IN %s AND channel = 'ar_cxml' ORDER BY id",
        [tuple(ids)],
    )
    sent = {}
    for move_id, state, payload in rows:
        if state == "sent":
            sent.setdefault(move_id, []).append(payload)
    return sent


def test_cxml_two_processes_at_once(world):
    network = world["cxml"]
    ids = world["data"]["cxml_a"]
    before = len(network.requests)
    both_succeeded = _together(world, CXML_CRON, CXML_DIRECT)
    posted = network.requests[before:]
    assert len(posted) == len(set(posted)) == N, f"each invoice POSTed exactly once: {posted}"
    both_succeeded()
    sent = _cxml_payloads(world, ids)
    assert sorted(sent) == sorted(ids) and all(len(p) == 1 for p in sent.values()), sent
    assert sorted(posted) == sorted(p[0] for p in sent.values())


AUTOPAY_CRON = """
t0 = _time.time()
answer = env.ref("ar_customer_centric.ir_cron_ar_autopay_charge").method_direct_trigger()
assert answer is True, answer  # a failed job comes back as an error action
result(start=t0, end=_time.time())
"""
AUTOPAY_DIRECT = """
t0 = _time.time()
env["account.move"]._cron_ar_autopay_charge()
env.cr.commit()
result(start=t0, end=_time.time())
"""


def _charges(world, ids):
    """{invoice: [transaction states]} of the autopay charges, and the payments per invoice."""
    rows = sql(
        world,
        """SELECT rel.invoice_id, tx.state FROM payment_transaction tx
             JOIN account_invoice_transaction_rel rel ON rel.transaction_id = tx.id
            WHERE rel.invoice_id IN %s ORDER BY tx.id""",
        [tuple(ids)],
    )
    charges = {i: [] for i in ids}
    for invoice_id, state in rows:
        charges[invoice_id].append(state)
    paid = dict(sql(world, "SELECT id, payment_state FROM account_move WHERE id IN %s", [tuple(ids)]))
    return charges, paid


def test_autopay_two_processes_at_once(world):
    ids = world["data"]["autopay_a"]
    both_succeeded = _together(world, AUTOPAY_CRON, AUTOPAY_DIRECT)
    charges, paid = _charges(world, ids)
    assert all(len(states) <= 1 for states in charges.values()), f"one charge per invoice: {charges}"
    both_succeeded()
    assert all(states == ["done"] for states in charges.values()), f"one charge per invoice: {charges}"
    assert set(paid.values()) <= {"paid", "in_payment"}, paid


def _statement_script(now):
    # the job the statements cron runs, with a fixed "now" so that the period is known
    return f"""
from datetime import datetime
t0 = _time.time()
env["ar.customer.statement"]._ar_generate_statements(now=datetime({now}), progress=env["ir.cron"]._commit_progress)
env.cr.commit()
result(start=t0, end=_time.time())
"""


def _statements(world, date_to):
    ids = world["data"]["statement_partners"]
    rows = sql(
        world,
        "SELECT partner_id, state FROM ar_customer_statement WHERE partner_id IN %s AND date_to = %s",
        [tuple(ids), date_to],
    )
    per_partner = {i: [] for i in ids}
    for partner_id, state in rows:
        per_partner[partner_id].append(state)
    return per_partner


def _mail_queue(world):
    return world["procs"]["a"].run(MAIL_QUEUE)


def test_statements_two_processes_at_once(world):
    emails = world["data"]["statement_emails"]
    before = smtp_count(world, emails)
    script = _statement_script("2026, 12, 1, 10")
    both_succeeded = _together(world, script, script)
    statements = _statements(world, "2026-11-30")
    _mail_queue(world)
    after = smtp_count(world, emails)
    sent = {e: after[e] - before[e] for e in emails}
    assert all(n <= 1 for n in sent.values()), f"one statement e-mail each: {sent}"
    both_succeeded()
    assert all(states == ["sent"] for states in statements.values()), statements
    assert sent == dict.fromkeys(emails, 1), "one statement e-mail each"


DUNNING_CRON = """
t0 = _time.time()
answer = env.ref("ar_dunning.ir_cron_ar_dunning_run").method_direct_trigger()
assert answer is True, answer  # a failed job comes back as an error action
result(start=t0, end=_time.time())
"""
DUNNING_BUTTON = """
run = env["ar.dunning.run"].browse(%d)
t0 = _time.time()
run.action_execute()
env.cr.commit()
result(start=t0, end=_time.time())
"""


def _dunning_lines(world, run_id):
    return sql(
        world,
        "SELECT partner_id, state, mail_id FROM ar_dunning_line WHERE run_id = %s AND state != 'excluded'",
        [run_id],
    )


def _dunning_check(world, key, before):
    run_id = world["data"][f"dunning_{key}"]
    lines = _dunning_lines(world, run_id)
    _mail_queue(world)
    emails = world["data"][f"dunning_{key}_emails"]
    after = smtp_count(world, emails)
    sent = {e: after[e] - before[e] for e in emails}
    assert all(n <= 1 for n in sent.values()), f"one reminder e-mail each: {sent}"
    assert len([mail for _p, _s, mail in lines if mail]) == len({mail for _p, _s, mail in lines if mail}), lines
    assert len(lines) == 2 * N and {state for _p, state, _m in lines} == {"done"}, lines
    assert len({mail for _p, _s, mail in lines}) == 2 * N, "one queued e-mail per reminder"
    assert sql(world, "SELECT state FROM ar_dunning_run WHERE id = %s", [run_id]) == [("done",)]
    assert sent == dict.fromkeys(emails, 1), "one reminder e-mail each"


def test_dunning_button_and_cron_at_once(world):
    """The cron resumes an automatic run left running while the accountant clicks Execute."""
    key = "a"
    run_id = world["data"][f"dunning_{key}"]
    emails = world["data"][f"dunning_{key}_emails"]
    before = smtp_count(world, emails)
    sql(world, "UPDATE ar_dunning_run SET state = 'running', automatic = true WHERE id = %s", [run_id])
    both_succeeded = _together(world, DUNNING_CRON, DUNNING_BUTTON % run_id)
    _dunning_check(world, key, before)
    both_succeeded()


# ------------------------------------------------------------------------------------------
# (b) a process killed with SIGKILL in the middle of its batches, then each job rerun
# ------------------------------------------------------------------------------------------
VICTIM = """
import threading
from datetime import datetime
from odoo import SUPERUSER_ID, api

def peppol(e):
    e["account.move"]._cron_ar_peppol_transmit()

def cxml(e):
    e["account.move"]._cron_ar_retry_cxml()

def autopay(e):
    e["account.move"]._cron_ar_autopay_charge()

def statements(e):
    e["ar.customer.statement"]._ar_generate_statements(
        now=datetime(2027, 1, 1, 10), progress=e["ir.cron"]._commit_progress
    )

def dunning(e):
    e["ar.dunning.run"].browse(%(run)d).action_execute()

def job(fn):
    threading.current_thread().dbname = env.cr.dbname
    with env.registry.cursor() as cr:
        fn(api.Environment(cr, SUPERUSER_ID, dict(env.context)))
        cr.commit()

threads = [threading.Thread(target=job, args=(fn,)) for fn in (peppol, cxml, autopay, statements, dunning)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
result(finished=True)
"""


@pytest.fixture(scope="module")
def crash(world):
    """One Odoo process runs the five jobs at once (one thread and cursor each, as a threaded
    worker does) on fresh items, and is killed with SIGKILL when every job is in the middle of
    its batch: the access point and the cXML network hold the third request unanswered, and the
    test holds row locks on a customer of the autopay, statement and dunning batches, so those
    jobs wait inside that customer's transaction after committing the items before it."""
    data, cfg = world["data"], world["cfg"]
    ap, network, victim = world["storecove"], world["cxml"], world["procs"]["victim"]
    sql(
        world,
        "UPDATE account_move SET ar_peppol_next_try = now() at time zone 'utc' - interval '1 minute' WHERE id IN %s",
        [tuple(data["peppol_b"])],
    )
    sql(
        world,
        "UPDATE ar_delivery_log SET next_attempt = now() at time zone 'utc' - interval '1 minute' WHERE move_id IN %s",
        [tuple(data["cxml_b"])],
    )
    sql(
        world,
        "UPDATE account_move SET ar_autopay_state = 'notified', ar_autopay_notified_on = current_date - 5"
        " WHERE id IN %s",
        [tuple(data["autopay_b"])],
    )
    emails = data["statement_emails"] + data["dunning_b_emails"]
    before = {"ap": len(ap.requests), "network": len(network.requests), "smtp": smtp_count(world, emails)}
    locked = [
        data["autopay_b_partners"][2],
        data["statement_partners"][2],
        data["dunning_b_partners"][len(data["dunning_b_partners"]) // 2],
    ]
    conn = connect(cfg, cfg["AR_MP_DB"])
    cr = conn.cursor()
    cr.execute("SELECT id FROM res_partner WHERE id IN %s FOR UPDATE", [tuple(locked)])
    ap.hold_at(len(ap.requests) + 3)
    network.hold_at(len(network.requests) + 3)
    victim.send(VICTIM % {"run": data["dunning_b"]})
    try:
        wait_for(
            lambda: (
                (ap.held.is_set() and network.held.is_set() and backends_waiting_on_lock(cfg, victim.pid) == 3)
                or victim.results
                or not victim.alive()
            ),
            timeout=240,
            what="every job of the victim to be in the middle of its batch",
        )
        assert not victim.results and victim.alive(), f"the victim ended too early:\n{victim.output()}"
        victim.kill()
    finally:
        ap.release()
        network.release()
        conn.rollback()
        conn.close()
    wait_for(
        lambda: not sql(world, "SELECT 1 FROM pg_stat_activity WHERE application_name = %s", [f"odoo-{victim.pid}"]),
        timeout=60,
        what="the killed process's sessions to end",
    )
    return before


def test_peppol_killed_mid_batch_then_rerun(world, crash):
    ap = world["storecove"]
    ids = world["data"]["peppol_b"]
    states = [state for state, _key in _peppol_states(world, ids)]
    assert states.count("sent") == 2, f"the two answered submissions were committed: {states}"
    world["procs"]["a"].run(PEPPOL_DIRECT)
    rows = _peppol_states(world, ids)
    keys = [key for _state, key in rows]
    assert {state for state, _key in rows} == {"sent"}
    # the submission in flight at the kill is offered again with the same idempotency key ...
    offered = ap.requests[crash["ap"] :]
    assert len(offered) == N + 1 and len(set(offered)) == N
    # ... and the access point transmits every invoice exactly once
    assert sorted(k for k in ap.transmissions if k in keys) == sorted(keys)


def test_cxml_killed_mid_batch_then_rerun(world, crash):
    network = world["cxml"]
    ids = world["data"]["cxml_b"]
    assert len(_cxml_payloads(world, ids)) == 2, "the two answered POSTs were committed"
    world["procs"]["a"].run(CXML_DIRECT)
    sent = _cxml_payloads(world, ids)
    assert sorted(sent) == sorted(ids) and all(len(p) == 1 for p in sent.values()), sent
    posted = network.requests[crash["network"] :]
    # the POST in flight at the kill is made again with the same payloadID, which the network
    # recognises: every invoice reaches the buyer exactly once
    assert len(posted) == N + 1 and sorted(set(posted)) == sorted(p[0] for p in sent.values())


def test_autopay_killed_mid_batch_then_rerun(world, crash):
    ids = world["data"]["autopay_b"]
    charges, _paid = _charges(world, ids)
    assert 0 < sum(1 for states in charges.values() if states) < N, f"killed mid-batch: {charges}"
    world["procs"]["a"].run(AUTOPAY_DIRECT)
    charges, paid = _charges(world, ids)
    assert all(states == ["done"] for states in charges.values()), f"one charge per invoice: {charges}"
    assert set(paid.values()) <= {"paid", "in_payment"}, paid


def test_statements_killed_mid_batch_then_rerun(world, crash):
    emails = world["data"]["statement_emails"]
    done = _statements(world, "2026-12-31")
    assert 0 < sum(1 for states in done.values() if states) < N, f"killed mid-batch: {done}"
    world["procs"]["a"].run(_statement_script("2027, 1, 1, 10"))
    assert all(states == ["sent"] for states in _statements(world, "2026-12-31").values())
    _mail_queue(world)
    after = smtp_count(world, emails)
    assert {e: after[e] - crash["smtp"][e] for e in emails} == dict.fromkeys(emails, 1), "one e-mail each"


def test_dunning_killed_mid_batch_then_rerun(world, crash):
    run_id = world["data"]["dunning_b"]
    states = [state for _p, state, _m in _dunning_lines(world, run_id)]
    assert states.count("done") < len(states), f"killed before the end of its batch: {states}"
    world["procs"]["a"].run(DUNNING_BUTTON % run_id)
    _dunning_check(world, "b", crash["smtp"])


# ------------------------------------------------------------------------------------------
# (c) payment plans (issue 16): two plans on one invoice, a payment while a plan is accepted.
# The test holds a row lock on the invoice (``SELECT ... FOR UPDATE`` or ``FOR SHARE``) until
# both processes wait for it, or lets the accept's transaction begin before a payment commits;
# each process runs its work as an Odoo request does (``retrying``: a serialization failure or
# a deadlock rolls back and starts again), then commits.
# ------------------------------------------------------------------------------------------
PLAN_TOTAL = 1000.0
PLAN_PAYMENT = 300.0

PLAN_SETUP = """
from datetime import timedelta
from odoo import Command, fields

company = env.company
today = fields.Date.context_today(env["res.partner"])
policy = env["ar.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
policy.plan_rule_ids.unlink()
# within 6 instalments the plan is accepted at once, more go to the accountant
env["ar.dunning.plan.rule"].create({
    "policy_id": policy.id, "max_instalments": 6, "min_instalment_amount": 0, "max_total": 0, "max_months": 6,
    "auto_accept": True,
})
Plan = env["ar.dunning.plan"]
out = {"first_date": fields.Date.to_string(today + timedelta(days=7))}

def invoice(name):
    customer = env["res.partner"].create({
        "name": name, "is_company": True, "email": name.lower().replace(" ", ".") + "@buyer.example",
        "country_id": env.ref("base.be").id, "street": "Rue Neuve 1", "city": "Bruxelles", "zip": "1000",
    })
    move = env["account.move"].create({
        "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": today, "invoice_date_due": today,
        "invoice_line_ids": [
            Command.create({"name": "Service", "quantity": 1, "price_unit": %(total)s, "tax_ids": []}),
        ],
    })
    move.action_post()
    return move

move = invoice("Plan race")
preview = Plan._ar_plan_preview(move, 3, "monthly", today + timedelta(days=7))
assert preview["decision"] == "accept", preview["reasons"]
out["race"] = move.id
for key in ("plan_queued_first", "payment_queued_first", "payment_commits_first", "payment_reconciling"):
    move = invoice("Plan payment " + key)
    plan = Plan._ar_propose(move, 8, "weekly", today + timedelta(days=7), source="backoffice")
    assert plan.state == "proposed", plan.state
    out[key] = [move.id, plan.id]
# a plan booked at once (within the rule), then broken: the accountant may call it in
move = invoice("Plan call-in")
plan = Plan._ar_propose(move, 3, "monthly", today + timedelta(days=7), source="backoffice")
assert plan.state == "active", plan.state
plan.state = "broken"
out["call_in"] = [move.id, plan.id]
env.cr.commit()
result(**out)
"""

# the buyer's portal request: a plan within the rule's limits, booked at once
PLAN_PROPOSE = """
from odoo.service.model import retrying
move = env["account.move"].browse(%(move)d)
t0 = _time.time()
tries = []

def propose():
    tries.append(_time.time() - t0)
    try:
        return env["ar.dunning.plan"]._ar_propose(move, 3, "monthly", "%(first)s", source="portal")
    except Exception as exc:
        tries.append(type(exc).__name__)
        raise

try:
    plan = retrying(propose, env)
    env.cr.commit()
    result(start=t0, end=_time.time(), tries=tries, plan=plan.id, state=plan.state)
except Exception as exc:
    env.cr.rollback()
    result(start=t0, end=_time.time(), tries=tries, failed=type(exc).__name__, message=str(exc))
"""

# the accountant clicks Accept on the proposed plan
PLAN_ACCEPT = """
from odoo.service.model import retrying
plan = env["ar.dunning.plan"].browse(%(plan)d)
t0 = _time.time()
tries = []
gate = %(gate)r
if gate:
    # the accountant has the plan open (the transaction and its snapshot begin) and clicks Accept later
    plan.read(["state", "amount_total"])
    while not _os.path.exists(gate):
        _time.sleep(0.01)

def accept():
    tries.append(_time.time() - t0)
    try:
        plan.action_accept()
        env.cr.flush()
    except Exception as exc:
        tries.append(f"{type(exc).__name__}: {str(exc)[:300]}")
        raise

retrying(accept, env)
env.cr.commit()
result(start=t0, end=_time.time(), tries=tries, state=plan.state)
"""

# the accountant calls the broken plan in: its remaining instalments become due today
PLAN_CALL_IN = """
from odoo.service.model import retrying
plan = env["ar.dunning.plan"].browse(%(plan)d)
t0 = _time.time()
tries = []

def call_in():
    tries.append(_time.time() - t0)
    try:
        plan.action_call_in()
        env.cr.flush()
    except Exception as exc:
        tries.append(f"{type(exc).__name__}: {str(exc)[:300]}")
        raise

retrying(call_in, env)
env.cr.commit()
result(start=t0, end=_time.time(), tries=tries, state=plan.state)
"""

# the accountant registers a part payment on the invoice (Register Payment: payment posted and reconciled)
PLAN_PAY = """
import re
from odoo.service.model import retrying
from odoo.tools import SQL
move = env["account.move"].browse(%(move)d)
t0 = _time.time()
tries = []
gate = %(gate)r
if gate:
    # this test process only (nothing in the code): the first try stops just before its first write of the
    # invoice's row, with what Odoo's posting and reconciliation locked so far held; it says so (gate.reached)
    # and goes on when the test opens the gate
    cr, execute = env.cr, env.cr.execute

    def gated(query, params=None, log_exceptions=True):
        code = query.code if isinstance(query, SQL) else query
        code = code.decode() if isinstance(code, bytes) else code
        args = (query.params if isinstance(query, SQL) else params) or ()
        rows = [arg[0] if isinstance(arg, tuple) and arg else arg for arg in args]
        if re.match(r'\\s*UPDATE\\s+"?account_move"?\\s', code) and move.id in rows and len(tries) == 1:
            open(gate + ".reached", "w").close()
            while not _os.path.exists(gate):
                _time.sleep(0.01)
        return execute(query, params, log_exceptions)

    cr.execute = gated

def pay():
    tries.append(_time.time() - t0)
    try:
        wizard = env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": %(amount)s, "group_payment": True})
        payment = wizard._create_payments()
        env.cr.flush()
        return payment
    except Exception as exc:
        tries.append(f"{type(exc).__name__}: {str(exc)[:300]}")
        raise

try:
    payment = retrying(pay, env)
    env.cr.commit()
finally:
    if gate:
        del cr.execute
result(start=t0, end=_time.time(), tries=tries, payment=payment.id)
"""

# what was booked, read back by Odoo: the invoice's due lines, the plans on it, the payments' reconciliation
PLAN_STATE = """
from odoo import fields
move = env["account.move"].browse(%(move)d)
terms = move.line_ids.filtered(lambda ln: ln.display_type == "payment_term")
plans = env["ar.dunning.plan"].search([("move_ids", "in", move.ids)])
partials = terms.matched_debit_ids | terms.matched_credit_ids
result(
    amount_total=move.amount_total,
    amount_residual=move.amount_residual,
    terms=[(ln.id, ln.balance, ln.amount_residual) for ln in terms],
    open_due=sorted({str(ln.date_maturity) for ln in terms if ln.amount_residual}),
    today=str(fields.Date.context_today(move)),
    plans=[
        {
            "id": plan.id,
            "state": plan.state,
            "amount_total": plan.amount_total,
            "instalments": [
                (i.amount, i.amount_residual, i.line_ids.ids) for i in plan.instalment_ids.sorted("number")
            ],
        }
        for plan in plans
    ],
    payments=env["account.payment"].search([("partner_id", "=", move.commercial_partner_id.id)]).mapped(
        lambda p: {"id": p.id, "amount": p.amount, "state": p.state, "reconciled": p.is_reconciled}
    ),
    partials=partials.mapped("amount"),
)
"""


@pytest.fixture(scope="module")
def plans(world):
    return world["procs"]["a"].run(PLAN_SETUP % {"total": PLAN_TOTAL})


def _hold_invoice(world, move_id, mode="UPDATE"):
    """The test's own transaction holds the invoice's row. FOR UPDATE: every process that locks, updates or
    refers to it waits. FOR SHARE: a process that only refers to it (the payment linked to the invoice, its
    reconciliation) goes on; one that locks or updates it (the plan's lock, the invoice's new open amount) waits."""
    conn = connect(world["cfg"], world["cfg"]["AR_MP_DB"])
    cr = conn.cursor()
    cr.execute(f"SELECT id FROM account_move WHERE id = %s FOR {mode}", [move_id])
    return conn


def _start_waiting(world, runs, conn):
    """Hand each (process, script) its script in turn, each one once the ones before wait for the
    invoice's row lock; release the lock when all wait; return their results."""
    cfg = world["cfg"]
    try:
        for k, (proc, script) in enumerate(runs):
            proc.send(script)
            started = [p for p, _s in runs[: k + 1]]
            wait_for(
                lambda started=started: (
                    all(backends_waiting_on_lock(cfg, p.pid) == 1 for p in started)
                    or any(len(p.results) >= p.sent for p in started)
                ),
                timeout=120,
                what="the processes to wait for the invoice's row lock",
            )
            early = [p.name for p in started if len(p.results) >= p.sent]
            assert not early, f"{early} did not wait for the invoice's row lock: {[p.results[-1] for p in started]}"
    finally:
        conn.rollback()
        conn.close()
    return [proc.result(240, check=False) for proc, _s in runs]


def _plan_state(world, move_id):
    return world["procs"]["a"].run(PLAN_STATE % {"move": move_id})


def test_plan_two_proposals_on_one_invoice_at_once(world, plans):
    """Two requests propose (and, within the rule, book at once) a plan on the same invoice at the same
    instant: one plan is booked, the other request is refused cleanly and leaves nothing behind."""
    move_id = plans["race"]
    a, b = world["procs"]["a"], world["procs"]["b"]
    script = PLAN_PROPOSE % {"move": move_id, "first": plans["first_date"]}
    results = _start_waiting(world, [(a, script), (b, script)], _hold_invoice(world, move_id))
    for proc, res in zip((a, b), results, strict=True):
        assert "error" not in res, f"{proc.name} crashed:\n{res['error']}"
    booked = [res for res in results if "plan" in res]
    refused = [res for res in results if "failed" in res]
    assert len(booked) == 1 and len(refused) == 1, results
    assert booked[0]["state"] == "active", booked
    assert refused[0]["failed"] in ("UserError", "ValidationError"), refused
    state = _plan_state(world, move_id)
    assert [p["id"] for p in state["plans"]] == [booked[0]["plan"]], f"one plan on the invoice: {state['plans']}"
    plan = state["plans"][0]
    plan_lines = sorted(line for _a, _r, lines in plan["instalments"] for line in lines)
    assert len(plan["instalments"]) == 3 and all(len(lines) == 1 for _a, _r, lines in plan["instalments"])
    assert sorted(line_id for line_id, _b, _r in state["terms"]) == plan_lines, "the due lines are the plan's, once"
    assert sum(amount for amount, _r, _l in plan["instalments"]) == pytest.approx(PLAN_TOTAL)
    assert sum(balance for _i, balance, _r in state["terms"]) == pytest.approx(PLAN_TOTAL)
    assert state["amount_residual"] == pytest.approx(PLAN_TOTAL), "the invoice's open amount is unchanged"
    print(f"two proposals: {results}")
    first, second = results
    assert first["start"] < second["end"] and second["start"] < first["end"], f"the runs did not overlap: {results}"


def _payment_commits_during_accept(world, move_id, plan_id):
    """The accountant's Accept transaction has begun (its snapshot shows the invoice unpaid) when a
    payment is registered and committed in another process; then Accept goes on. (accept, pay) results."""
    a, b = world["procs"]["a"], world["procs"]["b"]
    gate = Path(tempfile.mkdtemp(prefix="ar_mp_gate_")) / "accept"
    a.send(PLAN_ACCEPT % {"plan": plan_id, "gate": str(gate)})
    try:
        wait_for(
            lambda: (
                sql(
                    world,
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND state = 'idle in transaction'",
                    [f"odoo-{a.pid}"],
                )
                or len(a.results) >= a.sent
            ),
            timeout=60,
            what="the accept's transaction to begin",
        )
        paid = b.run(PLAN_PAY % {"move": move_id, "amount": PLAN_PAYMENT, "gate": ""})
    finally:
        gate.touch()
    return [a.result(240, check=False), paid]


@pytest.mark.parametrize("order", ["plan_queued_first", "payment_queued_first", "payment_commits_first"])
def test_plan_accepted_while_a_payment_arrives(world, plans, order):
    """The accountant accepts a plan while a part payment is registered on its invoice: whichever gets the
    invoice first, the plan covers what was open when it was booked, the payment is reconciled once and the
    invoice owes its total less the payment."""
    move_id, plan_id = plans[order]
    a, b = world["procs"]["a"], world["procs"]["b"]
    accept = (a, PLAN_ACCEPT % {"plan": plan_id, "gate": ""})
    pay = (b, PLAN_PAY % {"move": move_id, "amount": PLAN_PAYMENT, "gate": ""})
    if order == "plan_queued_first":
        # the plan waits for the invoice first, the payment behind it (linking the payment to the invoice)
        runs, mode = [accept, pay], "UPDATE"
    elif order == "payment_queued_first":
        # the payment is posted and reconciled and waits to write the invoice's open amount (its commit is
        # near); then the accountant clicks Accept, whose transaction starts before the payment commits
        runs, mode = [pay, accept], "SHARE"
    else:
        # the accept's transaction begins, then the payment is registered and committed, then Accept goes on
        runs, mode = [accept, pay], None
    if mode:
        results = _start_waiting(world, runs, _hold_invoice(world, move_id, mode))
    else:
        results = _payment_commits_during_accept(world, move_id, plan_id)
    for (proc, _script), res in zip(runs, results, strict=True):
        proc.check(res)
    assert not _deadlocks(results), f"{order}: the payment and the accept deadlocked: {results}"
    planned = _check_plan_and_payment(world, move_id)
    if order == "payment_commits_first":
        # the plan covers what the payment left open: its first try saw the invoice unpaid and was refused
        assert planned == pytest.approx(PLAN_TOTAL - PLAN_PAYMENT), results
        assert any(str(t).startswith("SerializationFailure") for t in results[0]["tries"]), results
    when = "before" if abs(planned - PLAN_TOTAL) < 0.005 else "after"
    print(f"{order}: {results}; plan booked on {planned} ({when} the payment)")


def _deadlocks(results):
    """The tries that PostgreSQL ended with a deadlock (``retrying`` then ran them again)."""
    return [t for res in results for t in res.get("tries", []) if str(t).startswith("DeadlockDetected")]


def _check_plan_and_payment(world, move_id, plan_state="active"):
    """The plan and the payment on the invoice, as Odoo reads them back, add up; returns what the plan holds."""
    state = _plan_state(world, move_id)
    (plan,) = state["plans"]
    assert plan["state"] == plan_state, plan
    # the plan holds what was open when it was booked: the whole invoice (booked before the payment)
    # or the invoice less the payment (booked after it) -- never the payment twice
    planned = sum(amount for amount, _r, _l in plan["instalments"])
    assert planned == pytest.approx(plan["amount_total"])
    assert planned in (pytest.approx(PLAN_TOTAL), pytest.approx(PLAN_TOTAL - PLAN_PAYMENT)), plan
    # the invoice's receivable due lines still add up to its total; what is open is in the plan's instalments
    assert sum(balance for _i, balance, _r in state["terms"]) == pytest.approx(PLAN_TOTAL)
    plan_lines = {line for _a, _r, lines in plan["instalments"] for line in lines}
    assert {line for line, _b, residual in state["terms"] if residual} <= plan_lines, state
    assert sum(residual for _a, residual, _l in plan["instalments"]) == pytest.approx(PLAN_TOTAL - PLAN_PAYMENT)
    # one payment, reconciled once, for its amount
    (payment,) = state["payments"]
    assert payment["amount"] == pytest.approx(PLAN_PAYMENT) and payment["reconciled"], payment
    assert sum(state["partials"]) == pytest.approx(PLAN_PAYMENT), state["partials"]
    assert state["amount_residual"] == pytest.approx(PLAN_TOTAL - PLAN_PAYMENT)
    if plan_state == "broken":
        assert state["open_due"] == [state["today"]], f"every open instalment is called in: {state}"
    return planned


def _while_the_payment_reconciles(world, move_id, script):
    """Odoo reconciles a part payment with the invoice: it has written the invoice's receivable line (its matching
    number, its open amount) and is about to write the invoice's open amount and payment status. Then ``script``
    (an accountant's action on the invoice's plan) starts and waits for a row lock; then the payment goes on.
    Returns the (script, payment) results."""
    cfg = world["cfg"]
    a, b = world["procs"]["a"], world["procs"]["b"]
    gate = Path(tempfile.mkdtemp(prefix="ar_mp_gate_")) / "pay"
    reached = Path(f"{gate}.reached")
    b.send(PLAN_PAY % {"move": move_id, "amount": PLAN_PAYMENT, "gate": str(gate)})
    try:
        wait_for(
            lambda: reached.exists() or len(b.results) >= b.sent,
            timeout=120,
            what="the payment to be reconciled, before it writes the invoice",
        )
        assert reached.exists(), f"the payment did not stop before writing the invoice: {b.results[-1]}"
        a.send(script)
        wait_for(
            lambda: backends_waiting_on_lock(cfg, a.pid) == 1 or len(a.results) >= a.sent,
            timeout=120,
            what="the plan's action to wait for the payment's row locks",
        )
        assert len(a.results) < a.sent, f"the plan's action did not wait for the payment: {a.results[-1]}"
    finally:
        gate.touch()
    results = [a.result(240, check=False), b.result(240, check=False)]
    a.check(results[0])
    b.check(results[1])
    return results


def test_plan_accepted_while_the_payment_reconciles(world, plans):
    """The accountant clicks Accept while Odoo reconciles a part payment with the invoice. The accept must queue
    behind the payment, not take the invoice and then wait for its line while the payment waits for the invoice:
    PostgreSQL would detect a deadlock and end one of them. The payment commits, the plan is booked on what it
    left open."""
    move_id, plan_id = plans["payment_reconciling"]
    results = _while_the_payment_reconciles(world, move_id, PLAN_ACCEPT % {"plan": plan_id, "gate": ""})
    assert not _deadlocks(results), f"the payment and the accept deadlocked: {results}"
    # the payment went first: the plan covers what it left open
    assert _check_plan_and_payment(world, move_id) == pytest.approx(PLAN_TOTAL - PLAN_PAYMENT), results
    print(f"accept while the payment reconciles: {results}")


def test_plan_called_in_while_the_payment_reconciles(world, plans):
    """The accountant calls a broken plan in (its due lines' dates, then the invoice's due date) while Odoo
    reconciles a part payment with the invoice: no deadlock; the payment is reconciled once, what it left open
    is due today."""
    move_id, plan_id = plans["call_in"]
    results = _while_the_payment_reconciles(world, move_id, PLAN_CALL_IN % {"plan": plan_id})
    assert not _deadlocks(results), f"the payment and the call-in deadlocked: {results}"
    assert _check_plan_and_payment(world, move_id, plan_state="broken") == pytest.approx(PLAN_TOTAL), results
    print(f"call-in while the payment reconciles: {results}")
