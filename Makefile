# One command each for a newcomer: `make demo` (the main job) and `make test`.
# torch is installed first, pinned, from its own line: letting pip resolve it through the
# project's dependencies could pull a multi-GB CUDA build instead of the local CPU one.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: setup demo test lint bench clean

$(BIN)/aekit: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev,onnx]'
	touch $(BIN)/aekit

setup: $(BIN)/aekit

demo: setup
	$(BIN)/aekit demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: setup
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) runs .pytest_cache
