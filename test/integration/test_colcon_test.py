"""`colcon test` runs the package's pytest suite (ament_cmake_pytest) and `colcon test-result` reports it.

In the workspace that test_colcon_build builds (once per session): ctest runs only the test/core folder
(`--ctest-args -R ^mppe_ros_core$`), and pytest collects only two light files of it (`--ignore` for the others
through pytest's PYTEST_ADDOPTS, so collection imports no torch), against the install space. Then a deliberately
failing test file, written into the workspace's copy of test/core, must show as failed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from test_colcon_build import Workspace, built_workspace, colcon_command, colcon_env

pytestmark = pytest.mark.slow

SUMMARY = re.compile(r"^Summary: (\d+) tests?, (\d+) errors?, (\d+) failures?, (\d+) skipped$", re.MULTILINE)
FAILING_FILE = "test_colcon_deliberate_failure.py"


def colcon_test(workspace: Workspace, keep: set[str]) -> tuple[subprocess.CompletedProcess[str], str, tuple, dict]:
    """`colcon test` of test/core with only the files in `keep` collected, then `colcon test-result --verbose`.

    Returns: colcon test's result; test-result's output and its summary (tests, errors, failures, skipped), its
    exit status checked against that summary; the outcome of each test case in the run's JUnit file.
    """
    core = workspace.source / "test" / "core"
    ignored = [f"--ignore={path}" for path in sorted(core.glob("test_*.py")) if path.name not in keep]
    assert len(ignored) == len(list(core.glob("test_*.py"))) - len(keep), f"{keep} not all in {core}"
    build = workspace.root / "build" / "mppe_ros"
    for stale in ("Testing", "test_results"):  # each run's results alone
        shutil.rmtree(build / stale, ignore_errors=True)
    env = colcon_env()
    env["PYTEST_ADDOPTS"] = shlex.join(ignored)
    test = subprocess.run(
        [
            colcon_command(),
            "test",
            "--packages-select",
            "mppe_ros",
            "--event-handlers",
            "console_direct-",
            "--ctest-args",
            "-R",
            "^mppe_ros_core$",
        ],
        cwd=workspace.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = subprocess.run(
        [colcon_command(), "test-result", "--verbose"],
        cwd=workspace.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout + result.stderr
    counts = tuple(map(int, summary.groups()))
    assert result.returncode == (1 if counts[1] + counts[2] else 0), result.stdout + result.stderr
    junit = build / "test_results" / "mppe_ros" / "mppe_ros_core.xunit.xml"
    assert junit.is_file(), test.stdout[-3000:] + test.stderr[-3000:]
    return test, result.stdout, counts, cases(ET.parse(junit).getroot())


def cases(junit: ET.Element) -> dict[str, str]:
    """Each test case of a JUnit file ("file stem::name") and its outcome."""
    outcomes = {}
    for case in junit.iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        outcomes[f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"] = outcome
    return outcomes


def test_colcon_test_runs_the_suite_and_reports_its_results(tmp_path_factory):
    workspace = built_workspace(tmp_path_factory)
    workspace.assert_built()

    test, report, (tests, errors, failures, _), outcomes = colcon_test(
        workspace, {"test_version.py", "test_joint_sets.py"}
    )
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    assert {name.split("::")[0] for name in outcomes} == {"test_version", "test_joint_sets"}, outcomes
    assert len(outcomes) >= 4 and set(outcomes.values()) == {"passed"}, outcomes
    assert (errors, failures) == (0, 0) and tests > len(outcomes), report  # + ctest's own entry

    # A failing test fails `colcon test-result`; its message shows the tests import the install space.
    (workspace.source / "test" / "core" / FAILING_FILE).write_text(
        "def test_deliberate_failure():\n"
        "    import mppe_ros\n\n"
        "    raise AssertionError(f'deliberate failure; mppe_ros from {mppe_ros.__path__[0]}')\n"
    )
    test, report, (_, _, failures, _), outcomes = colcon_test(workspace, {FAILING_FILE})
    assert test.returncode == 0, "colcon test itself succeeds; test-result reports the failure"
    assert outcomes == {"test_colcon_deliberate_failure::test_deliberate_failure": "failure"}, report
    assert failures >= 1 and "deliberate failure" in report, report
    assert f"mppe_ros from {workspace.site / 'mppe_ros'}" in report, report
