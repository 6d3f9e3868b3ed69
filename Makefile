# One command each for a newcomer: `make demo` (the main job) and `make test`; `make docs`
# builds the documentation site.
# torch is installed first, pinned, from its own line: letting pip resolve it through the
# project's dependencies could pull a multi-GB CUDA build instead of the local CPU one.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: setup browser postgres demo test docs lint bench clean

$(BIN)/aekit: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,onnx,docs,postgres]'
	touch $(BIN)/aekit

setup: $(BIN)/aekit

# The run report's browser test drives Debian's chromium through its chromedriver (never a
# downloaded one). Installed where missing and we are root; otherwise that test skips, saying
# why. Best effort: setup never fails for it.
browser:
	@if [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver for the report's browser test"; \
	    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) || \
	    echo "note: could not install chromium and chromium-driver; the browser test will skip"; \
	  else \
	    echo "note: /usr/bin/chromedriver is missing (apt-get install chromium chromium-driver as root); the browser test will skip"; \
	  fi; \
	fi

# The shared-study sweep test starts its own PostgreSQL server from Debian's postgresql
# package (initdb and pg_ctl in a temp folder). Installed where missing and we are root;
# otherwise that test skips, saying why. Best effort: setup never fails for it.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql for the shared-study sweep test"; \
	    (apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq postgresql >/dev/null 2>&1)) || \
	    echo "note: could not install postgresql; the shared-study sweep test will skip"; \
	  else \
	    echo "note: PostgreSQL's pg_ctl is missing (apt-get install postgresql as root); the shared-study sweep test will skip"; \
	  fi; \
	fi

demo: setup
	$(BIN)/aekit demo

test: setup browser postgres
	$(BIN)/python -m pytest

# The site, as tests/test_docs.py builds it: warnings are errors, the gallery's examples run,
# nothing is fetched. Open docs/_build/html/index.html.
docs: setup
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts docs/conf.py docs/_ext docs/examples
	$(BIN)/ruff format --check src tests benchmarks scripts docs/conf.py docs/_ext docs/examples

bench: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) runs .pytest_cache docs/_build docs/auto_examples
