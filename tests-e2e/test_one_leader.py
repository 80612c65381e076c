"""Replicas of a service share their periodic work: one leader sweeps, and one process at a time
asks the verifier about an application.

A second partners process runs beside the platform's, on the same database. A parked
application is retried when the verifier is back; with each call taking most of a sweep's
period, two sweeping processes would both ask about it. Exactly one call is made.
"""

from __future__ import annotations

import time

from partner_bodies import new_partner_body

from mandi_testing.processes import free_port, running_service


def _verification(client, partner_id: str) -> str:
    return str(client.get(f"/api/v1/partners/{partner_id}").json()["verification"])


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def test_two_processes_ask_the_verifier_once_about_a_parked_application(
    platform, staff, verifier, tmp_path
):
    assert platform.partners is not None
    port = free_port()
    second = {**platform.partners.environment, "MANDI_PARTNERS_HTTP_PORT": str(port)}
    with running_service("partners", second, port, tmp_path):
        verifier.stop()
        partner = staff.post("/api/v1/partners", json=new_partner_body()).json()
        assert staff.post(f"/api/v1/partners/{partner['id']}/submit").status_code == 200
        _until(lambda: _verification(staff, partner["id"]) == "parked")

        verifier.start()
        # Each call takes longer than a sweep period (0.5 s): unled, both processes would call.
        verifier.set_mode("slow", delay_seconds=0.8)
        _until(lambda: _verification(staff, partner["id"]) == "passed")
        time.sleep(2.0)  # several more sweeps of both processes

        assert verifier.calls(about=partner["id"]) == 1
