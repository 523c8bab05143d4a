# onewindow — the two commands a new machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: install run test test-fast lint bench browser clean translations

install: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser),
# and a CJK font so Chinese renders in it.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium or fonts-noto-cjk missing: browser tests will be skipped (apt-get install chromium fonts-noto-cjk)"; fi; }

run: install
	$(BIN)/onewindow init --demo
	$(BIN)/onewindow serve --host 127.0.0.1 --port 5000

# The suite over every CPU and one worker more (pytest-xdist): each worker has its own databases, browser and
# ports. A browser walk or a test that starts processes spends part of its time waiting on Chromium or on the
# processes it started, so one worker per CPU left the CPUs partly idle (bench/README.md, the suite's time).
# Bytecode is written even where the environment turns it off (PYTHONDONTWRITEBYTECODE, set on these machines):
# the suite starts some hundred Python processes (xdist workers, one `onewindow` per step of the cold walks,
# servers), and each compiled the project's modules and rewrote the test files again, ~0.4 s a process.
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN) + 1 )))
test: install browser
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The English catalogue (docs/operators.md, "Translations"): extract every `_("…")` from webapp/ into
# the template, merge it into webapp/translations/en/…/messages.po (new texts arrive empty, changed
# ones fuzzy: tests/test_translations.py fails until someone translates them), then compile the .mo.
# The .mo is committed, so a fresh clone, a wheel or the Docker image needs no step; the test checks
# that it says what the .po says. `-k _l`: module-level tables use `lazy_gettext as _l`; `-k said`: the engine's
# messages (engine/messages.py), which the web app translates with the same catalogue (docs/architecture.md §11a).
TRANSLATIONS := webapp/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k said -k said_in:1c,2 -k to_say --add-location=file --sort-by-file --no-wrap --project=onewindow \
	  -o $(TRANSLATIONS)/messages.pot webapp engine
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

bench: install
	$(BIN)/onewindow bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
