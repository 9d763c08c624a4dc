#!/usr/bin/env bash
# The legacy-libraries lane (make test-legacy-libs, .ci/run): the core tests once more with the numpy, OpenCV and
# SciPy that rosdep installs from apt for ROS 2 Jazzy/Kilted on Ubuntu 24.04 (python3-numpy 1.26.4,
# python3-opencv 4.6.0, python3-scipy 1.11.4) instead of the venv's numpy 2 / OpenCV 4.14 / SciPy 1.17.
#
# The three are pip-installed (--no-deps) into their own folder, .venv-legacy-libs, and put first on PYTHONPATH
# for this run only: .venv itself is never changed, so every other test keeps the venv's versions. SciPy is
# overlaid too because it is what those users get with numpy 1.26 (and SciPy 1.17 would also accept it).
# OpenCV's PyPI 4.6.0.66 wheel stands for Ubuntu's python3-opencv 4.6.0 (same release; the apt build differs in
# its optional modules, not in the functions the core uses). torch and torchvision stay the venv's: rosdep installs
# them with pip (python3-torchvision-pip), so ROS users get the same wheels.
#
# Usage: bash scripts/legacy_libs_lane.sh [PYTEST ARGS]   (default: test/core)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv"
overlay="$repo/.venv-legacy-libs"
pins=(numpy==1.26.4 opencv-python-headless==4.6.0.66 scipy==1.11.4)

fail() { echo "legacy-libs: $*" >&2; exit 1; }
[ -x "$venv/bin/python" ] || fail "$venv is missing: run make setup first"

# Reinstall only when the pins change (a stamp holds them); a half-written folder is removed first.
stamp="$overlay/.pins"
if [ "$(cat "$stamp" 2>/dev/null)" != "${pins[*]}" ]; then
  echo "legacy-libs: installing ${pins[*]} into $overlay"
  rm -rf "$overlay"
  log=$(mktemp)
  if ! "$venv/bin/python" -m pip install -q --no-compile --no-deps --target "$overlay" "${pins[@]}" >"$log" 2>&1; then
    grep -v "^WARNING: Location 'file://" "$log" >&2 || true
    rm -f "$log"
    fail "pip install --target $overlay ${pins[*]} failed (output above)"
  fi
  rm -f "$log"
  echo "${pins[*]}" >"$stamp"
fi

cd "$repo"
[ $# -gt 0 ] || set -- test/core
unset _ROS_WHEELS_BOOTSTRAP_COMPLETE
echo "legacy-libs: pytest $*"
PYTHONPATH="$overlay${PYTHONPATH:+:$PYTHONPATH}" MPPE_ROS_LEGACY_LIBS="$overlay" \
  exec "$venv/bin/python" scripts/legacy_libs_pytest.py "$@"
