#!/usr/bin/env python3
"""ar_suite developer tooling: set-up, run, test, lint, bench.

Standard library only: it runs before the virtual environment exists.

    python3 scripts/arsuite.py run      # make run
    python3 scripts/arsuite.py test     # make test   (TAGS=/ar_dunning to narrow the Odoo tests)
    python3 scripts/arsuite.py lint
    python3 scripts/arsuite.py bench
    python3 scripts/arsuite.py setup    # venv + PostgreSQL + config only

Everything it makes lives in the ignored folders ``.venv/`` and ``.local/`` of the repository.
Odoo's source is expected at ``/opt/odoo19/src`` or wherever ``ODOO_SRC`` points.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCAL = REPO / ".local"
VENV = REPO / ".venv"
PY = VENV / "bin" / "python"
CONF = LOCAL / "odoo.conf"
DATA_DIR = LOCAL / "data"
LOG_DIR = LOCAL / "log" / (re.sub(r"\W", "", os.environ.get("AR_WORKER", "")) or "main")
# AR_WORKER=<name> isolates a developer's (or helper's) test databases, stamps and ports
WORKER = re.sub(r"\W", "", os.environ.get("AR_WORKER", ""))
SUFFIX = f"_{WORKER}" if WORKER else ""
# Databases are shared by every clone on this server: tag ours with the clone's path, because
# a template's filestore lives in this clone's .local/data.
REPO_TAG = hashlib.sha1(str(REPO).encode()).hexdigest()[:6]
STAMPS = LOCAL / "stamps" / (WORKER or "main")
ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo19/src")).resolve()
UMBRELLA = "ar_suite"
MODULES = ["ar_customer_centric", "ar_peppol_edi", "ar_dunning"]
ALL_MODULES = [*MODULES, UMBRELLA]
# Odoo modules installed next to ours in test databases only (Odoo's demo payment provider).
# The localisations let tests build Belgian, Dutch and German companies with their real charts;
# account_peppol is there to prove that the suite works beside it.
TEST_EXTRA_MODULES = ["payment_demo", "l10n_be", "l10n_nl", "l10n_de", "account_peppol"]
DB_USER = os.environ.get("AR_DB_USER", "ar_suite")
PRIVATE_PORT = int(os.environ.get("AR_PG_PRIVATE_PORT", "54329"))
PRIVATE_OS_USER = "arsuite"
DEMO_DB = os.environ.get("AR_DEMO_DB", "ar_demo")
HTTP_PORT = int(os.environ.get("AR_HTTP_PORT", "8069"))
TEST_HTTP_PORT = int(os.environ.get("AR_TEST_HTTP_PORT", "8169"))
TEST_DB = f"ar_test{SUFFIX}_{REPO_TAG}"
# make run's mail sink (scripts/mailsink.py): SMTP for Odoo, a page to read the mails, and the
# buyer AP endpoint of the demo's cXML customers
SMTP_PORT = int(os.environ.get("AR_SMTP_PORT", "1025"))
MAIL_PORT = int(os.environ.get("AR_MAIL_PORT", "8025"))
# Files of ours that change what is installed in a database (tests/ and readme/ do not).
SKIP_FOR_HASH = {"tests", "readme", "__pycache__", "static/description"}


def say(msg=""):
    print(msg, flush=True)


SUMMARY = {}  # set by `test`: die() then still ends with the "N passed, M failed" line


def die(msg, code=2):
    print(f"\nERROR: {msg}", flush=True)
    if SUMMARY:
        print(f"{SUMMARY['passed']} passed, {SUMMARY['failed'] + 1} failed", flush=True)
    sys.exit(code)


def run(cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, **kw)


# --------------------------------------------------------------------------------------
# Odoo source and virtual environment
# --------------------------------------------------------------------------------------
ODOO_GIT = "https://github.com/odoo/odoo.git"


def odoo_src_present():
    return (ODOO_SRC / "odoo-bin").is_file() and (ODOO_SRC / "addons" / "account").is_dir()


def fetch_odoo_src():
    """Clone Odoo 19.0 Community shallowly into ODOO_SRC (outside this repository)."""
    say(f"==> Fetching Odoo 19.0 Community into {ODOO_SRC} (shallow clone, about 1 GB)")
    ODOO_SRC.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["git", "clone", "--depth", "1", "--branch", "19.0", ODOO_GIT, str(ODOO_SRC)])
    return res.returncode == 0 and odoo_src_present()


def check_odoo_src():
    if not odoo_src_present():
        command = f"git clone --depth 1 --branch 19.0 {ODOO_GIT} {ODOO_SRC}"
        message = (
            f"Odoo 19.0 Community source not found at {ODOO_SRC}. Get it with:\n"
            f"    {command}\n"
            "  (or point ODOO_SRC at a checkout of Odoo 19.0: its odoo-bin, odoo/ and addons/)."
        )
        # offer to fetch it where a person can answer (never in CI, which has no network)
        can_fetch = shutil.which("git") and not os.environ.get("CI")
        if can_fetch and os.environ.get("AR_FETCH_ODOO") == "1":
            if fetch_odoo_src():
                return check_odoo_src()
        elif can_fetch and sys.stdin.isatty() and sys.stdout.isatty():
            say(message)
            answer = input(f"Fetch it now into {ODOO_SRC}? [y/N] ").strip().lower()
            if answer in ("y", "yes") and fetch_odoo_src():
                return check_odoo_src()
        die(
            message + "\n  Nothing was skipped: without Odoo's source this run failed."
            "\n  (AR_FETCH_ODOO=1 fetches it without asking.)"
        )
    release = (ODOO_SRC / "odoo" / "release.py").read_text()
    if "version_info = (19, 0" not in release:
        die(f"{ODOO_SRC} is not Odoo 19.0 (see odoo/release.py).")


def file_digest(paths):
    h = hashlib.sha1()
    for p in paths:
        p = Path(p)
        h.update(str(p).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def ensure_venv():
    reqs = [
        ODOO_SRC / "requirements.txt",
        REPO / "requirements.txt",
        REPO / "requirements-dev.txt",
        REPO / "scripts" / "constraints.txt",
    ]
    stamp = VENV / ".ar_suite_stamp"
    digest = file_digest(reqs) + sys.version
    if PY.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    say(f"==> Creating the virtual environment in {VENV} (Odoo's requirements and ours)")
    if VENV.is_symlink():
        VENV.unlink()
    elif VENV.exists():
        shutil.rmtree(VENV)
    run([sys.executable, "-m", "venv", VENV])
    LOCAL.mkdir(exist_ok=True)
    # python-ldap (auth_ldap only) needs libldap headers; the suite does not use it.
    odoo_reqs = LOCAL / "odoo-requirements.txt"
    odoo_reqs.write_text(
        "".join(
            line
            for line in (ODOO_SRC / "requirements.txt").read_text().splitlines(keepends=True)
            if not line.lower().startswith("python-ldap")
        )
    )
    env = dict(os.environ, PIP_CONSTRAINT=str(REPO / "scripts" / "constraints.txt"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = [PY, "-m", "pip", "install", "-q"]
    run([*pip, "setuptools<81", "wheel"], env=env)
    run([*pip, "-r", odoo_reqs, "-r", REPO / "requirements.txt", "-r", REPO / "requirements-dev.txt"], env=env)
    run(
        [*pip, "--no-deps", "--no-build-isolation", "-e", ODOO_SRC, "--config-settings", "editable_mode=compat"],
        env=env,
    )
    stamp.write_text(digest)


# --------------------------------------------------------------------------------------
# PostgreSQL: the server on 127.0.0.1:5432, or a private cluster under .local/pg
# --------------------------------------------------------------------------------------
def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def pg_server_bin(name):
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    return shutil.which(name)


def free_port():
    """A TCP port nobody listens on now (for a server started beside the Odoo tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def psql(pg, sql, user=DB_USER, db="postgres", check=True):
    exe = pg_bin("psql")
    if not exe:
        die(
            "psql (PostgreSQL client) not found: `apt-get install postgresql-client` "
            "(or `postgresql` for a private cluster)."
        )
    res = subprocess.run(
        [exe, "-X", "-q", "-h", pg["host"], "-p", str(pg["port"]), "-U", user, "-d", db, "-tAc", sql],
        capture_output=True,
        text=True,
    )
    if check and res.returncode:
        raise RuntimeError(res.stderr.strip())
    return res


def ensure_role(pg):
    if psql(pg, "select 1", check=False).returncode == 0:
        return
    # Bootstrap our own non-superuser role once, as whichever administrator this server
    # lets us in as; Odoo itself only ever connects as DB_USER.
    admins = [os.environ.get("USER") or os.environ.get("LOGNAME") or "root", "root", "postgres"]
    for admin in dict.fromkeys(admins):
        res = psql(pg, f'CREATE ROLE "{DB_USER}" LOGIN CREATEDB', user=admin, check=False)
        if res.returncode == 0:
            say(f"==> Created the PostgreSQL role {DB_USER} (CREATEDB, not superuser)")
            return
    die(
        f"PostgreSQL answers on {pg['host']}:{pg['port']} but the role {DB_USER} does not exist and "
        f"could not be created. Create it: CREATE ROLE {DB_USER} LOGIN CREATEDB;"
    )


def private_cluster():
    """Start (creating if needed) a private cluster under .local/pg, as a non-root OS user."""
    initdb, pg_ctl = pg_server_bin("initdb"), pg_server_bin("pg_ctl")
    if not initdb or not pg_ctl:
        die(
            "No PostgreSQL server answers on 127.0.0.1:5432 and no PostgreSQL server binaries "
            "(initdb, pg_ctl) are installed to start a private one.\n"
            "  Install them: `apt-get install postgresql` (PostgreSQL >= 13), or start a server."
        )
    base = LOCAL / "pg"
    data, sock, logf = base / "data", base / "run", base / "postgresql.log"
    base.mkdir(parents=True, exist_ok=True)
    sock.mkdir(exist_ok=True)
    prefix = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: use a dedicated system user.
        if subprocess.run(["id", "-u", PRIVATE_OS_USER], capture_output=True).returncode:
            run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PRIVATE_OS_USER])
        run(["chown", "-R", f"{PRIVATE_OS_USER}:", base])
        # every folder above .local/pg must be traversable by that user
        for parent in [LOCAL, *LOCAL.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
        prefix = ["runuser", "-u", PRIVATE_OS_USER, "--"]
    if not (data / "PG_VERSION").exists():
        say(f"==> Creating a private PostgreSQL cluster in {data}")
        run(
            [*prefix, initdb, "-D", data, "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
            stdout=subprocess.DEVNULL,
        )
    pg = {"host": "127.0.0.1", "port": PRIVATE_PORT}
    if not port_open(pg["host"], pg["port"]):
        say(f"==> Starting the private PostgreSQL cluster on 127.0.0.1:{PRIVATE_PORT}")
        run(
            [
                *prefix,
                pg_ctl,
                "-D",
                data,
                "-l",
                logf,
                "-w",
                "-t",
                "60",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {PRIVATE_PORT} -c unix_socket_directories={sock} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )
    return pg


def ensure_pg():
    host = os.environ.get("AR_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("AR_PG_PORT", "5432"))
    if os.environ.get("AR_PG_PRIVATE") == "1" or (LOCAL / "pg" / "data" / "PG_VERSION").exists():
        pg = private_cluster()
    elif port_open(host, port):
        pg = {"host": host, "port": port}
    else:
        say(f"==> No PostgreSQL server answers on {host}:{port}: using a private cluster")
        pg = private_cluster()
    ensure_role(pg)
    return pg


# --------------------------------------------------------------------------------------
# Odoo configuration and commands
# --------------------------------------------------------------------------------------
def addons_link_dir():
    """A folder holding `ar_suite` -> the repository, whatever the clone is called."""
    link_dir = LOCAL / "addons"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / UMBRELLA
    if link.is_symlink() and Path(os.readlink(link)) != REPO:
        link.unlink()
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    return link_dir


def write_config(pg):
    link_dir = addons_link_dir()
    addons = [ODOO_SRC / "odoo" / "addons", ODOO_SRC / "addons", REPO, link_dir]
    text = "\n".join(
        [
            "[options]",
            "; written by scripts/arsuite.py - edit the script, not this file",
            f"addons_path = {','.join(str(a) for a in addons)}",
            f"data_dir = {DATA_DIR}",
            f"db_host = {pg['host']}",
            f"db_port = {pg['port']}",
            f"db_user = {DB_USER}",
            "http_interface = 127.0.0.1",
            f"http_port = {HTTP_PORT}",
            "list_db = True",
            "",
        ]
    )
    LOCAL.mkdir(exist_ok=True)
    if not CONF.exists() or CONF.read_text() != text:
        CONF.write_text(text)
    for d in (DATA_DIR, LOG_DIR, STAMPS):
        d.mkdir(parents=True, exist_ok=True)


def setup(quiet=False):
    check_odoo_src()
    # wkhtmltopdf (Qt) warns on every PDF when it has no runtime dir: give it one of ours
    runtime = LOCAL / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    ensure_venv()
    pg = ensure_pg()
    write_config(pg)
    if not quiet:
        say(f"==> Odoo {ODOO_SRC}, PostgreSQL {pg['host']}:{pg['port']} as {DB_USER}, config {CONF}")
    return pg


def peppol_rules_store():
    """ar_peppol_edi/tools/rules_store.py (pure Python), loaded without Odoo."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ar_peppol_rules_store", REPO / "ar_peppol_edi/tools/rules_store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_peppol_rules(quiet=False):
    """The official Peppol rules the product validates with: the offline mirror named by
    AR_PEPPOL_RULES, else the pinned release downloaded (SHA-256 checked) into the data dir."""
    store = peppol_rules_store()
    folder = store.env_folder()
    if folder:
        if not os.path.isdir(os.path.join(folder, "rules")):
            die(f"{store.ENV_VAR}={folder} has no rules/ folder. {store.how_to_provide()}")
        if not quiet:
            say(f"==> Peppol rules: offline mirror {folder} ({store.ENV_VAR})")
        return
    if store.installed(str(DATA_DIR)):
        return
    say(f"==> Peppol rules: downloading and verifying {store.RELEASE}")
    try:
        store.install(str(DATA_DIR), timeout=20)
    except store.RulesDownloadError as exc:
        say(f"    NOT installed: {exc}\n    {store.how_to_provide()}")


def odoo_cmd(*args, subcommand=None):
    sub = [subcommand] if subcommand else []
    return [str(PY), str(ODOO_SRC / "odoo-bin"), *sub, "-c", str(CONF), *map(str, args)]


def db_exists(pg, name):
    res = psql(pg, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    return res.stdout.strip() == "1"


def drop_db(pg, name):
    psql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(DATA_DIR / "filestore" / name, ignore_errors=True)


def copy_db(pg, src, dst):
    drop_db(pg, dst)
    psql(pg, f'CREATE DATABASE "{dst}" TEMPLATE "{src}"')
    src_fs = DATA_DIR / "filestore" / src
    if src_fs.exists():
        shutil.copytree(src_fs, DATA_DIR / "filestore" / dst)


def rename_db(pg, src, dst):
    drop_db(pg, dst)
    psql(pg, f'ALTER DATABASE "{src}" RENAME TO "{dst}"')
    src_fs = DATA_DIR / "filestore" / src
    if src_fs.exists():
        src_fs.rename(DATA_DIR / "filestore" / dst)


def module_installed(pg, db, module):
    res = psql(pg, f"SELECT state FROM ir_module_module WHERE name = '{module}'", db=db, check=False)
    return res.returncode == 0 and res.stdout.strip() == "installed"


def modules_digest(modules=ALL_MODULES):
    """Digest of the files that decide what installing our modules puts in a database."""
    h = hashlib.sha1((ODOO_SRC / "odoo" / "release.py").read_bytes())
    for module in modules:
        root = REPO if module == UMBRELLA else REPO / module
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if (
                module == UMBRELLA
                and rel.parts
                and rel.parts[0] in (*MODULES, ".git", ".venv", ".local", "bench", "scripts", "repo_tests", ".ci")
            ):
                continue
            if any(part in SKIP_FOR_HASH or part.startswith(".") for part in rel.parts[:-1]):
                continue
            if str(rel).startswith("static/description") or path.suffix in (".pyc", ".md", ".pot"):
                continue
            if path.is_file():
                h.update(str(rel).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:12]


def odoo_install(pg, db, modules, log_path, demo=False, extra=(), env=None):
    """Install modules into db; return the WARNING/ERROR lines of Odoo's log."""
    Path(log_path).unlink(missing_ok=True)
    args = [
        "-d",
        db,
        "-i",
        ",".join(modules),
        "--stop-after-init",
        "--no-http",
        f"--logfile={log_path}",
        "--log-level=info",
        *extra,
    ]
    if demo:
        args.append("--with-demo")
    res = subprocess.run(odoo_cmd(*args), capture_output=True, text=True, env=env)
    log = Path(log_path).read_text() if Path(log_path).exists() else ""
    bad = [line for line in log.splitlines() if re.search(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ", line)]
    if res.returncode:
        bad.append(f"odoo exited with {res.returncode}: {res.stderr.strip()[-2000:]}")
    return bad


def install_demo_book(pg, db, log_path, env):
    """Install ar_suite with the demo book into db (make run's database, the demo walk's template).

    Returns None when ar_suite is installed, else the WARNING/ERROR lines of Odoo's log."""
    bad = odoo_install(
        pg, db, [UMBRELLA, *TEST_EXTRA_MODULES], log_path, demo=True, extra=[f"--load-language={DEMO_LANGS}"], env=env
    )
    return None if module_installed(pg, db, UMBRELLA) else bad


# --------------------------------------------------------------------------------------
# make run
# --------------------------------------------------------------------------------------
LOGINS = [
    ("accountant (internal user, Accounting)", "accountant", "accountant"),
    ("buyer (portal user of a customer)", "buyer", "buyer"),
    ("administrator", "admin", "admin"),
]


def start_mail_sink():
    """Start scripts/mailsink.py (SMTP + mail page + cXML endpoint) unless one already answers."""
    folder = LOCAL / "mail" / DEMO_DB
    if port_open("127.0.0.1", SMTP_PORT):
        say(f"==> Something already answers on 127.0.0.1:{SMTP_PORT}: using it as the mail sink")
        return None, folder
    log = open(LOG_DIR / "mailsink.log", "a")
    proc = subprocess.Popen(
        [
            str(PY),
            str(REPO / "scripts" / "mailsink.py"),
            "--smtp-port",
            str(SMTP_PORT),
            "--http-port",
            str(MAIL_PORT),
            "--folder",
            str(folder),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _i in range(50):
        if port_open("127.0.0.1", SMTP_PORT) and port_open("127.0.0.1", MAIL_PORT):
            break
        if proc.poll() is not None:
            die(f"The mail sink did not start; see {LOG_DIR / 'mailsink.log'}")
        time.sleep(0.1)
    return proc, folder


def point_demo_at_sink(pg):
    """The demo database sends through this run's sink and builds links to this run's port; the
    mail queue goes out as soon as the server is up."""
    url = f"http://127.0.0.1:{HTTP_PORT}"
    psql(pg, f"UPDATE ir_mail_server SET smtp_port = {SMTP_PORT} WHERE smtp_host = '127.0.0.1'", db=DEMO_DB)
    psql(pg, f"UPDATE ir_config_parameter SET value = '{url}' WHERE key = 'web.base.url'", db=DEMO_DB)
    psql(
        pg,
        "UPDATE ir_cron SET nextcall = now() at time zone 'utc' WHERE id IN (SELECT res_id FROM ir_model_data "
        "WHERE module = 'mail' AND name = 'ir_cron_mail_scheduler_action')",
        db=DEMO_DB,
    )


def cmd_run(args):
    t0 = time.time()
    pg = setup()
    ensure_peppol_rules()
    digest = modules_digest()
    stamp = STAMPS / f"demo-{DEMO_DB}"
    sink, mail_folder = start_mail_sink()
    try:
        if not db_exists(pg, DEMO_DB) or not module_installed(pg, DEMO_DB, UMBRELLA):
            drop_db(pg, DEMO_DB)
            say(f"==> Creating the database {DEMO_DB} with ar_suite and demo data (about three minutes)")
            log_path = LOG_DIR / f"install-{DEMO_DB}.log"
            # the demo delivers its invoices: e-mails to the sink, cXML to the sink's AP endpoint
            env = dict(
                os.environ,
                AR_DEMO_SMTP_PORT=str(SMTP_PORT),
                AR_DEMO_CXML_URL=f"http://127.0.0.1:{MAIL_PORT}/cxml/inbound",
                AR_DEMO_BASE_URL=f"http://127.0.0.1:{HTTP_PORT}",
            )
            bad = install_demo_book(pg, DEMO_DB, log_path, env)
            if bad is not None:
                die(f"Installing ar_suite failed; see {log_path}:\n" + "\n".join(bad[-20:]))
            stamp.write_text(digest)
        elif not stamp.exists() or stamp.read_text() != digest:
            say(f"==> Module files changed: updating the ar_* modules in {DEMO_DB}")
            res = subprocess.run(
                odoo_cmd(
                    "-d",
                    DEMO_DB,
                    "-u",
                    ",".join(ALL_MODULES),
                    "--stop-after-init",
                    "--no-http",
                    f"--logfile={LOG_DIR / 'update-demo.log'}",
                )
            )
            if res.returncode:
                die(f"Updating {DEMO_DB} failed; see {LOG_DIR / 'update-demo.log'}")
            stamp.write_text(digest)
        point_demo_at_sink(pg)
        say("")
        say(f"ar_suite is ready ({time.time() - t0:.0f}s): http://127.0.0.1:{HTTP_PORT}/odoo (database {DEMO_DB})")
        for label, login, password in LOGINS:
            say(f"  {label:42s} login {login:12s} password {password}")
        say(f"  the buyer's portal: http://127.0.0.1:{HTTP_PORT}/my/invoices")
        say(f"  e-mails the demo sent: http://127.0.0.1:{MAIL_PORT}/ (SMTP sink 127.0.0.1:{SMTP_PORT})")
        say(f"    stored as .eml files in {mail_folder}")
        say("Stop with Ctrl-C. Odoo shell: bin/odoo shell -d " + DEMO_DB)
        say("")
        sys.stdout.flush()
        if os.environ.get("AR_RUN_NO_SERVE"):  # measuring the set-up time only
            return
        odoo = subprocess.Popen(odoo_cmd("-d", DEMO_DB, "--db-filter", f"^{DEMO_DB}$"))
        try:
            odoo.wait()
        except KeyboardInterrupt:
            odoo.terminate()
            odoo.wait()
    finally:
        if sink:
            sink.terminate()
            sink.wait()


# --------------------------------------------------------------------------------------
# make lint
# --------------------------------------------------------------------------------------
def python_paths():
    return [str(REPO / m) for m in MODULES] + [
        str(p)
        for p in (
            REPO / "__init__.py",
            REPO / "__manifest__.py",
            REPO / "models",
            REPO / "tests",
            REPO / "controllers",
            REPO / "wizards",
            REPO / "bench",
            REPO / "scripts",
            REPO / "repo_tests",
        )
        if p.exists()
    ]


def lint():
    """Return a list of (check name, ok, output)."""
    results = []
    ruff = [str(VENV / "bin" / "ruff"), "check", "--no-cache", *python_paths()]
    res = subprocess.run(ruff, capture_output=True, text=True, cwd=REPO)
    results.append(("ruff", res.returncode == 0, res.stdout + res.stderr))
    fmt = [str(VENV / "bin" / "ruff"), "format", "--check", "--no-cache", *python_paths()]
    res = subprocess.run(fmt, capture_output=True, text=True, cwd=REPO)
    results.append(("ruff format", res.returncode == 0, res.stdout + res.stderr))
    # pylint with pylint-odoo: the mandatory checks must give nothing
    # one run over the umbrella (through its ar_suite link) covers the three modules inside it
    umbrella = addons_link_dir() / UMBRELLA
    pylint = [
        str(PY),
        "-m",
        "pylint",
        f"--rcfile={REPO / '.pylintrc-mandatory'}",
        "--ignore=.venv,.local,.git,bench,scripts,repo_tests,.ci",
        str(umbrella),
    ]
    env = dict(os.environ, PYTHONPATH=f"{umbrella.parent}:{REPO}")
    res = subprocess.run(pylint, capture_output=True, text=True, cwd=REPO, env=env)
    results.append(("pylint-odoo (mandatory)", res.returncode == 0, res.stdout + res.stderr))
    return results


def cmd_lint(args):
    setup(quiet=True)
    failed = 0
    for name, ok, out in lint():
        say(f"--- {name}: {'ok' if ok else 'FAILED'}")
        if not ok:
            failed += 1
            say(out.strip())
    sys.exit(1 if failed else 0)


# --------------------------------------------------------------------------------------
# make test
# --------------------------------------------------------------------------------------
def odoo_dependencies():
    """The Odoo (non-ar) modules our manifests depend on: the base template installs them."""
    import ast

    deps = set(TEST_EXTRA_MODULES)
    for module in ALL_MODULES:
        manifest = (REPO if module == UMBRELLA else REPO / module) / "__manifest__.py"
        for dep in ast.literal_eval(manifest.read_text()).get("depends", []):
            if dep not in ALL_MODULES:
                deps.add(dep)
    return sorted(deps)


def build_template(pg, name, source, modules, label):
    """Create database `name` from `source` (or empty) by installing `modules`."""
    build = f"{name}_build"
    log_path = LOG_DIR / f"{label}.log"
    t0 = time.time()
    if source:
        copy_db(pg, source, build)
    else:
        drop_db(pg, build)
    bad = odoo_install(pg, build, modules, log_path)
    say(f"    {label}: installed {', '.join(modules)} in {time.time() - t0:.0f}s")
    return build, bad


def ensure_templates(pg, checks, modules=ALL_MODULES):
    """Base template (Odoo dependencies), per-module stand-alone installs, full template.

    `modules` narrows the work to some of our modules (AR_MODULES=ar_dunning): the full
    template then holds those modules only.
    """
    deps = odoo_dependencies()
    base_key = hashlib.sha1(
        ("|".join(deps) + (ODOO_SRC / "odoo" / "release.py").read_text() + str(ODOO_SRC)).encode()
    ).hexdigest()[:10]
    prefix = f"ar_tmpl{SUFFIX}_{REPO_TAG}_"
    base = f"{prefix}base_{base_key}"
    if not db_exists(pg, base):
        say("==> Building the base template database (Odoo dependencies, once)")
        build, bad = build_template(pg, base, None, deps, "template-base")
        if not module_installed(pg, build, deps[0]):
            die("Installing Odoo's base modules failed:\n" + "\n".join(bad[-30:]), code=1)
        rename_db(pg, build, base)

    # Each feature module, and the umbrella, must install on its own with a clean log.
    whole = list(modules) == ALL_MODULES
    full_modules = [UMBRELLA] if whole else list(modules)
    for module in modules:
        key = modules_digest([module] if module != UMBRELLA else ALL_MODULES) + base_key
        stamp = STAMPS / f"install-{module}"
        if stamp.exists() and stamp.read_text() == key:
            checks.append((f"install {module} alone, clean log", True, "(unchanged)"))
            continue
        build, bad = build_template(pg, f"ar_chk{SUFFIX}_{REPO_TAG}_{module}", base, [module], f"install-{module}")
        ok = module_installed(pg, build, module) and not bad
        checks.append((f"install {module} alone, clean log", ok, "\n".join(bad)))
        if ok:
            stamp.write_text(key)
        drop_db(pg, build)
    # The template the tests run on: base + our modules (all of them: the umbrella).
    # the umbrella installs the three modules: its template follows their files too
    full_key = modules_digest(ALL_MODULES if UMBRELLA in modules else list(modules)) + base_key + "|".join(full_modules)
    full_name = f"{prefix}full_{hashlib.sha1(full_key.encode()).hexdigest()[:12]}"
    if not db_exists(pg, full_name):
        build, bad = build_template(pg, full_name, base, full_modules, "template-full")
        if not all(module_installed(pg, build, m) for m in full_modules):
            drop_db(pg, build)
            die("The test template database could not be built:\n" + "\n".join(bad[-30:]), code=1)
        rename_db(pg, build, full_name)
    # forget older templates of this worker
    res = psql(pg, f"SELECT datname FROM pg_database WHERE datname ~ '^{prefix}(base|full)_[0-9a-f]+$'")
    for old in res.stdout.split():
        if old not in (base, full_name):
            drop_db(pg, old)
    return full_name


SALE_TAG = "ar_with_sale"


def ensure_sale_template(pg, full_template):
    """The test template with Odoo's `sale` installed: the suite reads sales data when `sale` is
    there (no dependency on it); the tests tagged ar_with_sale run on a copy of it."""
    prefix = f"ar_tmpl{SUFFIX}_{REPO_TAG}_sale_"
    name = prefix + hashlib.sha1(full_template.encode()).hexdigest()[:12]
    if not db_exists(pg, name):
        build, bad = build_template(pg, name, full_template, ["sale"], "template-sale")
        if not module_installed(pg, build, "sale"):
            drop_db(pg, build)
            die("Installing `sale` on the test template failed:\n" + "\n".join(bad[-30:]), code=1)
        rename_db(pg, build, name)
    res = psql(pg, f"SELECT datname FROM pg_database WHERE datname ~ '^{prefix}[0-9a-f]+$'")
    for old in res.stdout.split():
        if old != name:
            drop_db(pg, old)
    return name


def run_sale_tests(pg, full_template):
    """Odoo tests tagged ar_with_sale, on a copy of the test template with `sale` installed."""
    say("==> Odoo tests with `sale` installed (tag ar_with_sale)")
    try:
        template = ensure_sale_template(pg, full_template)
    except SystemExit:  # die(): already said why
        return 0, 1, ["the test database with `sale` could not be built"]
    ok_n, bad_n, problems, per_module = run_odoo_tests(
        pg, template, SALE_TAG, db=f"{TEST_DB}_sale", log_name="test-with-sale.log", http_port=free_port()
    )
    if not per_module:
        bad_n, problems = bad_n + 1, [*problems, "no test ran with `sale` installed"]
    return ok_n, bad_n, problems


DEMO_WALK_TAG = "ar_demo_walk"
DEMO_LANGS = "nl_BE,fr_BE,de_DE,nl_NL,fr_FR"


def ensure_demo_template(pg):
    """A database like make run's (ar_suite with the demo book), built once per module digest."""
    key = modules_digest() + (ODOO_SRC / "odoo" / "release.py").read_text()
    prefix = f"ar_tmpl{SUFFIX}_{REPO_TAG}_demo_"
    name = prefix + hashlib.sha1(key.encode()).hexdigest()[:12]
    if not db_exists(pg, name):
        build = f"{name}_build"
        drop_db(pg, build)
        t0 = time.time()
        log_path = LOG_DIR / "template-demo.log"
        # no mail sink here: the demo's mails stay queued; its cXML endpoint runs in-process
        env = {k: v for k, v in os.environ.items() if not k.startswith("AR_DEMO_")}
        bad = install_demo_book(pg, build, log_path, env)
        if bad is not None:
            drop_db(pg, build)
            die(f"The demo database could not be built; see {log_path}:\n" + "\n".join(bad[-20:]), code=1)
        rename_db(pg, build, name)
        say(f"    demo database built in {time.time() - t0:.0f}s")
    res = psql(pg, f"SELECT datname FROM pg_database WHERE datname ~ '^{prefix}[0-9a-f]+$'")
    for old in res.stdout.split():
        if old != name:
            drop_db(pg, old)
    return name


RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
STATS_RE = re.compile(r"odoo\.tests\.stats: (\w+): (\d+) tests")
SKIP_RE = re.compile(r" INFO \S+ \S+: skipped (.*)")
FAIL_RE = re.compile(r" (ERROR|CRITICAL) \S+ (\S+): (FAIL|ERROR): (.*)")


def run_odoo_tests(pg, template, tags, db=TEST_DB, log_name="test-odoo.log", http_port=TEST_HTTP_PORT):
    copy_db(pg, template, db)
    log_path = LOG_DIR / log_name
    say(f"==> Odoo tests ({tags}) on a copy of {template}; full log: {log_path}")
    cmd = odoo_cmd(
        "-d",
        db,
        "--test-tags",
        tags,
        "--stop-after-init",
        "--log-level=test",
        f"--http-port={http_port}",
        "--workers=0",
        "--max-cron-threads=0",
    )
    t0 = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            log.write(line)
            if re.search(
                r" (WARNING|ERROR|CRITICAL) |odoo\.tests\.stats|when loading database|"
                r"^(Traceback|\s+File |AssertionError)",
                line,
            ):
                sys.stdout.write(line)
        proc.wait()
    text = log_path.read_text()
    m = RESULT_RE.findall(text)
    say(f"    Odoo tests ran in {time.time() - t0:.0f}s")
    if not m:
        return 0, 1, ["Odoo did not report a test result (did it crash?)"], {}
    failed, errors, total = map(int, m[-1])
    per_module = {mod: int(n) for mod, n in STATS_RE.findall(text)}
    problems = [f"{mod}.{what}: {desc}" for _lvl, mod, what, desc in FAIL_RE.findall(text)]
    skipped = SKIP_RE.findall(text)
    problems += [f"skipped (tests must not skip): {s}" for s in skipped]
    bad_lines = failed + errors + len(skipped)
    if proc.returncode and not bad_lines:
        problems.append(f"odoo exited with {proc.returncode}")
        bad_lines = 1
    return total - failed - errors, bad_lines, problems, per_module


def run_pytest(pg, template=None, narrowed=False):
    """pytest repo_tests/; the real-process tests get the whole suite's test template.

    A narrowed run (AR_MODULES, TAGS) has no whole-suite template: it runs the quick checks only.
    The exactly-once tests (test_exactly_once.py) start Odoo processes on their own copy of it.
    """
    cmd = [str(PY), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:odoo", str(REPO / "repo_tests")]
    if narrowed:
        for name in ("test_read_replica.py", "test_exactly_once.py"):
            cmd.append(f"--ignore={REPO / 'repo_tests' / name}")
    env = dict(
        os.environ,
        AR_ODOO_CONF=str(CONF),
        AR_ODOO_SRC=str(ODOO_SRC),
        AR_PG_HOST=pg["host"],
        AR_PG_PORT=str(pg["port"]),
        AR_DB_USER=DB_USER,
        AR_DATA_DIR=str(DATA_DIR),
        AR_TEST_TEMPLATE=template or "",
        AR_MP_DB=f"{TEST_DB}_mp",
    )
    res = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    out = res.stdout + res.stderr
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", out.splitlines()[-1] if out else ""))
    failed = sum(int(n) for n in re.findall(r"(\d+) (?:failed|error)", out.splitlines()[-1] if out else ""))
    if res.returncode and not failed:
        failed = 1
    return passed, failed, out


def run_demo_walk(pg):
    """The demo as a newcomer sees it: a browser walk on a copy of a database like make run's,
    built once per version of the modules (TAGS=ar_demo_walk)."""
    say("==> The demo walk: the demo database as the buyer and the accountant see it")
    demo_template = ensure_demo_template(pg)
    ok_n, bad_n, problems, walk = run_odoo_tests(
        pg, demo_template, DEMO_WALK_TAG, db=f"{TEST_DB}_demo", log_name="test-demo-walk.log", http_port=free_port()
    )
    if not walk.get(UMBRELLA):
        bad_n, problems = bad_n + 1, [*problems, "the demo walk ran no test"]
    return ok_n, bad_n, problems


def _tally(checks, failures, indent_out):
    """Say each (name, ok, output) check; return (passed, failed) and add the failed names."""
    passed = failed = 0
    for name, ok, out in checks:
        say(f"    {name}: {'ok' if ok else 'FAILED'}")
        if ok:
            passed += 1
        else:
            failed += 1
            failures.append(name)
            say(indent_out + out.strip().replace("\n", "\n" + indent_out))
    return passed, failed


def _side_checks(pg, template, result):
    """Beside the Odoo tests: the repository tests, then the demo walk. Fills ``result``."""
    result.update(passed=0, failed=0, failures=[])
    say("==> Repository tests (pytest repo_tests/), beside the Odoo tests")
    t0 = time.time()
    p_ok, p_bad, out = run_pytest(pg, template, narrowed=False)
    say(f"    repository tests: {(out.strip().splitlines() or ['(no output)'])[-1]} ({time.time() - t0:.0f}s)")
    if p_bad:
        say(out)
        result["failures"].append("pytest repo_tests")
    result["passed"] += p_ok
    result["failed"] += p_bad
    try:
        ok_n, bad_n, problems = run_demo_walk(pg)
    except SystemExit:  # die() while building the demo database: already said why
        ok_n, bad_n, problems = 0, 1, ["the demo database could not be built"]
    result["passed"] += ok_n
    result["failed"] += bad_n
    result["failures"] += problems


def cmd_test(args):
    t0 = time.time()
    modules = [m for m in os.environ.get("AR_MODULES", "").split(",") if m] or ALL_MODULES
    unknown = set(modules) - set(ALL_MODULES)
    if unknown:
        die(f"AR_MODULES: unknown module(s) {', '.join(sorted(unknown))}")
    tags = os.environ.get("TAGS") or ",".join(f"/{m}" for m in modules)
    SUMMARY.update(passed=0, failed=0)
    pg = setup()
    ensure_peppol_rules()
    passed = failed = 0
    failures = []

    if not os.environ.get("SKIP_LINT"):
        say("==> Lint: ruff, pylint-odoo")
        passed, failed = _tally(lint(), failures, indent_out="")

    SUMMARY.update(passed=passed, failed=failed)
    walk_only = os.environ.get("TAGS") == DEMO_WALK_TAG
    sale_only = os.environ.get("TAGS") == SALE_TAG
    checks = []
    template = None
    if not walk_only:
        say("==> Template databases")
        template = ensure_templates(pg, checks, modules)
    ok_n, bad_n = _tally(checks, failures, indent_out="      ")
    passed += ok_n
    failed += bad_n

    narrowed = list(modules) != ALL_MODULES or bool(os.environ.get("TAGS"))
    # The whole run uses both cores: the repository tests, then the demo walk (its database is
    # built like make run's), run beside the Odoo tests (one process, mostly one core). Each has
    # its own databases and ports.
    side = {}
    side_thread = None
    if not narrowed:
        side_thread = threading.Thread(target=_side_checks, args=(pg, template, side), daemon=True)
        side_thread.start()

    per_module = {}
    if not walk_only and not sale_only:
        ok_n, bad_n, problems, per_module = run_odoo_tests(pg, template, tags)
        passed += ok_n
        failed += bad_n
        failures += problems
    if sale_only or not narrowed:
        ok_n, bad_n, problems = run_sale_tests(pg, template)
        passed += ok_n
        failed += bad_n
        failures += problems
    if not os.environ.get("TAGS"):
        for module in modules:
            if not per_module.get(module):
                failed += 1
                failures.append(f"no Odoo test ran for {module}")
    if per_module:
        say("    per module: " + ", ".join(f"{k} {v}" for k, v in sorted(per_module.items())))

    if walk_only:
        ok_n, bad_n, problems = run_demo_walk(pg)
        passed += ok_n
        failed += bad_n
        failures += problems

    if side_thread is None:
        say("==> Repository tests (pytest repo_tests/)")
        p_ok, p_bad, out = run_pytest(pg, None, narrowed=True)
        say("    " + (out.strip().splitlines() or ["(no output)"])[-1])
        if p_bad:
            say(out)
            failures.append("pytest repo_tests")
        passed += p_ok
        failed += p_bad
    else:
        side_thread.join()
        passed += side["passed"]
        failed += side["failed"]
        failures += side["failures"]

    say("")
    if failures:
        say("Failures:")
        for f in failures:
            say(f"  - {f}")
    say(f"make test took {time.time() - t0:.0f}s")
    say(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


# --------------------------------------------------------------------------------------
# make bench
# --------------------------------------------------------------------------------------
def cmd_bench(args):
    pg = setup()
    ensure_peppol_rules()
    env = dict(
        os.environ,
        AR_ODOO_CONF=str(CONF),
        AR_ODOO_SRC=str(ODOO_SRC),
        AR_PG_HOST=pg["host"],
        AR_PG_PORT=str(pg["port"]),
        AR_DB_USER=DB_USER,
        PYTHONPATH=str(REPO),
    )
    only = os.environ.get("BENCH")
    rc = 0
    for script in sorted((REPO / "bench").glob("bench_*.py")):
        if only and only not in script.name:
            continue
        say(f"==> {script.name}")
        rc |= subprocess.run([str(PY), str(script)], env=env, cwd=REPO).returncode
    sys.exit(rc)


# --------------------------------------------------------------------------------------
# make i18n: export the .pot files and merge them into nl/fr/de .po
# --------------------------------------------------------------------------------------
I18N_LANGS = {"nl": "Dutch", "fr": "French", "de": "German"}


def merge_po(module_dir, module):
    """Rewrite nl/fr/de .po from the fresh .pot, keeping every existing translation."""
    import polib  # from the venv (Odoo requires it)

    pot = polib.pofile(str(module_dir / "i18n" / f"{module}.pot"))
    missing = {}
    for lang, lang_name in I18N_LANGS.items():
        path = module_dir / "i18n" / f"{lang}.po"
        old = polib.pofile(str(path)) if path.exists() else polib.POFile()
        known = {(e.msgctxt, e.msgid): e.msgstr for e in old if e.msgstr and "fuzzy" not in e.flags}
        # translators' comments (e.g. the source of a legal text) stay with their entry
        notes = {(e.msgctxt, e.msgid): e.tcomment for e in old if e.tcomment}
        by_id = {e.msgid: e.msgstr for e in old if e.msgstr and "fuzzy" not in e.flags}
        new = polib.POFile(wrapwidth=78)
        new.metadata = dict(pot.metadata)
        new.metadata.update(
            {"Language": lang, "Language-Team": lang_name, "Plural-Forms": "nplurals=2; plural=(n != 1);"}
        )
        new.header = f"Translation of Odoo Server.\n{lang_name} translation of {module}"
        count = 0
        for entry in pot:
            msgstr = known.get((entry.msgctxt, entry.msgid)) or by_id.get(entry.msgid, "")
            count += not msgstr
            new.append(
                polib.POEntry(
                    msgid=entry.msgid,
                    msgstr=msgstr,
                    msgctxt=entry.msgctxt,
                    occurrences=entry.occurrences,
                    comment=entry.comment,
                    tcomment=entry.tcomment or notes.get((entry.msgctxt, entry.msgid), ""),
                    flags=[f for f in entry.flags if f != "fuzzy"],
                )
            )
        new.save(str(path))
        missing[lang] = count
    merge_overrides(module_dir, pot)
    return missing


# regional overrides Odoo loads over the language's .po (nl_BE over nl, fr_BE over fr)
I18N_OVERRIDES = {"nl_BE": ("nl", "Dutch (Belgium)"), "fr_BE": ("fr", "French (Belgium)")}


def merge_overrides(module_dir, pot):
    """Keep nl_BE.po and fr_BE.po (regional overrides, loaded by Odoo over nl.po / fr.po) in step with the .pot.

    Entries the .pot no longer has, empty ones and ones equal to the base language's are dropped.
    """
    import polib

    for locale, (base, team) in I18N_OVERRIDES.items():
        path = module_dir / "i18n" / f"{locale}.po"
        if not path.exists():
            continue
        old = polib.pofile(str(path), wrapwidth=78)
        parent = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(module_dir / "i18n" / f"{base}.po"))}
        by_key = {(e.msgctxt, e.msgid): e for e in pot}
        new = polib.POFile(wrapwidth=78)
        new.metadata = dict(pot.metadata)
        new.metadata.update({"Language": locale, "Language-Team": team, "Plural-Forms": "nplurals=2; plural=(n != 1);"})
        new.header = old.header
        for entry in old:
            key = (entry.msgctxt, entry.msgid)
            source = by_key.get(key)
            if source is None or not entry.msgstr or "fuzzy" in entry.flags or entry.msgstr == parent.get(key):
                continue
            new.append(
                polib.POEntry(
                    msgid=entry.msgid,
                    msgstr=entry.msgstr,
                    msgctxt=entry.msgctxt,
                    occurrences=source.occurrences,
                    comment=source.comment,
                    tcomment=source.tcomment or entry.tcomment,
                    flags=list(source.flags),
                )
            )
        new.sort(key=lambda e: (e.msgid, e.msgctxt or ""))
        new.save(str(path))


def umbrella_code_terms():
    """Add the umbrella's Python terms to i18n/ar_suite.pot.

    The repository root is itself on the addons path (for the three modules), so Odoo's
    exporter cannot attribute the umbrella's own .py files to ar_suite: extract them here.
    """
    import polib
    from babel.messages.extract import extract

    pot_path = REPO / "i18n" / f"{UMBRELLA}.pot"
    pot = polib.pofile(str(pot_path), wrapwidth=78)
    for entry in list(pot):
        entry.occurrences = [o for o in entry.occurrences if not o[0].startswith("code:")]
        if not entry.occurrences:
            pot.remove(entry)
    by_id = {e.msgid: e for e in pot}
    files = sorted(p for folder in ("models", "wizards", "controllers") for p in (REPO / folder).glob("*.py"))
    for py in files:
        with open(py, "rb") as fh:
            for _lineno, message, _comments, _ctx in extract("python", fh, keywords={"_": None}):
                if not isinstance(message, str) or not message:
                    continue
                entry = by_id.get(message)
                if entry is None:
                    entry = polib.POEntry(msgid=message, msgstr="", comment=f"module: {UMBRELLA}\nodoo-python")
                    pot.append(entry)
                    by_id[message] = entry
                elif "odoo-python" not in (entry.comment or ""):
                    entry.comment = (entry.comment or f"module: {UMBRELLA}") + "\nodoo-python"
                occurrence = (f"code:addons/{UMBRELLA}/{py.parent.name}/{py.name}", "0")
                if occurrence not in entry.occurrences:
                    entry.occurrences.append(occurrence)
    pot.sort(key=lambda e: e.msgid)
    pot.save(str(pot_path))


def cmd_i18n(args):
    """Export <module>.pot from a fresh test template and merge it into nl/fr/de .po."""
    pg = setup(quiet=True)
    if Path(sys.prefix) != VENV:
        os.execv(str(PY), [str(PY), __file__, "i18n", *args])  # polib lives in the venv
    modules = [m for m in (args or os.environ.get("AR_MODULES", "").split(",")) if m] or ALL_MODULES
    template = ensure_templates(pg, [], modules)
    db = f"ar_i18n{SUFFIX}_{REPO_TAG}"
    copy_db(pg, template, db)
    res = subprocess.run(
        [str(PY), str(ODOO_SRC / "odoo-bin"), "i18n", "export", "-c", str(CONF), "-d", db, *modules, "-l", "pot"],
        capture_output=True,
        text=True,
    )
    drop_db(pg, db)
    if res.returncode:
        die("Exporting the .pot files failed:\n" + res.stderr[-3000:])
    if UMBRELLA in modules:
        umbrella_code_terms()
    for module in modules:
        module_dir = REPO if module == UMBRELLA else REPO / module
        missing = merge_po(module_dir, module)
        say(f"{module}: " + ", ".join(f"{lang}.po {n} untranslated" for lang, n in missing.items()))


def cmd_setup(args):
    setup()


def cmd_odoo(args):
    """bin/odoo: odoo-bin with the project's configuration."""
    setup(quiet=True)
    subcommands_without_config = {"help", "scaffold", "upgrade_code", "cloc", "--help", "-h", "--version"}
    if args and not args[0].startswith("-"):
        if args[0] == "i18n" and len(args) > 1:  # odoo-bin i18n <export|import|loadlang> -c ...
            cmd = [str(PY), str(ODOO_SRC / "odoo-bin"), "i18n", args[1], "-c", str(CONF), *args[2:]]
        elif args[0] in subcommands_without_config:
            cmd = [str(PY), str(ODOO_SRC / "odoo-bin"), *args]
        else:
            cmd = odoo_cmd(*args[1:], subcommand=args[0])
    else:
        cmd = odoo_cmd(*args)
    os.execv(str(PY), cmd)


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "setup": cmd_setup,
    "odoo": cmd_odoo,
    "i18n": cmd_i18n,
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die(f"usage: {sys.argv[0]} {{{'|'.join(COMMANDS)}}} [args]")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
