"""pytest plugin of the suite (loaded by pytest.ini): Odoo tests through pytest-odoo.

    .venv/bin/pytest ar_dunning/tests -k level            # one module's Odoo tests, HttpCase included
    .venv/bin/pytest tests/test_suite_dashboard.py        # the umbrella's end-to-end tests
    .venv/bin/pytest repo_tests                           # repository checks (no Odoo database)

When the paths given are Odoo tests of ar_suite's modules and no ``--odoo-database`` is given,
it prepares what ``make test`` prepares (virtual environment, PostgreSQL, the test template with
the whole suite, built once and reused), copies the template into a database of this worker
(``ar_pytest[_$AR_WORKER]_<clone>``, a fresh copy on every run: tests that commit leave nothing
behind for the next run) and hands it to pytest-odoo with ``--odoo-http`` (an HTTP server on a
free port, for HttpCase and browser tours). Test files are imported under their Odoo name
(``odoo.addons.ar_dunning.tests.test_x``), also for the umbrella, which is the repository root.
Every other run (repo_tests/) blocks pytest-odoo, which would otherwise load a registry.
"""

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
FEATURE_MODULES = ("ar_customer_centric", "ar_peppol_edi", "ar_dunning")
NOT_ODOO = ("repo_tests", "bench", "scripts", ".venv", ".local")


def _odoo_module(path):
    """(module, parts below it) when ``path`` lies in an Odoo module of this repository."""
    try:
        rel = Path(path).resolve().relative_to(REPO)
    except ValueError:
        return None
    if not rel.parts or rel.parts[0] in NOT_ODOO:
        return None
    if rel.parts[0] in FEATURE_MODULES:
        return rel.parts[0], rel.parts[1:]
    return "ar_suite", rel.parts


def _odoo_paths(args):
    paths = [arg.split("::")[0] for arg in args if not arg.startswith("-")]
    return [p for p in paths if Path(p).exists() and _odoo_module(p)]


def pytest_addhooks(pluginmanager):
    # called when pytest loads this plugin (-p, before the entry-point plugins): without
    # Odoo test paths, pytest-odoo (entry point "odoo") is not even registered
    if not _odoo_paths(sys.argv[1:]):
        pluginmanager.set_blocked("odoo")


def _resolve_odoo_name(original):
    def resolve_pkg_root_and_module_name(path, *, consider_namespace_packages=False):
        found = _odoo_module(path)
        if not found:
            return original(path, consider_namespace_packages=consider_namespace_packages)
        module, parts = found
        names = [*parts[:-1], Path(parts[-1]).stem] if parts else []
        if names and names[-1] == "__init__":
            names.pop()
        root = REPO if module in FEATURE_MODULES else REPO / ".local" / "addons"
        return root, ".".join(["odoo.addons", module, *names])

    return resolve_pkg_root_and_module_name


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_cmdline_main(config):
    if _odoo_paths(config.args) and not config.getoption("--odoo-database", None):
        sys.path.insert(0, str(SCRIPTS))
        import arsuite

        pg = arsuite.setup(quiet=True)
        template = arsuite.ensure_templates(pg, [], arsuite.ALL_MODULES)
        database = f"ar_pytest{arsuite.SUFFIX}_{arsuite.REPO_TAG}"
        arsuite.copy_db(pg, template, database)
        config.option.odoo_database = database
        config.option.odoo_config = str(arsuite.CONF)
        config.option.odoo_http = True
        import _pytest.pathlib

        _pytest.pathlib.resolve_pkg_root_and_module_name = _resolve_odoo_name(
            _pytest.pathlib.resolve_pkg_root_and_module_name
        )
    return (yield)
