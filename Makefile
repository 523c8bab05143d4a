# onewindow — the two commands a new machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: install run test test-fast lint bench browser clean

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

test: install browser
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/onewindow bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
