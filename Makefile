# The README's commands. Each target sets up .venv first (idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: setup demo test bench

setup:
	@bash scripts/setup_venv.sh

demo: setup
	$(PYTHON) -m mppe_ros demo $(ARGS)

test: setup
	$(PYTHON) -m pytest $(ARGS)

bench: setup
	$(PYTHON) -m mppe_ros bench $(ARGS)
