#!/usr/bin/env bash
# CUDA checks and figures for issue 5, on a lent GPU machine (H100/H200; Python 3 with torch,
# torchvision, opencv, numpy, pytest; no ROS, no network). Run from anywhere:
#     OUT=/some/folder bash scripts/gpu_check.sh
# Writes at most 6 files into $OUT (default /tmp/mppe_gpu_check) and takes about 4-6 minutes:
#   environment.txt   GPU, driver, library versions
#   tests.log         the CUDA-relevant tests (GPU crops, prepared networks, CUDA graphs, pipeline
#                     parity on cuda); ROS tests are not collected
#   benchmark.json    `mppe_ros.bench.benchmark` on CUDA: 640x480, 1/5/10/20 persons + detector,
#   benchmark.md      fp32 / fp16 / bf16, each also with CUDA graphs, with both references
#   benchmark.log     its console output
#   status.txt        exit codes of each step
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-${TMPDIR:-/tmp}/mppe_gpu_check}
python=${PYTHON:-python3}
mkdir -p "$out"
cd "$repo" || exit 1

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
  "$python" - <<'EOF'
import platform, cv2, numpy, torch, torchvision
print("python", platform.python_version(), "torch", torch.__version__, "torchvision", torchvision.__version__,
      "opencv", cv2.__version__, "numpy", numpy.__version__)
print("cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(), torch.cuda.get_device_capability())
EOF
  lscpu | grep -E "Model name|^CPU\(s\)" || true
} >"$out/environment.txt" 2>&1

# 1. Tests (about 1-2 minutes): test/conftest.py imports nothing from ROS; these files neither.
timeout 200 "$python" -m pytest -q -p no:cacheprovider -o addopts="" \
  test/core/test_gpu_crop.py test/core/test_acceleration.py test/core/test_reference_parity.py test/core/test_pipeline.py -rs -s \
  >"$out/tests.log" 2>&1
tests_rc=$?

# 2. Benchmark on CUDA (about 2-3 minutes).
timeout 280 "$python" -m mppe_ros bench --device cuda --sizes 640x480 --persons 1,5,10,20 \
  --precision fp32,fp16,bf16 --cuda-graphs --node-seconds 0 --out "$out" \
  >"$out/benchmark.log" 2>&1
bench_rc=$?

printf 'tests exit code: %s\nbenchmark exit code: %s\n' "$tests_rc" "$bench_rc" | tee "$out/status.txt"
tail -n 5 "$out/tests.log"
[ -f "$out/benchmark.md" ] && cat "$out/benchmark.md"
exit $(( tests_rc != 0 || bench_rc != 0 ))
