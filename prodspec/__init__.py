"""prodspec: product attribute values read off product photos.

    import prodspec
    model = prodspec.load()                      # the shipped model; prodspec.load("my_model/") for another
    a = model.predict("photo.jpg", "item_weight", group_id=459516)
    a.text, a.value, a.unit, a.confidence, a.source, a.evidence
    model.predict_csv("test.csv", images="images/", output="out.csv")

The public surface is what this file names; the stage packages (`prodspec.dataset`, `prodspec.candidates`,
`prodspec.features`, `prodspec.ranker`), the shipped model (`prodspec.models`) and the subpackages `serving`, `cli`,
`training` and `evaluation` are the implementation.
"""

from __future__ import annotations

__version__ = "0.2.0"
__all__ = ["Answer", "Model", "UserError", "__version__", "load"]

# the names load on first use, so that `prodspec --version` and `--help` answer without loading the OCR stack
_LAZY = {"Model": ("prodspec.serving.api", "Model"), "load": ("prodspec.serving.api", "load"),
         "Answer": ("prodspec.ranker.answers", "Answer"), "UserError": ("prodspec.dataset.errors", "UserError")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'prodspec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
