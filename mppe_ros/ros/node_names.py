"""The names that keep several mppe_node instances (one per camera) apart on one robot.

Output topics are relative (`humans/poses3d`, `humans/bodies/...`), so they resolve in the node's namespace:
`/humans/poses3d` in the root namespace, `/front/humans/poses3d` in `/front`. What is shared by every node -- /tf, a
MarkerArray display showing several topics, a consumer merging several cameras' people -- is kept apart by the node's
id prefix (parameter id_prefix, default from the namespace: `/front` -> `front`, `/robot/front` -> `robot_front`)
in REP-155 body ids (`front_b17`), their TF frames (`body_front_b17`) and marker namespaces (`mppe/front/bones`), and
by its track id block (parameter track_id_base: ids base + 1, base + 2, ...).
"""

from __future__ import annotations

from mppe_ros.tracking import PROCESS_TRACK_IDS, TrackIds

POSES_TOPIC = "humans/poses3d"
MARKERS_TOPIC = "humans/poses3d/markers"
BODIES_NAMESPACE = "humans/bodies"


def namespace_id_prefix(namespace: str) -> str:
    """The id prefix of a node namespace: `/front` -> `front`, `/robot/front` -> `robot_front`, `/` -> ``."""
    return "_".join(token for token in namespace.split("/") if token)


def id_prefix(parameter: str, namespace: str) -> str:
    """The node's id prefix: the id_prefix parameter when set, else the one of its namespace."""
    return parameter or namespace_id_prefix(namespace)


class TrackIdBlocks:
    """A node's track id allocators, one per track_id_base it was configured with, kept for the node's life, so
    ids go on across activations and reconfigurations and are never handed out twice (base 0: the process's)."""

    def __init__(self) -> None:
        self._blocks: dict[int, TrackIds] = {0: PROCESS_TRACK_IDS}

    def __call__(self, base: int) -> TrackIds:
        """The allocator of ids base + 1, base + 2, ..."""
        if base not in self._blocks:
            self._blocks[base] = TrackIds(base)
        return self._blocks[base]
