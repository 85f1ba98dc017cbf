"""Shared helpers for the benchmarks in bench/ (run them with `make bench`, BENCH=name narrows).

A benchmark gets a database of its own, copied from the test template (Odoo's dependencies
and the ar_* modules installed, no demo data), and an Odoo environment on it:

    from bench.common import bench_env, Timer, report

    with bench_env("bench_dunning", modules=["ar_dunning"]) as env:
        ... build data with env ...
        env.cr.commit()
        with Timer(env) as t:
            ... the measured work ...
        report("dunning preview", seconds=t.seconds, queries=t.queries, per_item=10000)

Benchmarks print their numbers; they are not tests and `make test` does not run them.
"""

import contextlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import arsuite  # noqa: E402


def prepare_db(name, modules=None):
    """A fresh database `name` copied from the template holding `modules` (default: all)."""
    pg = arsuite.setup(quiet=True)
    template = arsuite.ensure_templates(pg, [], modules or arsuite.ALL_MODULES)
    arsuite.copy_db(pg, template, name)
    return name


def base_template_name():
    """Name of the base template (Odoo's modules, no ar_*) that ensure_templates() keeps."""
    import hashlib

    deps = arsuite.odoo_dependencies()
    key = hashlib.sha1(
        ("|".join(deps) + (arsuite.ODOO_SRC / "odoo" / "release.py").read_text() + str(arsuite.ODOO_SRC)).encode()
    ).hexdigest()[:10]
    return f"ar_tmpl{arsuite.SUFFIX}_{arsuite.REPO_TAG}_base_{key}"


def drop_db(name):
    arsuite.drop_db(arsuite.setup(quiet=True), name)


@contextlib.contextmanager
def bench_env(name, modules=None, keep=False):
    """Yield a superuser environment on a fresh copy of the template."""
    prepare_db(name, modules)
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", str(arsuite.CONF), "-d", name, "--log-level=warn"], setup_logging=True)
    odoo.tools.config["db_name"] = [name] if isinstance(config["db_name"], list) else name
    registry = Registry(name)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            yield env
    finally:
        Registry.delete(name)
        if not keep:
            drop_db(name)


class Timer:
    """Wall time and SQL queries of a block."""

    def __init__(self, env=None):
        self.env = env

    def __enter__(self):
        from odoo import sql_db

        self._sql = sql_db
        self._q0 = sql_db.sql_counter
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        self.queries = self._sql.sql_counter - self._q0


def report(label, seconds, queries=None, per_item=None, *, unit="item", extra=""):
    line = f"{label:48s} {seconds:8.2f} s"
    if queries is not None:
        line += f" {queries:8d} queries"
    if per_item:
        line += f"  | {per_item / seconds:8.1f} {unit}/s"
        if queries is not None:
            line += f", {queries / per_item:6.2f} queries/{unit}"
    if extra:
        line += f"  {extra}"
    print(line, flush=True)


# --------------------------------------------------------------------------------------
# Comparisons: sides in turns (ABAB...), median and spread
# --------------------------------------------------------------------------------------
ROUNDS = int(os.environ.get("ROUNDS", "5"))
if ROUNDS < 5:
    print(f"ROUNDS={ROUNDS}: a smoke run, not a result (comparisons need at least 5 rounds)", flush=True)


def alternate(sides, rounds=ROUNDS):
    """Run every side once per round, in the same order each round (A B A B ...).

    ``sides`` maps a label to a callable returning the measured seconds (or a dict with a
    "seconds" key and other figures). Returns {label: [result per round]}. A slow phase of the
    shared machine then hits every side in turn instead of one side's whole series.
    """
    results = {label: [] for label in sides}
    for index in range(rounds):
        for label, side in sides.items():
            result = side()
            if not isinstance(result, dict):
                result = {"seconds": result}
            results[label].append(result)
            print(f"    round {index + 1}/{rounds} {label}: {result['seconds']:.2f} s", flush=True)
    return results


def stats(values):
    """(median, min, max, spread) of a series; spread = (max - min) / median."""
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return median, ordered[0], ordered[-1], (ordered[-1] - ordered[0]) / median if median else 0.0


def report_series(label, results, key="seconds", unit="s"):
    median, low, high, spread = stats([r[key] for r in results])
    print(
        f"{label:52s} median {median:9.2f} {unit}  (min {low:.2f}, max {high:.2f}, spread {spread:.0%}, "
        f"n={len(results)})",
        flush=True,
    )
    return median


def report_ratio(label, results_a, results_b, goal=""):
    """Median of the per-round ratios a/b (each round's two sides ran back to back)."""
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(results_a, results_b, strict=True)]
    median, low, high, _spread = stats(ratios)
    print(f"{label:52s} {median:6.2f}x  (per-round {low:.2f}x .. {high:.2f}x){goal}", flush=True)
    return median


def load_average():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
