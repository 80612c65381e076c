"""API benchmark: CPU per request of each service's process, and latency through the gateway.

The platform runs as `make dev` runs it: auth and partners as real processes (one uvicorn
worker each, tracing on every request, an access line per request), nginx in front, on the local
PostgreSQL, Kafka and Redis. Every request goes through the gateway with a signed-in admin's JWT,
so each one is also authorized by auth (`auth_request` to /internal/authorize).

CPU: each scenario sends --count requests at a steady --rate from a load process of its own
(bench/api_load.py), and reads utime+stime of each service's process from /proc/<pid>/stat
(all its threads, no children) around the run. The process is the one holding the service's
listening socket. What a process spends idle (its background jobs), measured beforehand, is
taken off. A scenario's route belongs to partners, so what auth spends meanwhile is the
authorization alone: `authorize_cpu_ms` is auth's CPU per request of the read scenario.

Latency: p50/p95/p99 of a read and of a write at --latency-rate through the gateway.

A later service adds its endpoints as rows of SCENARIOS (and LATENCY), with a seeder in SEEDERS
when its requests need resources to address.

Prints each figure beside its target and saves bench/results/api.json.
Run: make bench-api   (or: uv run python bench/api.py --count 1000)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from benchlib import idle_rates, listening_pids, percentile, profiled, save

from mandi_availability.config import Settings as AvailabilitySettings
from mandi_matching.config import Settings as MatchingSettings
from mandi_testing import find_infrastructure, fresh_database
from mandi_testing.platform import RunningPlatform, running_platform

# The end-to-end tests' partner registrations: new companies with valid tax ids.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests-e2e"))
from offer_bodies import cotton_body, offer_terms
from partner_bodies import new_partner_body

LOAD = Path(__file__).parent / "api_load.py"
UNLIMITED = {"per_second": 1_000_000, "burst": 1_000_000}
AUTH_SETTINGS = {
    "plans": {"standard": UNLIMITED},
    "per_user": UNLIMITED,
    "per_partner": UNLIMITED,
    "per_tenant": UNLIMITED,
}
OFFER_TERMS = offer_terms()  # the price changes with each request
IDLE_SECONDS = 5.0
SETTLE_SECONDS = 0.5  # after the last answer: the outbox relay publishes a write's event


@dataclass(frozen=True)
class Scenario:
    """One kind of request; `cpu` names the figure each process's CPU per request is saved as."""

    name: str
    method: str
    path: str
    cpu: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    resource: str | None = None  # what `{id}` takes, from SEEDERS
    versioned: bool = False  # sends If-Match with the version the last answer named


@dataclass(frozen=True)
class Latency:
    """A scenario sent at a higher rate for its latency through the gateway."""

    figure: str
    scenario: str


TARGETS = {
    "authorize_cpu_ms": 0.5,
    "read_cpu_ms": 1.0,
    "write_cpu_ms": 2.5,
    "availability_read_cpu_ms": 1.0,
    "availability_write_cpu_ms": 2.5,
    "matching_read_cpu_ms": 1.0,
    "gateway_read_p95_ms_at_200": 25.0,
    "gateway_write_p95_ms_at_200": 25.0,
}

SCENARIOS = (
    # Matching's first: the writes after them make it work through their events meanwhile.
    Scenario(
        "proposal_read",
        "GET",
        "/api/v1/matching/proposals/{id}",
        cpu={"matching": "matching_read_cpu_ms"},
        resource="proposal",
    ),
    Scenario(
        "proposal_list",
        "GET",
        "/api/v1/matching/proposals?limit=20",
        cpu={"matching": "matching_list_cpu_ms"},
    ),
    # The audit log's page of records, before the writes: the journal is idle meanwhile.
    Scenario(
        "audit_list", "GET", "/api/v1/audit/records?limit=20", cpu={"audit": "audit_list_cpu_ms"}
    ),
    Scenario(
        "read",
        "GET",
        "/api/v1/partners/{id}",
        cpu={"partners": "read_cpu_ms", "auth": "authorize_cpu_ms"},
        resource="partner",
    ),
    Scenario("list", "GET", "/api/v1/partners/?status=pending", cpu={"partners": "list_cpu_ms"}),
    Scenario(
        "write",
        "PATCH",
        "/api/v1/partners/{id}",
        cpu={"partners": "write_cpu_ms"},
        body='{"trade_name": "Bench {n}"}',
        resource="partner",
        versioned=True,
    ),
    Scenario(
        "offer_read",
        "GET",
        "/api/v1/availability/availabilities/{id}",
        cpu={"availability": "availability_read_cpu_ms"},
        resource="availability",
    ),
    Scenario(
        "offer_write",
        "PATCH",
        "/api/v1/availability/availabilities/{id}",
        cpu={"availability": "availability_write_cpu_ms"},
        body=json.dumps({**OFFER_TERMS, "price": "{n}.00"}),
        resource="availability",
        versioned=True,
    ),
)
LATENCY = (Latency("gateway_read", "read"), Latency("gateway_write", "write"))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100, help="requests/s of the CPU runs")
    parser.add_argument("--count", type=int, default=2000, help="requests per CPU run")
    parser.add_argument("--latency-rate", type=float, default=200, help="requests/s")
    parser.add_argument("--latency-count", type=int, default=2000, help="requests per run")
    parser.add_argument("--warmup", type=int, default=300, help="requests per scenario first")
    parser.add_argument("--partners", type=int, default=300, help="partners to read and write")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[scenario.name for scenario in SCENARIOS],
        help="run only these scenarios (and only their latency runs)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write py-spy's collapsed stacks of each service per CPU run into this folder"
        " (py-spy on PATH; it stops the process to sample it, so CPU figures rise a little)",
    )
    return parser.parse_args()


# Seeders: what a scenario's `{id}` addresses, made through the gateway before the runs.
def _seed_partners(client: httpx.Client, count: int) -> dict[str, int]:
    """Registers `count` partners; their ids and versions."""
    versions = {}
    for _ in range(count):
        answer = client.post("/api/v1/partners/", json=new_partner_body())
        answer.raise_for_status()
        versions[answer.json()["id"]] = int(answer.headers["etag"].strip('"'))
    return versions


def _approved_partner(client: httpx.Client) -> str:
    partner = client.post("/api/v1/partners/", json=new_partner_body()).json()
    client.post(f"/api/v1/partners/{partner['id']}/submit").raise_for_status()
    deadline = time.monotonic() + 30
    while client.get(f"/api/v1/partners/{partner['id']}").json()["verification"] != "passed":
        if time.monotonic() > deadline:
            raise SystemExit("the fake verifier never answered")
        time.sleep(0.2)
    client.post(f"/api/v1/partners/{partner['id']}/approve", json={}).raise_for_status()
    return str(partner["id"])


def _seed_availabilities(client: httpx.Client, count: int) -> dict[str, int]:
    """Cotton, an approved seller, and `count` of its availabilities on the book."""
    client.post("/api/v1/availability/catalog/commodities", json=cotton_body()).raise_for_status()
    seller = _approved_partner(client)
    versions = {}
    for _ in range(count):
        body = {**OFFER_TERMS, "partner_id": seller}
        made = client.post("/api/v1/availability/availabilities", json=body)
        made.raise_for_status()
        path = f"/api/v1/availability/availabilities/{made.json()['id']}/publish"
        deadline = time.monotonic() + 30
        while (
            published := client.post(path)
        ).status_code == HTTPStatus.CONFLICT:  # approval on its way
            if time.monotonic() > deadline:
                raise SystemExit("the seller's approval never reached availability")
            time.sleep(0.2)
        published.raise_for_status()
        versions[made.json()["id"]] = int(published.headers["etag"].strip('"'))
    return versions


def _seed_proposals(client: httpx.Client, count: int) -> dict[str, int]:
    """An approved buyer's requirements beside the seeded availabilities, until matching has
    proposed `count` of them; the proposals' ids (a proposal has no version to send)."""
    buyer = _approved_partner(client)
    for _ in range(max(1, count // 50)):  # each requirement is proposed 50 candidates at most
        made = client.post(
            "/api/v1/availability/requirements", json={**OFFER_TERMS, "partner_id": buyer}
        )
        made.raise_for_status()
        path = f"/api/v1/availability/requirements/{made.json()['id']}/publish"
        client.post(path).raise_for_status()
    proposals: dict[str, int] = {}
    deadline = time.monotonic() + 60
    while len(proposals) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"matching proposed {len(proposals)} of {count} in time")
        time.sleep(0.5)
        proposals = _proposal_ids(client)
    return proposals


def _proposal_ids(client: httpx.Client) -> dict[str, int]:
    found, cursor = {}, None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/matching/proposals", params=query)
        page.raise_for_status()
        found |= {proposal["id"]: 0 for proposal in page.json()}
        cursor = page.headers.get("x-next-cursor")
        if not cursor:
            return found


SEEDERS: dict[str, Callable[[httpx.Client, int], dict[str, int]]] = {
    "partner": _seed_partners,
    "availability": _seed_availabilities,
    "proposal": _seed_proposals,
}


def _signed_in(platform: RunningPlatform) -> dict[str, str]:
    slug, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    email = f"ops@{slug}.example"
    platform.create_tenant(slug, email, password)
    body = {"tenant": slug, "email": email, "password": password}
    answer = httpx.post(f"{platform.gateway.url}/api/v1/auth/login", json=body, timeout=10)
    answer.raise_for_status()
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def _processes(platform: RunningPlatform) -> dict[str, list[int]]:
    """Each service's serving process (exactly one) and nginx's processes."""
    services = {
        "auth": platform.auth,
        "partners": platform.partners,
        "availability": platform.availability,
        "matching": platform.matching,
        "audit": platform.audit,
    }
    processes = {}
    for name, service in services.items():
        assert service is not None  # noqa: S101 - the platform was started with every service
        pids = listening_pids(service.port)
        if len(pids) != 1:
            raise SystemExit(f"{name}: {len(pids)} processes listen on {service.port}: {pids}")
        processes[name] = pids
    processes["nginx"] = listening_pids(platform.gateway.port)
    return processes


@dataclass
class _Bench:
    """The platform's address, the caller's headers, the processes and the seeded resources."""

    base_url: str
    headers: dict[str, str]
    processes: dict[str, list[int]]
    resources: dict[str, dict[str, int]]

    def run(self, scenario: Scenario, *, rate: float, count: int) -> dict[str, Any]:
        """Sends the scenario from the load process; its outcome (versions kept for the next)."""
        plan: dict[str, Any] = {
            "base_url": self.base_url,
            "headers": self.headers,
            "method": scenario.method,
            "path": scenario.path,
            "body": scenario.body,
            "rate": rate,
            "count": count,
            "pids": self.processes,
            "settle_seconds": SETTLE_SECONDS,
            "until_settled": True,
        }
        if scenario.resource:
            versions = self.resources[scenario.resource]
            plan |= {"versions": versions} if scenario.versioned else {"targets": list(versions)}
        output = subprocess.run(
            [sys.executable, str(LOAD)],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        outcome: dict[str, Any] = json.loads(output)
        if _failures(outcome):
            print(f"{scenario.name}: answers {outcome['statuses']}, unsent {outcome['unsent']}")
        if scenario.versioned and scenario.resource:
            self.resources[scenario.resource] |= outcome["versions"]
        return outcome


def _failures(outcome: dict[str, Any]) -> int:
    statuses: dict[str, int] = outcome["statuses"]
    return outcome["unsent"] + sum(
        n for status, n in statuses.items() if not status.startswith("2")
    )


def _cpu_figures(
    scenario: Scenario, outcome: dict[str, Any], idle: dict[str, float]
) -> dict[str, float]:
    figures: dict[str, float] = {f"{scenario.name}_failures": _failures(outcome)}
    answered = len(outcome["latencies_ms"])
    for process, seconds in outcome["cpu_s"].items():
        busy = seconds - idle[process] * outcome["window_s"]
        per_request = round(busy * 1000 / answered, 3)
        figures[f"{scenario.name}_{process}_cpu_ms"] = per_request
        if process in scenario.cpu:
            figures[scenario.cpu[process]] = per_request
    return figures


def _latency_figures(latency: Latency, outcome: dict[str, Any], rate: float) -> dict[str, float]:
    values = outcome["latencies_ms"]
    suffix = f"_at_{rate:g}"
    return {
        f"{latency.figure}_p50_ms{suffix}": round(percentile(values, 0.50), 2),
        f"{latency.figure}_p95_ms{suffix}": round(percentile(values, 0.95), 2),
        f"{latency.figure}_p99_ms{suffix}": round(percentile(values, 0.99), 2),
        f"{latency.figure}_failures{suffix}": _failures(outcome),
        f"{latency.figure}_driver_max_lag_ms{suffix}": outcome["max_lag_ms"],
    }


def _measure(bench: _Bench, args: argparse.Namespace) -> dict[str, float]:
    scenarios = [
        scenario for scenario in SCENARIOS if scenario.name in (args.only or [scenario.name])
    ]
    for scenario in scenarios:
        bench.run(scenario, rate=args.rate, count=args.warmup)
    idle = idle_rates(bench.processes, IDLE_SECONDS)
    figures = {f"idle_{name}_cpu_ms_per_s": round(rate * 1000, 3) for name, rate in idle.items()}
    for scenario in scenarios:
        with profiled(bench.processes, scenario.name, args.profile):
            outcome = bench.run(scenario, rate=args.rate, count=args.count)
        figures |= _cpu_figures(scenario, outcome, idle)
    by_name = {scenario.name: scenario for scenario in scenarios}
    for latency in (latency for latency in LATENCY if latency.scenario in by_name):
        outcome = bench.run(
            by_name[latency.scenario], rate=args.latency_rate, count=args.latency_count
        )
        figures |= _latency_figures(latency, outcome, args.latency_rate)
    return figures


def _report(figures: dict[str, float], args: argparse.Namespace) -> None:
    print(f"CPU ms per request at {args.rate:g}/s, {args.count} requests, through the gateway:")
    processes = ("partners", "availability", "matching", "audit", "auth", "nginx")
    print(f"  {'scenario':12}" + "".join(f"{name:>13}" for name in processes) + "  failures")
    for scenario in (scenario for scenario in SCENARIOS if f"{scenario.name}_failures" in figures):
        cells = "".join(f"{figures[f'{scenario.name}_{name}_cpu_ms']:>13}" for name in processes)
        print(f"  {scenario.name:12}{cells}  {figures[f'{scenario.name}_failures']:>8}")
    print(f"Latency through the gateway at {args.latency_rate:g}/s, {args.latency_count} requests:")
    suffix = f"_at_{args.latency_rate:g}"
    for latency in (
        latency for latency in LATENCY if f"{latency.figure}_p50_ms{suffix}" in figures
    ):
        p50, p95, p99 = (figures[f"{latency.figure}_{p}_ms{suffix}"] for p in ("p50", "p95", "p99"))
        failures = figures[f"{latency.figure}_failures{suffix}"]
        print(
            f"  {latency.scenario:10} p50 {p50} ms  p95 {p95} ms  p99 {p99} ms  ({failures} failed)"
        )
    print("Targets:")
    for name, target in TARGETS.items():
        value = figures.get(name)
        verdict = "n/a" if value is None else ("met" if value <= target else "MISSED")
        print(f"  {name:30} {value!s:>8}  target <= {target:<6g} {verdict}")


def main() -> None:
    args = _arguments()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        admin_url = infrastructure.postgres_admin_url
        auth_database = stack.enter_context(fresh_database(admin_url, "bench_api_auth"))
        partners_database = stack.enter_context(fresh_database(admin_url, "bench_api_partners"))
        availability_database = stack.enter_context(
            fresh_database(
                admin_url, "bench_api_availability", AvailabilitySettings.database_extensions
            )
        )
        matching_database = stack.enter_context(
            fresh_database(admin_url, "bench_api_matching", MatchingSettings.database_extensions)
        )
        audit_database = stack.enter_context(fresh_database(admin_url, "bench_api_audit"))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-")))
        platform = stack.enter_context(
            running_platform(
                infrastructure,
                auth_database,
                workdir,
                auth_settings=AUTH_SETTINGS,
                partners_database=partners_database,
                availability_database=availability_database,
                matching_database=matching_database,
                audit_database=audit_database,
                per_ip_rate=1_000_000,
                per_ip_burst=1_000_000,
            )
        )
        headers = _signed_in(platform)
        with httpx.Client(base_url=platform.gateway.url, headers=headers, timeout=30) as client:
            resources = {name: seed(client, args.partners) for name, seed in SEEDERS.items()}
        bench = _Bench(platform.gateway.url, headers, _processes(platform), resources)
        figures = _measure(bench, args)
    _report(figures, args)
    path = save(
        "api",
        figures,
        rate=args.rate,
        count=args.count,
        latency_rate=args.latency_rate,
        latency_count=args.latency_count,
    )
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
