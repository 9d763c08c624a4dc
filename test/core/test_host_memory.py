"""mppe_ros.host_memory: which malloc settings are applied (the page-fault effect: test/integration)."""

from __future__ import annotations

from mppe_ros import host_memory


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, number: int, value: int) -> int:
        self.calls.append((number, value))
        return 1


def test_all_settings_applied_with_glibc(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(host_memory, "_glibc", lambda: libc)
    monkeypatch.setattr(host_memory, "applied", ())
    for *_, variable in host_memory.MALLOC_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(host_memory.OPT_OUT_VARIABLE, raising=False)
    names = host_memory.keep_freed_memory_for_reuse()
    assert names == tuple(name for name, *_ in host_memory.MALLOC_SETTINGS) == host_memory.applied
    assert libc.calls == [(number, value) for _, number, value, _ in host_memory.MALLOC_SETTINGS]


def test_a_users_malloc_variable_wins_and_the_opt_out_applies_nothing(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(host_memory, "_glibc", lambda: libc)
    monkeypatch.setattr(host_memory, "applied", ())
    monkeypatch.delenv(host_memory.OPT_OUT_VARIABLE, raising=False)
    for *_, variable in host_memory.MALLOC_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert "M_ARENA_MAX" not in host_memory.keep_freed_memory_for_reuse()
    monkeypatch.setenv(host_memory.OPT_OUT_VARIABLE, "1")
    libc.calls.clear()
    assert host_memory.keep_freed_memory_for_reuse() == () and libc.calls == []


def test_no_glibc_applies_nothing(monkeypatch):
    monkeypatch.setattr(host_memory, "_glibc", lambda: None)
    monkeypatch.delenv(host_memory.OPT_OUT_VARIABLE, raising=False)
    assert host_memory.keep_freed_memory_for_reuse() == ()
