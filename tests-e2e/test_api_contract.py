"""Each service keeps the contract its OpenAPI document states, probed through the gateway.

Schemathesis reads the document a partner would generate a client from (as that partner's
operator would fetch it, with a read scope) and sends what it describes, and what it rules out,
through nginx: every check, a fixed seed, bounded examples. Zero failures: no 500, every status
and header documented, every body as its schema says, every valid request accepted and every
invalid one refused. A new service joins by having an entry point (as the gateway routes it).

Run it against one service with `uv run pytest tests-e2e/test_api_contract.py -k partners`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mandi_testing.platform import RunningPlatform

HERE = Path(__file__).parent
SERVICES = sorted(
    path.parent.name.removeprefix("mandi_")
    for path in (HERE.parent / "services").glob("*/src/mandi_*/__main__.py")
)
# Bounded traffic to 127.0.0.1 only; below the platform's per-user rate, so answers are the
# service's own and not the limiter's.
RATE = "60/s"


def _document(gateway: str, service: str, bearer: dict[str, str]) -> dict:
    answer = httpx.get(f"{gateway}/api/v1/{service}/openapi.json", headers=bearer, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _schemathesis(document: Path, base_url: str, bearer: dict[str, str], report: Path):
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        str(document),
        "--url",
        base_url,
        "--checks",
        "all",
        "--rate-limit",
        RATE,
        "--header",
        f"Authorization: {bearer['authorization']}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "contract_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_keeps_its_openapi_contract(
    platform: RunningPlatform, new_admin, service: str, tmp_path: Path
) -> None:
    admin = new_admin()
    document = tmp_path / f"{service}-openapi.json"
    document.write_text(json.dumps(_document(platform.gateway.url, service, admin.bearer)))
    base_url = f"{platform.gateway.url}/api/v1/{service}"
    run = _schemathesis(document, base_url, admin.bearer, tmp_path / "junit.xml")
    summary = run.stdout[run.stdout.find("SUMMARY") :] if "SUMMARY" in run.stdout else run.stdout
    assert run.returncode == 0, f"{run.stdout[-12000:]}\n{run.stderr[-3000:]}"
    assert "Tested:" in summary  # the run reached the API, not just the document
