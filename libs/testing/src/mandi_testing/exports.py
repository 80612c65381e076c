"""A check that a package's public surface is exactly its `__all__` (httpx's habit)."""

from __future__ import annotations

import inspect
from types import ModuleType

__all__ = ["assert_public_surface"]


def assert_public_surface(package: ModuleType) -> None:
    """Fails when `__all__` names something missing, repeats a name, or leaves a public one out."""
    exported = list(getattr(package, "__all__", []))
    assert exported, f"{package.__name__} declares no __all__"
    assert len(exported) == len(set(exported)), f"{package.__name__}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(package, name)]
    assert not missing, f"{package.__name__}.__all__ names what it lacks: {missing}"
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    unlisted = sorted(public - set(exported) - {"annotations"})
    assert not unlisted, f"{package.__name__} has public names outside __all__: {unlisted}"
