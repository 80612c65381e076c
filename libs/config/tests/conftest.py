"""Every test starts from an environment without Mandi's variables."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Removes MANDI_* variables the developer's shell may hold."""
    for name in os.environ:
        if name.upper().startswith("MANDI_"):
            monkeypatch.delenv(name)
    return monkeypatch
