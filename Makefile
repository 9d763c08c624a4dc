# The README's commands. Each target sets up .venv first (idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: setup demo test test-fast test-legacy-libs lint bench

setup:
	@bash scripts/setup_venv.sh

demo: setup
	$(PYTHON) -m mppe_ros demo $(ARGS)

test: setup
	$(PYTHON) -m pytest $(ARGS)

# The inner loop: the core and ros rooms (test/core, test/ros) without the `slow` tests; no subprocess, no
# cross-process DDS (in-process rclpy nodes only). Under 2 minutes on 2 cores (docs/development.md). The two
# deselected tests start a Python child process (test/ros/test_parameters.py does not mark them slow).
FAST_DESELECT := \
	--deselect test/ros/test_parameters.py::test_table_imports_neither_torch_nor_the_pipeline \
	--deselect test/ros/test_parameters.py::test_command_line_prints_the_generated_files
test-fast: setup
	$(PYTHON) -m pytest test/core test/ros -m "not slow" $(FAST_DESELECT) $(ARGS)

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
