"""The house's shape: each stage imports only the stages below it, the application sits on top, modules stay short."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"dataset", "candidates", "features", "ranker", "prodspec", "bench", "tests"}
# what each package may import of ours. `dataset` is the ground floor (the task contract: units, labels, scoring,
# rows, images) that every stage may use; otherwise a stage reads the one record of the stage just below it, so
# `ranker` never sees a text box or a parser, and no stage knows the application above it
MAY_IMPORT = {
    "dataset": {"dataset"},
    "candidates": {"candidates", "dataset"},
    "features": {"features", "candidates", "dataset"},
    "ranker": {"ranker", "features", "dataset"},
    "prodspec": {"prodspec", "ranker", "features", "candidates", "dataset"},
}
MAX_LINES = 300


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_the_stages_below_it(package):
    wrong = {f"{path.name} imports {sorted(_imported(path) - MAY_IMPORT[package])}"
             for path in _modules(package) if _imported(path) - MAY_IMPORT[package]}
    assert not wrong


@pytest.mark.parametrize("package", [*sorted(MAY_IMPORT), "bench"])
def test_no_module_is_over_300_lines(package):
    long = {path.name: n for path in _modules(package) if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long


def test_the_public_surface_is_what_the_package_names():
    import prodspec

    assert set(prodspec.__all__) == {"Answer", "Model", "UserError", "__version__", "load"}
    for name in prodspec.__all__:
        assert getattr(prodspec, name) is not None
    with pytest.raises(AttributeError):
        prodspec.not_a_name  # noqa: B018
