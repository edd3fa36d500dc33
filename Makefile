# Two commands on a fresh machine:  `make demo`  and  `make test`  (see README.md).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-10)

.PHONY: demo test install lint docs clean

demo: install  ## install, then build the sample organisation and run the chain on it
	$(VENV)/bin/cxchain demo --workspace cxchain-demo

test: install lint  ## install, lint, type-check, then run the whole test suite
	bash scripts/install-browser.sh   # Debian's chromium for the browser tests, when missing
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q torch==2.13.0   # first and alone: the CPU wheel on disk, never a CUDA build
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

docs: install
	$(PY) -m cxchain.settings > docs/settings.md

clean:
	rm -rf $(VENV) cxchain-demo .pytest_cache .mypy_cache .ruff_cache
