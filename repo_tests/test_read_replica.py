"""The portal's read-only pages are served by a real PostgreSQL streaming replica.

Odoo 19 sends a route declared ``readonly=True`` to ``db_replica_host`` (odoo/http.py,
``Request._serve_db``: a read-only cursor from the registry's replica pool) and every other route
to the primary. This test starts its own primary (initdb) and a streaming replica of it
(pg_basebackup -R) on 127.0.0.1, restores the suite's test template into the primary and runs
Odoo with ``db_host`` = primary and ``db_replica_host`` = replica. Then, with the replica's WAL
replay paused, the buyer's name is changed on the primary:

- the read-only pages (``/my/payments``, ``/my/statements``, ``/my/disputes``, the guest pay-all
  page) still show the old name: they were read from the replica;
- a read/write page (``/my/preferences``) shows the new one: it was read from the primary;
- once replay resumes, the read-only pages show the new name too.

Real processes, bounded: about two minutes, most of it restoring the template and loading Odoo.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import arsuite  # noqa: E402

READONLY_PAGES = ["/my/payments", "/my/statements", "/my/disputes"]
RW_PAGE = "/my/preferences"
OLD, NEW = "Replica Buyer Before", "Replica Buyer After"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A PostgreSQL server of this test, run as a non-root user when the test runs as root."""

    def __init__(self, base, name):
        self.data, self.port = base / name, free_port()
        self.log, self.sock = base / f"{name}.log", base / "run"
        self.prefix = ["runuser", "-u", arsuite.PRIVATE_OS_USER, "--"] if os.geteuid() == 0 else []

    def start(self, *settings):
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-c unix_socket_directories={self.sock}",
            "-c fsync=off",
            *settings,
        ]
        cmd = [arsuite.pg_server_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60"]
        subprocess.run([*self.prefix, *cmd, "-o", " ".join(options), "start"], check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        cmd = [arsuite.pg_server_bin("pg_ctl"), "-D", self.data, "-m", "immediate", "stop"]
        subprocess.run([*self.prefix, *cmd], check=False, capture_output=True)

    def sql(self, sql, db="postgres"):
        return arsuite.psql({"host": "127.0.0.1", "port": self.port}, sql, db=db).stdout.strip()


def _as_cluster_user(base):
    """PostgreSQL refuses root: the clusters then belong to the private-cluster user."""
    if os.geteuid() != 0:
        return
    if subprocess.run(["id", "-u", arsuite.PRIVATE_OS_USER], capture_output=True, check=False).returncode:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", arsuite.PRIVATE_OS_USER],
            check=True,
        )
    subprocess.run(["chown", "-R", f"{arsuite.PRIVATE_OS_USER}:", base], check=True)
    for parent in [base.parent, *base.parent.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, **kw)
    assert res.returncode == 0, f"{cmd[:3]} failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


def _primary_with_template(primary, pg, template, db, dump):
    """initdb + start the primary (WAL for a replica), restore the test template into ``db``."""
    initdb = [arsuite.pg_server_bin("initdb"), "-D", primary.data, "-U", arsuite.DB_USER, "--auth=trust"]
    _run([*primary.prefix, *initdb, "-E", "UTF8", "--locale=C.UTF-8"])
    primary.start("-c wal_level=replica", "-c max_wal_senders=4")
    source = ["-h", pg["host"], "-p", pg["port"], "-U", arsuite.DB_USER]
    _run([arsuite.pg_bin("pg_dump"), *source, "-Fc", "-Z0", "-f", dump, template])
    primary.sql(f'CREATE DATABASE "{db}"')
    target = ["-h", "127.0.0.1", "-p", primary.port, "-U", arsuite.DB_USER]
    _run([arsuite.pg_bin("pg_restore"), *target, "--no-owner", "--no-acl", "-j", "2", "-d", db, dump])


def _odoo_conf(base, primary, replica, data_dir):
    addons = arsuite.CONF.read_text().split("addons_path = ")[1].splitlines()[0]
    http_port = free_port()
    conf = base / "odoo.conf"
    options = {
        "addons_path": addons,
        "data_dir": data_dir,
        "db_host": "127.0.0.1",
        "db_port": primary.port,
        "db_user": arsuite.DB_USER,
        "db_replica_host": "127.0.0.1",
        "db_replica_port": replica.port,
        "http_interface": "127.0.0.1",
        "http_port": http_port,
        "gevent_port": free_port(),
        "list_db": False,
    }
    conf.write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
    return conf, f"http://127.0.0.1:{http_port}"


BUYER_SCRIPT = """
from odoo import Command
buyer = env['res.partner'].create({'name': NAME, 'is_company': True, 'email': 'rb@buyer.example'})
env['res.users'].create({'name': NAME, 'login': 'replica_buyer', 'password': 'replica-buyer-1',
    'partner_id': buyer.id, 'group_ids': [Command.set(env.ref('base.group_portal').ids)]})
print('TOKEN', buyer._ar_get_pay_all_token())
env.cr.commit()
"""


@pytest.fixture(scope="module")
def replicated_odoo(tmp_path_factory):
    pg = arsuite.setup(quiet=True)
    template = os.environ.get("AR_TEST_TEMPLATE") or arsuite.ensure_templates(pg, [], arsuite.ALL_MODULES)
    base = arsuite.LOCAL / f"replica{arsuite.SUFFIX}"
    shutil.rmtree(base, ignore_errors=True)
    (base / "run").mkdir(parents=True)
    _as_cluster_user(base)
    primary, replica = Cluster(base, "primary"), Cluster(base, "replica")
    db, data_dir, log = "ar_replica", base / "odoo-data", base / "odoo.log"
    server = None
    try:
        _primary_with_template(primary, pg, template, db, tmp_path_factory.mktemp("dump") / "template.dump")
        shutil.copytree(arsuite.DATA_DIR / "filestore" / template, data_dir / "filestore" / db)
        conf, url = _odoo_conf(base, primary, replica, data_dir)
        odoo = [arsuite.PY, arsuite.ODOO_SRC / "odoo-bin"]
        shell = _run([*odoo, "shell", "-c", conf, "-d", db, "--no-http"], input=f"NAME = {OLD!r}\n{BUYER_SCRIPT}")
        token = re.search(r"TOKEN (\S+)", shell.stdout).group(1)
        # a streaming replica of the primary, taken after the buyer was committed
        basebackup = [arsuite.pg_server_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", primary.port]
        _run([*primary.prefix, *basebackup, "-U", arsuite.DB_USER, "-D", replica.data, "-R", "-X", "stream"])
        replica.start("-c hot_standby=on")
        assert replica.sql("SELECT pg_is_in_recovery()") == "t"
        server = subprocess.Popen(
            [str(c) for c in [*odoo, "-c", conf, "-d", db, f"--db-filter=^{db}$", f"--logfile={log}"]]
            + ["--max-cron-threads=0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _i in range(300):
            try:
                if requests.get(f"{url}/web/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(1)
        yield {"url": url, "primary": primary, "replica": replica, "db": db, "token": token, "log": log}
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        replica.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_readonly_pages_are_served_by_the_replica(replicated_odoo):
    url, primary, replica, db = (replicated_odoo[k] for k in ("url", "primary", "replica", "db"))
    session = requests.Session()
    page = session.get(f"{url}/web/login", timeout=120).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(
        f"{url}/web/login",
        data={"login": "replica_buyer", "password": "replica-buyer-1", "csrf_token": csrf, "redirect": "/my"},
        allow_redirects=False,
        timeout=120,
    )
    assert response.status_code == 303, response.status_code
    guest_page = f"/my/pay-all/{replicated_odoo['token']}"

    def name_on(path, client=session):
        response = client.get(f"{url}{path}", timeout=120)
        assert response.status_code == 200, (path, response.status_code)
        return NEW if NEW in response.text else OLD if OLD in response.text else None

    for path in [*READONLY_PAGES, RW_PAGE]:
        assert name_on(path) == OLD, path
    assert name_on(guest_page, requests.Session()) == OLD

    # the replica stops replaying the primary's changes; the buyer is renamed on the primary
    replica.sql("SELECT pg_wal_replay_pause()")
    assert wait_for(lambda: replica.sql("SELECT pg_get_wal_replay_pause_state()") == "paused")
    primary.sql(f"UPDATE res_partner SET name = '{NEW}', complete_name = '{NEW}' WHERE name = '{OLD}'", db=db)
    assert replica.sql(f"SELECT count(*) FROM res_partner WHERE name = '{NEW}'", db=db) == "0"
    for path in READONLY_PAGES:
        assert name_on(path) == OLD, f"{path} was not read from the replica"
    assert name_on(guest_page, requests.Session()) == OLD, "the pay-all page was not read from the replica"
    assert name_on(RW_PAGE) == NEW, f"{RW_PAGE} must be read from the primary"

    # replay resumes: the read-only pages catch up
    replica.sql("SELECT pg_wal_replay_resume()")
    assert wait_for(lambda: replica.sql(f"SELECT count(*) FROM res_partner WHERE name = '{NEW}'", db=db) == "1")
    for path in READONLY_PAGES:
        assert name_on(path) == NEW, path
    text = replicated_odoo["log"].read_text(errors="replace")
    assert "retrying with a read/write cursor" not in text, "a read-only route tried to write"
