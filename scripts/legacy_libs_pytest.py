"""pytest with the library versions that rosdep gives ROS 2 Jazzy/Kilted users on Ubuntu 24.04 (apt).

Run by scripts/legacy_libs_lane.sh as `PYTHONPATH=.venv-legacy-libs .venv/bin/python scripts/legacy_libs_pytest.py
ARGS`. Before pytest starts, in the same process, it imports numpy, cv2 and scipy, prints where each came from, and
exits 3 unless each is the pinned version from the overlay folder: a run that silently tested the venv's own
numpy 2 / OpenCV 4.14 would prove nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OVERLAY = Path(os.environ.get("MPPE_ROS_LEGACY_LIBS", REPO_ROOT / ".venv-legacy-libs")).resolve()
# Ubuntu 24.04 (noble): python3-numpy 1:1.26.4, python3-opencv 4.6.0, python3-scipy 1.11.4.
EXPECTED = {"numpy": "1.26.4", "cv2": "4.6.0", "scipy": "1.11.4"}


def check_versions() -> list[str]:
    """Import each library, print its version and file; return the problems found."""
    import importlib

    problems = []
    for name, version in EXPECTED.items():
        module = importlib.import_module(name)
        where = Path(module.__file__ or "?").resolve()
        print(f"legacy-libs: {name} {module.__version__} from {where}")
        if module.__version__ != version:
            problems.append(f"{name} is {module.__version__}, expected {version}")
        if not where.is_relative_to(OVERLAY):
            problems.append(f"{name} was imported from {where}, not from {OVERLAY}")
    return problems


def main() -> int:
    # As `python -m pytest` from the checkout: the repository root first on sys.path (not scripts/),
    # so `import mppe_ros` is the checkout's, as in `make test`.
    sys.path[0] = str(REPO_ROOT)
    problems = check_versions()
    if problems:
        for problem in problems:
            print(f"legacy-libs: FAIL {problem}", file=sys.stderr)
        print(f"legacy-libs: run with PYTHONPATH={OVERLAY} (scripts/legacy_libs_lane.sh does)", file=sys.stderr)
        return 3
    import pytest

    return pytest.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
