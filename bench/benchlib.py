"""What every benchmark shares: the machine's description and the one shape of saved results."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from mandi_messaging import create_producer, ensure_topics

RESULTS = Path(__file__).parent / "results"


def machine(**extra: Any) -> dict[str, Any]:
    """CPUs, memory, OS and Python of this machine, plus what the benchmark adds."""
    memory_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git_commit": _git_commit(),
        **extra,
    }


def _git_commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def save(name: str, figures: dict[str, float], **machine_extra: Any) -> Path:
    """Writes bench/results/<name>.json in the project's one shape and returns its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(**machine_extra),
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_LISTENING = "0A"  # the state column of /proc/net/tcp for a listening socket


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads, its children excluded."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; fields after its ")" are plain numbers.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _CLOCK_TICKS


def listening_pids(port: int) -> list[int]:
    """The processes holding the TCP socket listening on this port (nginx: master and workers)."""
    inodes = {
        columns[9]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for columns in (line.split() for line in Path(table).read_text().splitlines()[1:])
        if columns[3] == _LISTENING and int(columns[1].rsplit(":", 1)[1], 16) == port
    }
    wanted = {f"socket:[{inode}]" for inode in inodes}
    return sorted(pid for pid in _pids() if wanted & _open_files(pid))


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _open_files(pid: int) -> set[str]:
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone meanwhile, or not ours to read
        return set()
    return {target for fd in descriptors if (target := _link(fd))}


def _link(path: Path) -> str | None:
    try:
        return str(path.readlink())
    except OSError:  # closed meanwhile
        return None


def report(figures: dict[str, float], targets: dict[str, tuple[str, float]]) -> None:
    """Prints every figure, then each one with a target beside it: met or MISSED."""
    for name, value in figures.items():
        print(f"  {name:<32} {value}")
    print("Targets:")
    for name, (direction, target) in targets.items():
        value = figures.get(name)
        met = value is not None and (value >= target if direction == ">=" else value <= target)
        verdict = "met" if met else "MISSED"
        print(f"  {name:<32} {value!s:>8}  target {direction} {target:g}  {verdict}")


def idle_rates(processes: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """CPU seconds per second each process spends with no request (its background jobs)."""
    before = {name: sum(map(cpu_seconds, pids)) for name, pids in processes.items()}
    time.sleep(seconds)
    return {
        name: (sum(map(cpu_seconds, pids)) - before[name]) / seconds
        for name, pids in processes.items()
    }


@contextmanager
def profiled(processes: dict[str, list[int]], name: str, folder: Path | None) -> Iterator[None]:
    """py-spy recording each service's process while the block runs, when asked for."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    recorders = [
        subprocess.Popen(
            [
                *("py-spy", "record", "--pid", str(pids[0]), "--format", "raw", "--rate", "200"),
                *("--output", str(folder / f"{name}-{process}.txt")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for process, pids in processes.items()
        if process != "nginx"
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            recorder.wait()


async def settled(pids: dict[str, list[int]], seconds: float = 120.0) -> None:
    """Waits until every process is back to its idle pace (each under a tenth of a core over
    half a second, twice in a row): the work a scenario left behind in consumers is done.
    (Consumer lag cannot tell: a group commits the messages it skips only now and then.)"""
    deadline, quiet = time.monotonic() + seconds, 0
    while quiet < 2:  # noqa: PLR2004 - twice in a row
        if time.monotonic() > deadline:
            raise TimeoutError(f"the services were still busy after {seconds} s")
        before = {name: sum(map(cpu_seconds, found)) for name, found in pids.items()}
        await asyncio.sleep(0.5)
        busiest = max(sum(map(cpu_seconds, found)) - before[name] for name, found in pids.items())
        quiet = quiet + 1 if busiest < 0.05 else 0  # noqa: PLR2004 - a tenth of a core


async def paced(rate: float, count: int, each: Callable[[int], Awaitable[None]]) -> None:
    """Calls `each(index)` `count` times, the index-th at index / rate seconds from now."""
    started = time.perf_counter()
    for index in range(count):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await each(index)


async def raw_kafka_hop(
    bootstrap: str, topic: str, rate: float, count: int, *, acknowledged: bool
) -> list[float]:
    """The baseline of one Kafka hop: `count` messages produced on `topic` at `rate` and consumed,
    each produced -> consumed in ms. `acknowledged` awaits each send's acknowledgement before
    the next (as a relay does), else sends are only handed to the producer."""
    await ensure_topics(bootstrap, [topic])
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest")
    producer = create_producer(bootstrap, client_id=f"bench-{topic}")
    await consumer.start()
    await producer.start()
    sent: dict[bytes, float] = {}
    seen: dict[bytes, float] = {}

    async def read() -> None:
        async for record in consumer:
            seen[record.value] = time.perf_counter()

    async def produce(index: int) -> None:
        value = str(index).encode()
        sent[value] = time.perf_counter()
        if acknowledged:
            await producer.send_and_wait(topic, value=value)
        else:
            await producer.send(topic, value=value)

    reader = asyncio.create_task(read())
    try:
        await asyncio.sleep(1.0)  # the consumer has its partitions
        await paced(rate, count, produce)
        deadline = time.monotonic() + 10
        while len(seen) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    return [1000 * (seen[value] - moment) for value, moment in sent.items() if value in seen]
