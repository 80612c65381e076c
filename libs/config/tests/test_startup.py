import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

from mandi_config import EXIT_STARTUP_FAILURE, StartupError, run_or_exit

SERVICE_WITH_MISSING_SECRET = """
    from mandi_config import ServiceSettings, load_settings, run_or_exit
    from pydantic_settings import SettingsConfigDict

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="MANDI_DEMO_")
        service_name: str = "demo"

    async def main() -> None:
        load_settings(Settings)

    run_or_exit(main)
"""

SERVICE_WITHOUT_KAFKA = """
    from mandi_config import StartupError, run_or_exit

    def main() -> None:
        raise StartupError("Kafka at 127.0.0.1:1 is unreachable:\\nconnection refused")

    run_or_exit(main)
"""


def run_script(source: str, **environment: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("MANDI_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_missing_secret_in_production_ends_the_process_with_one_line() -> None:
    finished = run_script(SERVICE_WITH_MISSING_SECRET, MANDI_DEMO_ENVIRONMENT="production")

    assert finished.returncode == EXIT_STARTUP_FAILURE
    assert finished.stderr.splitlines() == [
        "error: "
        + "; ".join(
            f"MANDI_DEMO_{name}_PASSWORD is empty: set it or MANDI_DEMO_{name}_PASSWORD_FILE"
            for name in ("DATABASE", "MIGRATION_DATABASE", "REDIS")
        )
    ]
    assert finished.stdout == ""


def test_a_startup_error_ends_the_process_with_one_line() -> None:
    finished = run_script(SERVICE_WITHOUT_KAFKA)

    assert finished.returncode == EXIT_STARTUP_FAILURE
    assert finished.stderr == ("error: Kafka at 127.0.0.1:1 is unreachable: connection refused\n")


def test_an_async_main_is_run_to_completion() -> None:
    ran: list[str] = []

    async def main() -> None:
        await asyncio.sleep(0)
        ran.append("main")

    run_or_exit(main)

    assert ran == ["main"]


def test_a_startup_error_inside_a_task_group_is_reported_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def fail() -> None:
        raise StartupError("port 8000 is taken")

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(fail())

    with pytest.raises(SystemExit) as exited:
        run_or_exit(main)

    assert exited.value.code == EXIT_STARTUP_FAILURE
    assert capsys.readouterr().err == "error: port 8000 is taken\n"


def test_other_errors_keep_their_traceback() -> None:
    def main() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_or_exit(main)
