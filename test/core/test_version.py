"""One version number: package.xml's <version>, read by setup.py and by mppe_ros.__version__."""

from __future__ import annotations

import ast
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import REPO_ROOT

import mppe_ros


def _package_xml_version(package_xml: Path) -> str:
    version = ET.parse(package_xml).getroot().findtext("version")
    assert version, f"no <version> in {package_xml}"
    return version.strip()


def test_package_xml_setup_py_and_the_package_agree():
    version = _package_xml_version(REPO_ROOT / "package.xml")
    assert mppe_ros.__version__ == version
    setup_globals = runpy.run_path(str(REPO_ROOT / "setup.py"), run_name="setup_under_test")  # setup() not run
    assert setup_globals["VERSION"] == version
    assert "version=VERSION" in (REPO_ROOT / "setup.py").read_text()  # no second literal


def test_the_version_is_found_where_each_install_puts_package_xml(tmp_path):
    xml = '<package format="3"><name>mppe_ros</name><version>7.8.9</version></package>'
    checkout = tmp_path / "checkout"
    (checkout / "mppe_ros").mkdir(parents=True)
    (checkout / "package.xml").write_text(xml)
    assert mppe_ros._version(checkout / "mppe_ros") == "7.8.9"
    prefix = tmp_path / "install"  # CMake / colcon: share/mppe_ros/package.xml next to lib/pythonX.Y/site-packages
    site = prefix / "lib" / "python3.11" / "site-packages" / "mppe_ros"
    site.mkdir(parents=True)
    (prefix / "share" / "mppe_ros").mkdir(parents=True)
    (prefix / "share" / "mppe_ros" / "package.xml").write_text(xml.replace("7.8.9", "1.2.3"))
    (site.parent / "package.xml").write_text(xml.replace("mppe_ros", "other_package"))  # not ours: ignored
    assert mppe_ros._version(site) == "1.2.3"


def test_the_package_init_stays_import_light():
    """Entry points tune malloc before torch is imported: `import mppe_ros` must import only the standard library."""
    tree = ast.parse((REPO_ROOT / "mppe_ros" / "__init__.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names), imported
