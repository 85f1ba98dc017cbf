"""Time installing ar_suite into a fresh database, next to Odoo's own accounting stack alone."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import arsuite, report


def timed_install(db, modules):
    pg = arsuite.setup(quiet=True)
    arsuite.drop_db(pg, db)
    log = arsuite.LOG_DIR / f"bench-{db}.log"
    t0 = time.perf_counter()
    bad = arsuite.odoo_install(pg, db, modules, log)
    seconds = time.perf_counter() - t0
    arsuite.drop_db(pg, db)
    return seconds, bad


def main():
    deps = arsuite.odoo_dependencies()
    stock, _ = timed_install("bench_install_stock", deps)
    report(f"install Odoo dependencies ({len(deps)} modules)", stock)
    full, bad = timed_install("bench_install_suite", [*deps, arsuite.UMBRELLA])
    report("install the same + ar_suite (4 modules)", full, extra=f"ar_suite adds {full - stock:.1f} s")
    if bad:
        print("warnings/errors in the install log:\n" + "\n".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
