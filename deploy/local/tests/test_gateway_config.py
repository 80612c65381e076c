"""The gateway's configuration: valid for nginx, every error answered, public routes as auth's."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

from mandi_auth.domain.access import PUBLIC_ROUTES

DEPLOY = Path(__file__).resolve().parents[2]
GATEWAY_SH = DEPLOY / "local" / "gateway.sh"


def _render(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    secret = tmp_path / "gateway.secret"
    secret.write_text("s3cret-for-the-test")
    environment = {
        **os.environ,
        "MANDI_GATEWAY_DIR": str(tmp_path / "gateway"),
        "MANDI_GATEWAY_SECRET_FILE": str(secret),
        **extra,
    }
    return subprocess.run(
        [str(GATEWAY_SH), "render"], capture_output=True, text=True, env=environment, check=False
    )


def test_the_rendered_configuration_passes_nginx_t(tmp_path: Path) -> None:
    result = _render(tmp_path, MANDI_GATEWAY_PORT="58999", MANDI_AUTH_HTTP_PORT="58998")
    assert result.returncode == 0, result.stderr
    conf = tmp_path / "gateway" / "conf"
    assert "listen 127.0.0.1:58999" in (conf / "nginx.conf").read_text()
    assert "server 127.0.0.1:58998" in (conf / "upstreams.conf").read_text()
    assert oct((conf / "secret.conf").stat().st_mode & 0o777) == "0o600"


def test_every_error_nginx_can_make_is_answered_with_a_problem(tmp_path: Path) -> None:
    assert _render(tmp_path).returncode == 0
    problems = (tmp_path / "gateway" / "conf" / "problems.conf").read_text()
    table = (DEPLOY / "gateway" / "problems.txt").read_text().splitlines()
    statuses = {line.split("|")[0] for line in table if line and not line.startswith("#")}
    handled = set(re.findall(r"^error_page (\d+) ", problems, flags=re.MULTILINE))
    assert handled == statuses | {"401", "403", "429"}
    for body in re.findall(r"return \d+ '(.*)';", problems):
        assert body.startswith('{"type":"urn:mandi:problem:')


def test_a_broken_configuration_is_refused_with_one_line(tmp_path: Path) -> None:
    result = _render(tmp_path, MANDI_GATEWAY_MAX_BODY="not-a-size")
    assert result.returncode == 1
    assert result.stderr.startswith("error: the gateway's nginx configuration is invalid")
    assert len(result.stderr.strip().splitlines()) == 1


def test_routes_open_without_a_credential_are_the_auth_service_public_routes() -> None:
    routes = (DEPLOY / "gateway" / "gateway_routes.conf").read_text()
    public = set(re.findall(r"^location = (/api/v1/\S+) \{", routes, flags=re.MULTILINE))
    assert public == PUBLIC_ROUTES


def test_up_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        secret = tmp_path / "gateway.secret"
        secret.write_text("s3cret-for-the-test")
        result = subprocess.run(
            [str(GATEWAY_SH), "up"],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "MANDI_GATEWAY_DIR": str(tmp_path / "gateway"),
                "MANDI_GATEWAY_SECRET_FILE": str(secret),
                "MANDI_GATEWAY_PORT": str(port),
            },
            check=False,
        )
    assert result.returncode == 1
    assert "MANDI_GATEWAY_PORT" in result.stderr


def test_every_authenticated_route_names_the_service_it_targets(tmp_path: Path) -> None:
    # The auth subrequest reads $mandi_service and $mandi_path: a route that left them unset
    # would send auth nothing to decide on (and be refused), one that named another service
    # would be authorized for the wrong one.
    assert _render(tmp_path).returncode == 0
    routes = (tmp_path / "gateway" / "conf" / "service_routes.conf").read_text()
    route = re.compile(r"^location =? ?(/api/v1/[^ ]+) \{(.*?)^\}", re.MULTILINE | re.DOTALL)
    blocks = route.findall(routes)
    assert blocks
    for prefix, body in blocks:
        service = prefix.removeprefix("/api/v1/").strip("/")
        assert f"set $mandi_service {service};" in body
        assert "set $mandi_path $uri;" in body
        assert "authenticated.conf" in body
        assert f"proxy_pass http://mandi_{service}/;" in body
