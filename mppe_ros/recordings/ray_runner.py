"""Many recordings on Ray: one task per recording (a recording's frames must stay in order for tracking; recordings
are independent), on a cluster at `address` or a local Ray runtime. Ray is optional: `pip install mppe_ros[ray]`.

A task that raises is reported by name with its error; the other tasks go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Task = tuple[str, Callable[..., Any], tuple[Any, ...]]  # (recording name, function, its arguments)


def run_on_ray(
    tasks: Sequence[Task], address: str | None, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0,
    local_cpus: int | None = None,
) -> list[tuple[str, Any]]:  # fmt: skip
    """[(name, the function's result, or the error's text when it raised)] in the order of `tasks`.

    Args:
        tasks: one per recording.
        address: a Ray cluster ("ray://host:10001", "auto"), or None for a local runtime.
        cpus_per_task, gpus_per_task: what each task reserves.
        local_cpus: CPUs of a local runtime (None: Ray's default, every core).

    Raises:
        ValueError: Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs Ray: pip install 'mppe_ros[ray]' (or ray==2.60.0)") from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": local_cpus}
        ray.init(**kwargs, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task, max_retries=0)(_call)
        refs = [remote.remote(function, arguments) for _, function, arguments in tasks]
        results: list[tuple[str, Any]] = []
        for (name, _, _), ref in zip(tasks, refs, strict=True):
            try:
                results.append((name, ray.get(ref)))
            except Exception as error:  # noqa: BLE001 - one failed recording is reported, the others go on
                cause = getattr(error, "cause", None) or error
                results.append((name, f"{type(cause).__name__}: {cause}"))
        return results
    finally:
        if started:
            ray.shutdown()


def _call(function: Callable[..., Any], arguments: tuple[Any, ...]) -> Any:
    return function(*arguments)
