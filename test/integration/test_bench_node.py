"""mppe_ros.bench.node: the node-level benchmark runs the real node over DDS and accounts for every frame."""

from __future__ import annotations

from mppe_ros.bench import node as bench_node
from mppe_ros.bench import report as bench_report


def test_a_short_node_benchmark_accounts_for_every_published_frame():
    result = bench_node.run(seconds=2.0, device="cpu", precision="fp32", width=320, height=240, persons=1)
    published, results = result["published"], result["results"]
    assert 1 <= published <= 62  # at most 30 Hz for 2 s (fewer, how many depends on the cores, while inference runs)
    assert 1 <= results <= result["node_frames_processed"]
    assert result["node_images_received"] <= published
    assert result["node_pairs_received"] == result["node_frames_processed"] + result["node_frames_skipped"]
    assert 0.0 <= result["skipped_share"] < 1.0 and result["skipped_share"] == 1.0 - results / published
    assert 0.0 < result["latency_median_s"] <= result["latency_p99_s"]
    line = bench_report._node_line(result)
    assert f"the node received {result['node_images_received']} images" in line and "latency median" in line
