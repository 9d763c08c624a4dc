# The README's commands. Each target sets up .venv first (idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: setup demo test lint bench

setup:
	@bash scripts/setup_venv.sh

demo: setup
	$(PYTHON) -m mppe_ros demo $(ARGS)

test: setup
	$(PYTHON) -m pytest $(ARGS)

# ruff (format, lint: ruff.toml), the rooms' import contract, mypy over the core (mypy.ini); tools pinned in requirements.txt.
lint: setup
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	$(PYTHON) -m mppe_ros.testing.import_contract
	.venv/bin/mypy

bench: setup
	$(PYTHON) -m mppe_ros bench $(ARGS)
