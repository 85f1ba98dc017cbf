"""Real Odoo processes against a database copy, and local fakes of the outside world.

Used by ``test_exactly_once.py``. ``make test`` (scripts/arsuite.py) passes in the environment:
AR_ODOO_CONF, AR_ODOO_SRC, AR_PG_HOST, AR_PG_PORT, AR_DB_USER, AR_DATA_DIR, AR_TEST_TEMPLATE
(the test template database) and AR_MP_DB (the name of this suite's own copy).
"""

import json
import os
import re
import shutil
import signal
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2

REQUIRED = ("AR_ODOO_CONF", "AR_ODOO_SRC", "AR_PG_HOST", "AR_PG_PORT", "AR_DB_USER", "AR_DATA_DIR")


def settings():
    missing = [name for name in (*REQUIRED, "AR_TEST_TEMPLATE", "AR_MP_DB") if not os.environ.get(name)]
    if missing:
        raise AssertionError(
            f"{', '.join(missing)} not set: run these tests through `make test` (scripts/arsuite.py), "
            "which builds the test template database and passes its name."
        )
    return {name: os.environ[name] for name in (*REQUIRED, "AR_TEST_TEMPLATE", "AR_MP_DB")}


def connect(cfg, db="postgres"):
    conn = psycopg2.connect(host=cfg["AR_PG_HOST"], port=int(cfg["AR_PG_PORT"]), user=cfg["AR_DB_USER"], dbname=db)
    return conn


def copy_database(cfg):
    """A fresh copy of the test template (database and filestore) for the multi-process tests."""
    src, dst = cfg["AR_TEST_TEMPLATE"], cfg["AR_MP_DB"]
    conn = connect(cfg)
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{dst}" WITH (FORCE)')
        cr.execute(f'CREATE DATABASE "{dst}" TEMPLATE "{src}"')
    conn.close()
    store = Path(cfg["AR_DATA_DIR"]) / "filestore"
    shutil.rmtree(store / dst, ignore_errors=True)
    if (store / src).exists():
        shutil.copytree(store / src, store / dst)


def drop_database(cfg):
    conn = connect(cfg)
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{cfg["AR_MP_DB"]}" WITH (FORCE)')
    conn.close()
    shutil.rmtree(Path(cfg["AR_DATA_DIR"]) / "filestore" / cfg["AR_MP_DB"], ignore_errors=True)


# ------------------------------------------------------------------------------------------
# Odoo processes: `odoo-bin shell` with the project's configuration, running a small loop that
# executes the scripts the test drops in its command folder (``env`` in scope; they commit).
# Loading Odoo takes most of a process's life: the processes are started together, once.
# ------------------------------------------------------------------------------------------
LOOP = """
import json as _json, os as _os, time as _time, traceback as _tb
def result(**values):
    print("RESULT " + _json.dumps(values), flush=True)
print("READY", flush=True)
_n = 0
while True:
    _path = _os.path.join(_os.environ["AR_MP_CMD"], f"{_n}.py")
    while not _os.path.exists(_path):
        _time.sleep(0.005)
    _code = open(_path).read()
    env.cr.rollback()
    env.invalidate_all()
    try:
        exec(_code, dict(globals()))
    except Exception:
        env.cr.rollback()
        result(error=_tb.format_exc())
    _n += 1
"""


class OdooProcess:
    """One ``odoo-bin shell`` process on the test database, waiting for scripts to run."""

    def __init__(self, cfg, workdir, name):
        self.name = name
        self.log = Path(workdir) / f"{name}.log"
        self.cmd_dir = Path(workdir) / f"cmd-{name}"
        self.cmd_dir.mkdir()
        self.sent = 0
        self.lines = []
        self.results = []
        self.changed = threading.Condition()
        cmd = [
            sys.executable,
            str(Path(cfg["AR_ODOO_SRC"]) / "odoo-bin"),
            "shell",
            "-c",
            cfg["AR_ODOO_CONF"],
            "-d",
            cfg["AR_MP_DB"],
            f"--logfile={self.log}",
            "--log-level=warn",
            "--no-http",
        ]
        env = dict(os.environ, AR_MP_CMD=str(self.cmd_dir), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.proc.stdin.write(LOOP)
        self.proc.stdin.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line)
                if line.startswith("RESULT "):
                    self.results.append(json.loads(line[7:]))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait_ready(self, timeout=300):
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(line.startswith("READY") for line in self.lines) or not self.alive(), timeout
            )
        if not ok or not self.alive():
            raise AssertionError(f"{self.name} did not start:\n{self.output()}")

    def send(self, script):
        """Hand a script to the process (it starts within milliseconds)."""
        tmp = self.cmd_dir / f"{self.sent}.tmp"
        tmp.write_text(script)
        tmp.rename(self.cmd_dir / f"{self.sent}.py")
        self.sent += 1

    def result(self, timeout=240, check=True):
        """The result of the last script sent; with ``check=False`` a failed script's result
        (``{"error": traceback}``) is returned instead of raised."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.results) >= self.sent or not self.alive(), timeout)
        if len(self.results) < self.sent:
            raise AssertionError(f"{self.name}: no result within {timeout}s:\n{self.output()}")
        res = self.results[self.sent - 1]
        if check:
            self.check(res)
        return res

    def check(self, res):
        if "error" in res:
            raise AssertionError(f"{self.name} failed:\n{res['error']}\n{self.output()}")

    def run(self, script, timeout=240):
        self.send(script)
        return self.result(timeout)

    def kill(self):
        """SIGKILL: no Python clean-up, no rollback, the connection just drops."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=5)

    def stop(self):
        """End an idle process (nothing in progress: killing it loses nothing)."""
        if self.alive():
            self.kill()

    def output(self):
        log = self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""
        return "".join(self.lines)[-4000:] + "\n--- log ---\n" + log


def run_together(proc_a, proc_b, script_a, script_b, timeout=240):
    """Both (loaded, idle) processes start their script at the same instant.

    Returns both results, a failed script's included (``{"error": ...}``): a test first counts
    what reached the outside world (a worker that fails after its request went out has still
    sent it), then requires both runs to have succeeded and overlapped (``succeeded_together``).
    """
    proc_a.send(script_a)
    proc_b.send(script_b)
    return [proc_a.result(timeout, check=False), proc_b.result(timeout, check=False)]


def succeeded_together(proc_a, proc_b, results):
    """Both scripts ended without error, and their runs overlapped in time."""
    proc_a.check(results[0])
    proc_b.check(results[1])
    a, b = results
    assert a["start"] < b["end"] and b["start"] < a["end"], f"the two runs did not overlap: {results}"


def backends_waiting_on_lock(cfg, pid):
    """How many PostgreSQL sessions of Odoo process ``pid`` wait for a row lock."""
    conn = connect(cfg, cfg["AR_MP_DB"])
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            [f"odoo-{pid}"],
        )
        count = cr.fetchone()[0]
    conn.close()
    return count


def wait_for(predicate, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ------------------------------------------------------------------------------------------
# Fakes of the outside world, on 127.0.0.1 port 0
# ------------------------------------------------------------------------------------------
class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A killed client closes its socket under our feet: that is the point of the test."""


class _HoldingServer:
    """Counts requests; ``hold_at(n)`` keeps the n-th request unanswered until ``release()``."""

    tls = False

    def __init__(self, delay=0.0):
        self.lock = threading.Lock()
        self.requests = []  # one entry per request received (its document key)
        self.delay = delay  # seconds before answering: a network round trip, makes runs overlap
        self._hold_at = None
        self.held = threading.Event()
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, ctype, answer = outer.handle(self.path, self.headers, body)
                if outer.delay:
                    time.sleep(outer.delay)
                if outer._hold_at is not None and len(outer.requests) == outer._hold_at:
                    outer.held.set()
                    outer._release.wait(300)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = _QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.cafile = None
        if self.tls:  # cXML goes over https only: a certificate for 127.0.0.1 made for this run
            folder = tempfile.mkdtemp(prefix="ar_mp_tls_")
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
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
            self.cafile = cert
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold_at(self, n):
        """The n-th request (counting all requests so far) is processed but not answered."""
        self.held.clear()
        self._release.clear()
        self._hold_at = n

    def release(self):
        self._hold_at = None
        self._release.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


class FakeStorecove(_HoldingServer):
    """Storecove API ``POST /document_submissions`` (OpenAPI "Storecove API" 2.0.1, DocumentSubmission):
    200 ``{"guid"}``; "If you submit multiple documents with the same idempotencyGuid, only the
    first one will be processed and any subsequent ones will trigger an HTTP 422 Unprocessable
    Entity response" (an ErrorModel list [{source, details}]; the wording of ``details`` is ours).
    ``transmissions`` holds the idempotency keys of the documents actually sent on Peppol."""

    def __init__(self, api_key, delay=0.0):
        self.api_key = api_key
        self.by_key = {}
        self.transmissions = []
        super().__init__(delay)

    def handle(self, path, headers, body):
        if path != "/document_submissions":
            return 404, "application/json", b'{"message": "not found"}'
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, "application/json", b'{"message": "Unauthorized"}'
        key = json.loads(body).get("idempotencyGuid")
        with self.lock:
            self.requests.append(key)
            if key in self.by_key:
                answer = [{"source": "idempotencyGuid", "details": "has already been used"}]
                return 422, "application/json", json.dumps(answer).encode()
            self.by_key[key] = f"guid-{len(self.by_key) + 1}"
            self.transmissions.append(key)
            guid = self.by_key[key]
        return 200, "application/json", json.dumps({"guid": guid}).encode()


class FakeCxmlNetwork(_HoldingServer):
    """A buyer's cXML network (cXML 1.2 Reference Guide, "payloadID": a unique number used to
    detect duplicate documents; "Status" codes 200 OK / 201 Accepted): every POST is counted,
    a repeated payloadID is acknowledged again without creating a second invoice."""

    tls = True

    def __init__(self, delay=0.0):
        self.documents = []
        super().__init__(delay)

    def handle(self, path, headers, body):
        match = re.search(rb'payloadID="([^"]+)"', body)
        payload_id = match.group(1).decode() if match else None
        with self.lock:
            self.requests.append(payload_id)
            if payload_id and payload_id not in self.documents:
                self.documents.append(payload_id)
        answer = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">\n'
            f'<cXML payloadID="ack-{payload_id}" timestamp="2026-12-01T10:00:00+00:00">'
            '<Response><Status code="200" text="OK"/></Response></cXML>'
        )
        return 200, "text/xml", answer.encode()


class FakeSmtp:
    """A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps
    each accepted message as (recipients, subject, Message-Id)."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text):
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self):
                self.reply("220 fake-smtp ESMTP ready")
                rcpts = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip().split(" ")[0].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-fake-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    elif verb == "HELO":
                        self.reply("250 fake-smtp")
                    elif verb == "MAIL":
                        rcpts = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(re.sub(r"^RCPT TO:\s*", "", line.decode().strip(), flags=re.I).strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = []
                        while True:
                            chunk = self.rfile.readline()
                            if not chunk or chunk in (b".\r\n", b".\n"):
                                break
                            data.append(chunk)
                        text = b"".join(data).decode(errors="replace")
                        subject = re.search(r"^Subject: (.*)$", text, re.M)
                        msgid = re.search(r"^Message-Id: (.*)$", text, re.M | re.I)
                        with outer.lock:
                            outer.messages.append(
                                (tuple(rcpts), subject and subject.group(1).strip(), msgid and msgid.group(1).strip())
                            )
                        self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
