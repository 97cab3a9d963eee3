"""What a team installs: the package states ranges and one OpenCV; the checkout's environment is exactly what CI tested."""

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements() -> list[Requirement]:
    extras = PROJECT["optional-dependencies"].values()
    return [Requirement(text) for text in PROJECT["dependencies"] + [r for extra in extras for r in extra]]


def test_the_package_states_ranges_not_exact_pins():
    pinned = [str(r) for r in _requirements() if any(s.operator in ("==", "===") for s in r.specifier)]
    assert not pinned
    unbounded = [str(r) for r in _requirements() if not r.specifier]
    assert not unbounded


def test_the_package_requires_one_opencv():
    assert [r.name for r in _requirements() if r.name.startswith("opencv")] == ["opencv-python-headless"]


def test_the_environment_is_the_constraints_file():
    """`make setup` installs constraints.txt's versions: a drift (a package upgraded by hand, a stale venv) fails here
    rather than as a puzzling difference in a reading."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line).groups()
            pins[name] = version
    assert len(pins) > 50
    drifted = {name: (version, metadata.version(name)) for name, version in pins.items()
               if metadata.version(name) != version}
    assert not drifted
    # and every range of the package admits what was tested
    refused = [str(r) for r in _requirements() if r.name in pins and pins[r.name] not in r.specifier]
    assert not refused
