"""pbr: outcomes tracking and payment-by-results claims for English councils.

The public surface is small: load a plan, read a data set, evaluate it. Each name is imported when first used,
so a command that needs none of them (`pbr --help`) starts without loading the engine.
"""

import sys
from importlib import import_module
from types import ModuleType

from pbr.version import VERSION as __version__

_PUBLIC = {
    "evaluate": "pbr.evaluate",
    "Dataset": "pbr.feeds",
    "read_dataset": "pbr.feeds",
    "Plan": "pbr.plan",
    "PlanError": "pbr.plan",
    "load_plan": "pbr.plan",
}

__all__ = ["Dataset", "Plan", "PlanError", "__version__", "evaluate", "load_plan", "read_dataset"]


def __getattr__(name: str):
    if name in _PUBLIC:
        found = getattr(import_module(_PUBLIC[name]), name)
        setattr(sys.modules[__name__], name, found)
        return found
    raise AttributeError(f"module 'pbr' has no attribute {name!r}")


class _Package(ModuleType):
    """`pbr.evaluate` stays the function when the module of that name is imported (it is in sys.modules)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _PUBLIC and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
