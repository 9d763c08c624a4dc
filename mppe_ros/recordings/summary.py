"""What one recording's run did: frames, persons, tracks, frames skipped by kind (with the first stamp of each).

The kinds are the node's counters (mppe_ros.ros.frames.NodeStats) plus `undecodable` (a message whose bytes do not
deserialise) and the events that are reported without skipping a frame (`camera_info_reused`, `stamp_went_back`,
`stamps_substituted`, and `undecodable_tf`: a /tf or /tf_static message left out of the transforms).
Stamps are integer nanoseconds (the header's), printed in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SKIPPED_KINDS = (
    "undecodable",
    "unsupported_encoding",
    "bad_image",
    "bad_camera_info",
    "images_without_camera_info",
    "no_transform",
    "pipeline_errors",
)
EVENT_KINDS = ("camera_info_reused", "stamp_went_back", "stamps_substituted", "undecodable_tf")


@dataclass
class KindCount:
    """How often one kind happened and the stamp of its first frame (ns)."""

    count: int = 0
    first_stamp_ns: int = 0


@dataclass
class RunSummary:
    """One recording's run.

    Attributes:
        name: the input's name.
        images: image messages (or video frames) read.
        processed: frames answered (one output message each).
        persons: persons in all answered frames together.
        tracks: distinct track ids (ids with tracking off).
        kinds: SKIPPED_KINDS and EVENT_KINDS that happened, by kind.
        last_stamp_ns: the stamp of the last answered frame (0: none).
        interrupted: the run was stopped (SIGINT) before the end of the input.
    """

    name: str = ""
    images: int = 0
    processed: int = 0
    persons: int = 0
    track_ids: set[int] = field(default_factory=set)
    kinds: dict[str, KindCount] = field(default_factory=dict)
    last_stamp_ns: int = 0
    interrupted: bool = False

    def count(self, kind: str, stamp_ns: int, times: int = 1) -> None:
        """Add `times` frames of `kind` (the first one's stamp is kept)."""
        entry = self.kinds.setdefault(kind, KindCount(0, stamp_ns))
        entry.count += times

    def answered(self, stamp_ns: int, ids: list[int]) -> None:
        """One answered frame with these person ids."""
        self.processed += 1
        self.persons += len(ids)
        self.track_ids.update(ids)
        self.last_stamp_ns = stamp_ns

    @property
    def skipped(self) -> int:
        """Frames skipped, all kinds together."""
        return sum(entry.count for kind, entry in self.kinds.items() if kind in SKIPPED_KINDS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (stamps in ns)."""
        return {
            "name": self.name,
            "images": self.images,
            "processed": self.processed,
            "persons": self.persons,
            "tracks": len(self.track_ids),
            "skipped": self.skipped,
            "kinds": {kind: {"count": e.count, "first_stamp_ns": e.first_stamp_ns} for kind, e in self.kinds.items()},
            "last_stamp_ns": self.last_stamp_ns,
            "interrupted": self.interrupted,
        }

    def text(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{self.name}: {self.processed} of {self.images} frames answered, {self.persons} persons, "
            f"{len(self.track_ids)} tracks, {self.skipped} frames skipped"
        ]
        for kind in SKIPPED_KINDS + EVENT_KINDS:
            entry = self.kinds.get(kind)
            if entry is not None:
                what = "skipped" if kind in SKIPPED_KINDS else "messages" if kind == "undecodable_tf" else "frames"
                lines.append(f"  {kind}: {entry.count} {what}, the first at stamp {entry.first_stamp_ns * 1e-9:.9f} s")
        if self.interrupted:
            lines.append(
                f"  interrupted: stopped after the frame at stamp {self.last_stamp_ns * 1e-9:.9f} s; the outputs are "
                "complete up to it"
            )
        return "\n".join(lines)
