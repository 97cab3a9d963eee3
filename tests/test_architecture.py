"""The house's shape: each stage imports only the stages below it, the application sits on top, modules stay short."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("dataset", "candidates", "features", "ranker")
# what each part may import of ours. `dataset` is the ground floor (the task contract: units, labels, scoring,
# rows, images) that every stage may use; otherwise a stage reads the one record of the stage just below it, so
# `ranker` never sees a text box or a parser, and no stage knows the application above it ("app": `prodspec` and
# its modules other than the stages). The stages are folders at the top of the repository, installed as
# `prodspec.dataset`, `prodspec.candidates`, ...
MAY_IMPORT = {
    "dataset": {"dataset"},
    "candidates": {"candidates", "dataset"},
    "features": {"features", "candidates", "dataset"},
    "ranker": {"ranker", "features", "dataset"},
    "prodspec": {"app", "ranker", "features", "candidates", "dataset", "models"},
}
MAX_LINES = 300


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _part(module: str) -> str | None:
    """Which part of ours a module name is: a stage, the shipped model, the application, or none (not ours)."""
    names = module.split(".")
    if names[0] != "prodspec":
        return "outside" if names[0] in STAGES else None  # a stage by its top-level folder name
    if len(names) > 1 and names[1] in (*STAGES, "models"):
        return names[1]
    return "app"


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {_part(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(_part(node.module))
            if node.module == "prodspec":  # `from prodspec import x`: x may be a part itself
                found |= {_part(f"prodspec.{alias.name}") for alias in node.names}
    return found - {None}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_the_stages_below_it(package):
    wrong = {f"{path.relative_to(ROOT)} imports {sorted(_imported(path) - MAY_IMPORT[package])}"
             for path in _modules(package) if _imported(path) - MAY_IMPORT[package]}
    assert not wrong


def test_the_stages_are_imported_by_their_installed_names_only():
    """`import dataset` would load a second copy of the stage beside `prodspec.dataset` (and collide with the
    registry's `dataset` in a user's environment): every module of ours names the stages inside `prodspec`."""
    wrong = {str(path.relative_to(ROOT)) for folder in (*MAY_IMPORT, "bench", "tests")
             for path in _modules(folder) if "outside" in _imported(path)}
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
