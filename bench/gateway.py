"""Gateway benchmark: an authenticated request straight to a service and through nginx, one run.

The request is GET /me of the auth service (who the caller is), answered by one uvicorn worker:

  direct        to the service with a Bearer JWT, which the service verifies itself (JWKS).
  gateway_jwt   through nginx with the same JWT: auth_request to /internal/authorize (token
                check, limits in Redis), then the service with the principal's headers.
  gateway_apikey  through nginx with an API key (its hash checked against a cached directory).

Each is measured twice with wrk: latency with one connection sending one request after another
(p50/p99 of an unloaded request; "added" is gateway minus direct), and throughput with
--connections connections for --seconds (requests/s). Then rate-limit accuracy: 8 concurrent
clients with one key limited to --limit per second (burst --burst) for --seconds; every answer is
counted, and `limit_allowed` is what the limit allows over the measured window (burst + rate * t).

Prints the figures beside their targets and saves bench/results/gateway.json.
Run: make bench-gateway   (or: uv run python bench/gateway.py --seconds 10)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from benchlib import save

from mandi_testing import find_infrastructure, fresh_database
from mandi_testing.platform import RunningPlatform, running_platform

WRK_REPORT = Path(__file__).parent / "wrk_report.lua"
UNLIMITED = {"per_second": 1_000_000, "burst": 1_000_000}
LIMIT_CLIENTS = 8
TARGET_ADDED_P99_MS = 3.0
TARGET_RPS_RATIO = 0.5


@dataclass(frozen=True)
class Run:
    """One wrk run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    failures: int


@dataclass(frozen=True)
class Caller:
    """What each variant sends."""

    url: str
    headers: dict[str, str]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=32, help="for the throughput runs")
    parser.add_argument("--limit", type=int, default=50, help="per second, for the limit test")
    parser.add_argument("--burst", type=int, default=10, help="burst of the limit test")
    return parser.parse_args()


def _wrk(caller: Caller, *, connections: int, seconds: int) -> Run:
    headers = [
        part for name, value in caller.headers.items() for part in ("-H", f"{name}: {value}")
    ]
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(WRK_REPORT),
        *headers,
        caller.url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    return Run(
        rps=report["requests"] / (report["duration_us"] / 1e6),
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        failures=report["socket_errors"] + report["non_2xx"],
    )


def _settings(limit: int, burst: int) -> dict[str, object]:
    return {
        "plans": {
            "standard": {**UNLIMITED},
            "bench": {**UNLIMITED},
            "limited": {"per_second": limit, "burst": burst},
        },
        "per_user": UNLIMITED,
        "per_partner": UNLIMITED,
        "per_tenant": UNLIMITED,
    }


def _callers(platform: RunningPlatform) -> tuple[dict[str, Caller], str]:
    """Signs in, issues the benchmark's keys; the callers and the limited key."""
    slug, email, password = f"bench-{uuid.uuid4().hex[:8]}", "bench@bench.example", uuid.uuid4().hex
    platform.create_tenant(slug, email, password)
    gateway = platform.gateway.url
    with httpx.Client(base_url=gateway, timeout=10) as client:
        tokens = client.post(
            "/api/v1/auth/login", json={"tenant": slug, "email": email, "password": password}
        ).json()
        bearer = {"authorization": f"Bearer {tokens['access_token']}"}

        def issue(plan: str) -> str:
            body = {
                "name": plan,
                "scopes": ["auth:read"],
                "plan": plan,
                "partner_id": str(uuid.uuid4()),
            }
            answer = client.post("/api/v1/auth/api-keys", headers=bearer, json=body)
            answer.raise_for_status()
            return str(answer.json()["key"])

        fast_key, limited_key = issue("bench"), issue("limited")
    callers = {
        "direct": Caller(f"{platform.auth.url}/me", bearer),
        "gateway_apikey": Caller(f"{gateway}/api/v1/auth/me", {"x-api-key": fast_key}),
        "gateway_jwt": Caller(f"{gateway}/api/v1/auth/me", bearer),
    }
    return callers, limited_key


async def _hammer(base_url: str, key: str, seconds: float) -> tuple[dict[int, int], float]:
    """8 clients sending back to back; counts by status and the window they covered.

    Each client connects first (GET /healthz, which no limit counts) and all start together,
    so the window is the sending, not connection set-up.
    """
    counts: dict[int, int] = {}
    start = asyncio.Event()
    window = {"first": math.inf, "last": 0.0}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
            (await http.get("/healthz")).raise_for_status()
            await start.wait()
            stop_at = time.monotonic() + seconds
            while (sent := time.monotonic()) < stop_at:
                window["first"] = min(window["first"], sent)
                window["last"] = max(window["last"], sent)
                answer = await http.get("/api/v1/auth/me", headers={"x-api-key": key})
                counts[answer.status_code] = counts.get(answer.status_code, 0) + 1

    clients = [asyncio.create_task(client()) for _ in range(LIMIT_CLIENTS)]
    await asyncio.sleep(1)
    start.set()
    await asyncio.gather(*clients)
    return counts, window["last"] - window["first"]


def _limit_accuracy(
    platform: RunningPlatform, key: str, args: argparse.Namespace
) -> dict[str, float]:
    # One request loads the key into the gateway's caches; then the bucket refills to full.
    httpx.get(
        f"{platform.gateway.url}/api/v1/auth/me", headers={"x-api-key": key}
    ).raise_for_status()
    time.sleep((args.burst + 1) / args.limit)
    counts, window = asyncio.run(_hammer(platform.gateway.url, key, args.seconds))
    allowed = args.burst + math.floor(args.limit * window)
    return {
        "limit_per_second": args.limit,
        "limit_burst": args.burst,
        "limit_window_s": round(window, 3),
        "limit_allowed": allowed,
        "limit_admitted": counts.get(200, 0),
        "limit_refused_429": counts.get(429, 0),
        "limit_other_answers": sum(n for status, n in counts.items() if status not in {200, 429}),
    }


def _measure(callers: dict[str, Caller], args: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, caller in callers.items():
        _wrk(caller, connections=4, seconds=2)  # warm-up: connections, caches, JIT-free paths
        latency = _wrk(caller, connections=1, seconds=args.seconds)
        load = _wrk(caller, connections=args.connections, seconds=args.seconds)
        figures |= {
            f"{name}_rps": round(load.rps, 1),
            f"{name}_p50_ms": round(latency.p50_ms, 3),
            f"{name}_p99_ms": round(latency.p99_ms, 3),
            f"{name}_loaded_p99_ms": round(load.p99_ms, 3),
            f"{name}_failures": latency.failures + load.failures,
        }
    return figures


def _derived(figures: dict[str, float]) -> dict[str, float]:
    direct_rps, direct_p99 = figures["direct_rps"], figures["direct_p99_ms"]
    return {
        "gateway_apikey_added_p99_ms": round(figures["gateway_apikey_p99_ms"] - direct_p99, 3),
        "gateway_jwt_added_p99_ms": round(figures["gateway_jwt_p99_ms"] - direct_p99, 3),
        "gateway_apikey_to_direct_rps": round(figures["gateway_apikey_rps"] / direct_rps, 3),
        "gateway_jwt_to_direct_rps": round(figures["gateway_jwt_rps"] / direct_rps, 3),
        "limit_over_admitted": max(0, figures["limit_admitted"] - figures["limit_allowed"]),
    }


def _report(figures: dict[str, float]) -> None:
    rows = [
        ("requests/s", "direct_rps", "gateway_apikey_rps", "gateway_jwt_rps"),
        ("p50 ms (1 connection)", "direct_p50_ms", "gateway_apikey_p50_ms", "gateway_jwt_p50_ms"),
        ("p99 ms (1 connection)", "direct_p99_ms", "gateway_apikey_p99_ms", "gateway_jwt_p99_ms"),
        (
            "p99 ms (loaded)",
            "direct_loaded_p99_ms",
            "gateway_apikey_loaded_p99_ms",
            "gateway_jwt_loaded_p99_ms",
        ),
    ]
    print(f"{'':24}{'direct':>12}{'gw api key':>12}{'gw jwt':>12}")
    for label, *names in rows:
        print(f"{label:24}" + "".join(f"{figures[name]:>12}" for name in names))
    print()
    for variant in ("apikey", "jwt"):
        added = figures[f"gateway_{variant}_added_p99_ms"]
        ratio = figures[f"gateway_{variant}_to_direct_rps"]
        print(
            f"gateway ({variant}): added p99 {added} ms "
            f"(target <= {TARGET_ADDED_P99_MS}: {_verdict(met=added <= TARGET_ADDED_P99_MS)}), "
            f"throughput {ratio:.0%} of direct "
            f"(target >= {TARGET_RPS_RATIO:.0%}: {_verdict(met=ratio >= TARGET_RPS_RATIO)})"
        )
    over = figures["limit_over_admitted"]
    print(
        f"limit {figures['limit_per_second']}/s burst {figures['limit_burst']}, "
        f"{LIMIT_CLIENTS} clients, {figures['limit_window_s']} s: "
        f"admitted {figures['limit_admitted']} of {figures['limit_allowed']} allowed, "
        f"{figures['limit_refused_429']} refused with 429 "
        f"(over-admission {over}: {_verdict(met=over == 0)})"
    )


def _verdict(*, met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    args = _arguments()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        database = stack.enter_context(
            fresh_database(infrastructure.postgres_admin_url, "bench_gw")
        )
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-gateway-")))
        platform = stack.enter_context(
            running_platform(
                infrastructure,
                database,
                workdir,
                auth_settings=_settings(args.limit, args.burst),
                per_ip_rate=1_000_000,
                per_ip_burst=1_000_000,
            )
        )
        callers, limited_key = _callers(platform)
        figures = _measure(callers, args)
        figures |= _limit_accuracy(platform, limited_key, args)
    figures |= _derived(figures)
    _report(figures)
    path = save("gateway", figures, connections=args.connections, seconds=args.seconds)
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
