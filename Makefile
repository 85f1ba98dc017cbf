# ar_suite: the two commands are `make run` and `make test` (see README.md).
PY ?= python3

.PHONY: run test lint bench setup i18n
run:    ## start Odoo with ar_suite and demo data on http://127.0.0.1:8069
	@$(PY) scripts/arsuite.py run
test:   ## lint + all Odoo tests (post_install) + repository tests; TAGS=/ar_dunning narrows
	@$(PY) scripts/arsuite.py test
lint:
	@$(PY) scripts/arsuite.py lint
bench:  ## benchmarks in bench/ (BENCH=name narrows)
	@$(PY) scripts/arsuite.py bench
setup:
	@$(PY) scripts/arsuite.py setup
i18n:   ## export every module's .pot and merge it into nl/fr/de .po (AR_MODULES=ar_dunning narrows)
	@$(PY) scripts/arsuite.py i18n
