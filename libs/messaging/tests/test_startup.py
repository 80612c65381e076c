"""A process that cannot reach Kafka stops with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

UNREACHABLE = "127.0.0.1:9"  # the discard port: nothing listens there

START_A_PRODUCER = textwrap.dedent(f"""
    from mandi_config import run_or_exit
    from mandi_messaging import create_producer, start_producer
    from mandi_observability import configure_logging

    configure_logging("startup-test")  # as every service does first: logs go to stdout as JSON

    async def main():
        producer = create_producer("{UNREACHABLE}", client_id="startup-test")
        await start_producer(producer, "{UNREACHABLE}")

    run_or_exit(main)
""")

START_A_BROKER = textwrap.dedent(f"""
    from mandi_config import run_or_exit
    from mandi_messaging import create_broker, start_broker
    from mandi_observability import configure_logging

    configure_logging("startup-test")  # as every service does first: logs go to stdout as JSON

    async def main():
        broker = create_broker("{UNREACHABLE}", client_id="startup-test")
        await start_broker(broker, "{UNREACHABLE}")

    run_or_exit(main)
""")


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def _assert_one_line_about_kafka(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: Kafka is unreachable at {UNREACHABLE}")
    assert "Traceback" not in result.stderr


def test_a_producer_that_cannot_reach_kafka_stops_the_process_with_one_line() -> None:
    _assert_one_line_about_kafka(_run(START_A_PRODUCER))


def test_a_broker_that_cannot_reach_kafka_stops_the_process_with_one_line() -> None:
    _assert_one_line_about_kafka(_run(START_A_BROKER))


def test_the_dead_letter_command_without_kafka_says_so_in_one_line() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mandi_messaging.dlq",
            "list",
            "--dlq-topic",
            "x.dlq",
            "--bootstrap-servers",
            UNREACHABLE,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
