"""The local scripts' service and secret lists are what the services' settings declare."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from service_manifest import DEPLOY_LOCAL, render_secrets, render_services  # a script


def test_services_txt_lists_each_runnable_service_with_its_settings_port() -> None:
    assert (DEPLOY_LOCAL / "services.txt").read_text() == render_services()
    assert "partners       58102" in render_services()


def test_secrets_txt_lists_each_declared_secret() -> None:
    rendered = render_secrets()
    assert (DEPLOY_LOCAL / "secrets.txt").read_text() == rendered
    assert "auth       GATEWAY_SECRET       token    gateway.secret" in rendered
    assert "partners   GATEWAY_SECRET       token    gateway.secret" in rendered
    assert "partners   VERIFIER_TOKEN       token    fake-verifier.token" in rendered
