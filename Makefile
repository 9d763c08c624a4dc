# The README's commands. Each target sets up .venv first (idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: setup demo test test-legacy-libs lint bench

setup:
	@bash scripts/setup_venv.sh

demo: setup
	$(PYTHON) -m mppe_ros demo $(ARGS)

test: setup
	$(PYTHON) -m pytest $(ARGS)

# test/core (or ARGS) again with Ubuntu 24.04's numpy 1.26.4, OpenCV 4.6.0 and SciPy 1.11.4, what rosdep gives
# Jazzy/Kilted users: overlaid from .venv-legacy-libs via PYTHONPATH for this run only; .venv is not changed.
test-legacy-libs: setup
	@bash scripts/legacy_libs_lane.sh $(ARGS)

# ruff (format, lint: ruff.toml), the rooms' import contract, mypy over the core (mypy.ini); tools pinned in requirements.txt.
lint: setup
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	$(PYTHON) -m mppe_ros.testing.import_contract
	.venv/bin/mypy

bench: setup
	$(PYTHON) -m mppe_ros bench $(ARGS)
