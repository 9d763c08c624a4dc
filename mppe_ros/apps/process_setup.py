"""What `mppe-ros process` runs with: the node's parameters, the pipeline they name (or injected boxes, or random
weights), and the provenance written into each output bag."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from mppe_ros import __version__
from mppe_ros.ros.parameter_files import effective_parameters, node_config
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.startup import StartupError, build_pipeline

UNTRAINED_DIR = Path(tempfile.gettempdir()) / "mppe_ros_process_untrained"


def build(args: argparse.Namespace) -> tuple[NodeConfig, Any, Any, dict[str, Any]]:
    """(config, pipeline, injected boxes or None, provenance) for `args`.

    Raises:
        ValueError: bad parameters or boxes, missing weights (StartupError's message).
    """
    from mppe_ros.apps.cli import read_boxes
    from mppe_ros.apps.process import sha256

    overrides = list(args.overrides)
    boxes = read_boxes(args.boxes) if args.boxes else None
    if boxes is not None:
        overrides.append("detector:=none")
    if args.untrained:
        from mppe_ros.joint_sets import get_joint_set
        from mppe_ros.testing.synthetic import trained_like_weights

        joint_set = node_config(args.params_file, overrides).model.joint_set
        posenet, rootnet = trained_like_weights(UNTRAINED_DIR, get_joint_set(joint_set).joint_num)
        overrides += [f"posenet_path:={posenet}", f"rootnet_path:={rootnet}"]
    config = node_config(args.params_file, overrides)
    if config.model.detector == "topic":
        raise ValueError(
            "detector topic is the live node's (a detector's Detection2DArray topic paired by stamp); process runs "
            "DetectNet on every frame, or takes --boxes: set detector to a DetectNet model (the default) or none"
        )
    try:
        pipeline = build_pipeline(config)
    except StartupError as error:
        raise ValueError(str(error)) from None
    files = [config.model.posenet_path, config.model.rootnet_path, config.model.detector_weights_path]
    provenance = {
        "version": __version__,
        "parameters": effective_parameters(config),
        "weights_sha256": {Path(f).name: sha256(f) for f in files if f and Path(f).is_file()},
        "untrained": bool(args.untrained),
        "boxes": boxes.tolist() if boxes is not None else None,
    }
    return config, pipeline, boxes, provenance
