"""The golden file: MppePipeline's outputs on fixed synthetic inputs, so that any moved number is seen.

Inputs (all fixed): synthetic_frame(640, 480, seed=3); three injected person boxes (one leaves the
image); two cameras, a rectified one with fx != fy and an off-centre principal point and a raw one
with plumb_bob distortion; the one synthetic recipe's weights (trained_like_weights, seed 0) written
in the released file format and loaded through PipelineConfig like real files; CPU, float32, no
detector. Outputs per camera and person: processed box, k, root depth, root px, joints px and mm,
joint confidences.

test/core/test_golden.py compares against test/data/golden_pipeline.json with tolerances that
survive different CPUs' SIMD kernels (TOLERANCES) and nothing more. Regenerate the file only when a
change of the numbers is intended, and say why in the commit:

    .venv/bin/python -m mppe_ros.testing.golden --write --file test/data/golden_pipeline.json

Without --write it prints the largest differences against the file (exit 1 beyond the tolerances).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.pipeline import MppePipeline, PipelineConfig
from mppe_ros.testing.synthetic import synthetic_frame, trained_like_weights

SCHEMA = "mppe_ros.golden/1"
WIDTH, HEIGHT, FRAME_SEED, WEIGHTS_SEED = 640, 480, 3, 0
BOXES_XYWH_PX = ((60.0, 40.0, 180.0, 400.0), (330.5, 120.25, 110.0, 260.0), (560.0, 200.0, 140.0, 250.0))
CAMERAS = {
    "rectified": PinholeCamera(fx=1400.0, fy=1550.0, cx=300.5, cy=262.25, width=WIDTH, height=HEIGHT),
    "raw": PinholeCamera(
        fx=1400.0,
        fy=1550.0,
        cx=300.5,
        cy=262.25,
        width=WIDTH,
        height=HEIGHT,
        distortion=(-0.28, 0.09, 0.001, -0.0015, -0.01),
        rectified=False,
    ),
}
# Absolute tolerances per field: about 4x the largest float32 noise measured between CPU kernels and thread
# counts on the same file (ATEN_CPU_CAPABILITY avx2 / avx512 / default, OMP_NUM_THREADS 1 / 2: joints 0.012 px
# and 0.044 mm, root px 0.0015, root depth 0.008 mm, confidence 5e-7). The geometry (processed box, k) is
# float64 and exact. A real change (a shifted affine, another interpolation, a changed decoding) moves
# joints by tenths of a pixel and millimetres.
TOLERANCES = {
    "processed_box_xywh_px": 1e-6,
    "k_value": 1e-3,  # mm
    "root_depth_mm": 0.05,
    "root_px": 0.01,
    "joints_px": 0.05,
    "joints_mm": 0.2,
    "joint_confidence": 1e-5,
}


def compute() -> dict[str, Any]:
    """The golden document: inputs described, outputs per camera and person (plain JSON types)."""
    image = synthetic_frame(WIDTH, HEIGHT, FRAME_SEED)
    with tempfile.TemporaryDirectory(prefix="mppe_golden_") as folder:
        posenet_path, rootnet_path = trained_like_weights(Path(folder), 21, WEIGHTS_SEED)
        config = PipelineConfig(
            posenet_path=str(posenet_path), rootnet_path=str(rootnet_path), detector="none", device="cpu"
        )
        pipeline = MppePipeline.from_config(config)
    outputs = {}
    for name, camera in CAMERAS.items():
        result = pipeline(image, camera, boxes_xywh=np.array(BOXES_XYWH_PX))
        outputs[name] = [
            {
                "processed_box_xywh_px": person.processed_box_xywh_px.tolist(),
                "k_value": person.k_value,
                "root_depth_mm": person.root_depth_mm,
                "root_px": person.root_px.tolist(),
                "joints_px": person.joints_px.tolist(),
                "joints_mm": (person.joints_cam_m * 1000.0).tolist(),
                "joint_confidence": person.joint_confidence.tolist(),
            }
            for person in result.persons
        ]
    return {
        "schema": SCHEMA,
        "inputs": {
            "frame": f"synthetic_frame({WIDTH}, {HEIGHT}, seed={FRAME_SEED})",
            "weights": f"trained_like_weights(joint_num=21, seed={WEIGHTS_SEED}), official format",
            "boxes_xywh_px": [list(box) for box in BOXES_XYWH_PX],
            "pipeline": "CPU, fp32, detector none",
        },
        "tolerances": TOLERANCES,
        "outputs": outputs,
    }


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, float]:
    """Largest absolute difference per field over every camera and person; ValueError if the shapes differ."""
    largest = dict.fromkeys(TOLERANCES, 0.0)
    for camera, persons in expected["outputs"].items():
        if len(actual["outputs"].get(camera, [])) != len(persons):
            raise ValueError(f"camera {camera}: {len(persons)} persons expected")
        for want, got in zip(persons, actual["outputs"][camera], strict=True):
            for field in TOLERANCES:
                a, b = np.asarray(want[field], dtype=np.float64), np.asarray(got[field], dtype=np.float64)
                if a.shape != b.shape:
                    raise ValueError(f"camera {camera}, {field}: shape {b.shape}, expected {a.shape}")
                largest[field] = max(largest[field], float(np.abs(a - b).max(initial=0.0)))
    return largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mppe_ros.testing.golden", description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="test/data/golden_pipeline.json", help="the golden file")
    parser.add_argument("--write", action="store_true", help="(re)write the file: only when a change is intended")
    parser.add_argument("--print", dest="print_path", help="write the computed document here (no comparison)")
    args = parser.parse_args(argv)
    document = compute()
    if args.print_path:
        Path(args.print_path).write_text(json.dumps(document, indent=1) + "\n")
        return 0
    if args.write:
        Path(args.file).write_text(json.dumps(document, indent=1) + "\n")
        print(f"wrote {args.file}")
        return 0
    largest = differences(json.loads(Path(args.file).read_text()), document)
    failed = [field for field, value in largest.items() if value > TOLERANCES[field]]
    for field, value in largest.items():
        print(f"{field:<22} max |diff| {value:.3g} (tolerance {TOLERANCES[field]:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
