"""A PostgreSQL restart under load: clients get 503 with Retry-After while it is away, never a
500, and every request after it is back succeeds.

The partners service of a platform of this test's own runs on a PostgreSQL cluster of its own
(deploy/local/postgres.sh, on a free port), which the test stops for three seconds and starts
again while reads arrive through the gateway at 50 a second.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from partner_bodies import new_partner_body

from mandi_testing import fresh_database
from mandi_testing.local_postgres import running_local_postgres
from mandi_testing.platform import running_platform

RATE_PER_SECOND = 50
DOWN_SECONDS = 3.0
# Room for the load: the answers are the service's, not the rate limiter's.
ROOMY_LIMITS = {"per_user": {"per_second": 500, "burst": 1000}}


@dataclass(frozen=True)
class _Answer:
    sent_at: float
    status: int
    content_type: str
    retry_after: str | None


def _signed_in(platform, client: httpx.Client) -> dict[str, str]:
    slug, password = f"r-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    platform.create_tenant(slug, f"ops@{slug}.example", password)
    body = {"tenant": slug, "email": f"ops@{slug}.example", "password": password}
    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


class _Load:
    """GETs of one URL at a steady rate from a few threads, each answer recorded."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        self._client, self._path, self._headers = client, path, headers
        self.answers: list[_Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _one(self) -> None:
        sent_at = time.monotonic()
        answer = self._client.get(self._path, headers=self._headers)
        recorded = _Answer(
            sent_at,
            answer.status_code,
            answer.headers.get("content-type", ""),
            answer.headers.get("retry-after"),
        )
        with self._lock:
            self.answers.append(recorded)

    def run(self, pool: ThreadPoolExecutor) -> None:
        """Sends until `stop`, one request every 1/RATE seconds."""
        while not self._stop.is_set():
            pool.submit(self._one)
            time.sleep(1 / RATE_PER_SECOND)

    def stop(self) -> None:
        """Stops sending (requests in flight finish)."""
        self._stop.set()


def test_a_database_restart_under_load_is_503_never_500(infrastructure, tmp_path):
    with (
        running_local_postgres(tmp_path / "own-postgres") as cluster,
        fresh_database(infrastructure.postgres_admin_url, "restart_auth") as auth_database,
        fresh_database(cluster.admin_url, "restart_partners") as partners_database,
        running_platform(
            infrastructure,
            auth_database,
            tmp_path,
            auth_settings=ROOMY_LIMITS,
            partners_database=partners_database,
        ) as platform,
        httpx.Client(base_url=platform.gateway.url, timeout=10) as client,
    ):
        staff = _signed_in(platform, client)
        partner = client.post("/api/v1/partners", headers=staff, json=new_partner_body())
        assert partner.status_code == 201, partner.text
        load = _Load(client, f"/api/v1/partners/{partner.json()['id']}", staff)
        with ThreadPoolExecutor(max_workers=8) as pool:
            sender = threading.Thread(target=load.run, args=(pool,))
            sender.start()
            time.sleep(2.0)
            cluster.stop()
            time.sleep(DOWN_SECONDS)
            cluster.start()
            back_at = time.monotonic()
            time.sleep(4.0)
            load.stop()
            sender.join()

    statuses = [answer.status for answer in load.answers]
    assert len(statuses) > RATE_PER_SECOND * 6  # the load really ran, throughout
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    unavailable = [answer for answer in load.answers if answer.status == 503]
    assert unavailable, "the restart was never seen: the test proves nothing"
    for answer in unavailable:
        assert answer.content_type == "application/problem+json"
        assert answer.retry_after is not None
        assert int(answer.retry_after) >= 1
    after = [answer.status for answer in load.answers if answer.sent_at > back_at]
    assert after
    assert set(after) == {200}, f"{after.count(503)} of {len(after)} failed after the restart"
