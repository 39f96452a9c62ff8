# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv from the
# pinned constraints; the stamp file re-runs the install only when the pins or pyproject change.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo-workspace

.PHONY: venv demo test bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,spark]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recon demo $(DEMO_DIR)

# The CI path (.ci/run): every parser's property tests search DEPTH times deeper (tests/parsers_toolkit/budget.py).
test: $(STAMP)
	RECON_PARSER_PROPERTIES=deep $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info
