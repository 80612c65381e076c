"""Lists, replays and discards dead letters from the command line.

    python -m mandi_messaging.dlq list    --dlq-topic mandi.partners.events.dlq
    python -m mandi_messaging.dlq replay  --dlq-topic mandi.partners.events.dlq [--limit N]
    python -m mandi_messaging.dlq discard --dlq-topic mandi.partners.events.dlq [--limit N]

Kafka's address comes from --bootstrap-servers or KAFKA_BOOTSTRAP_SERVERS. `list` prints one
JSON line per dead letter (its reason, group, attempts and position, never its payload);
`replay` republishes, after a fix, the next dead letters neither command has acted on yet, and
`discard` gives up on them. Either way the consumer group applies the messages of the same key
that were parked behind a dead letter, in their order, once it sees the replay or the discard.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict

from aiokafka.errors import KafkaError

from mandi_config import StartupError, run_or_exit
from mandi_messaging.dead_letters import (
    discard_dead_letters,
    list_dead_letters,
    replay_dead_letters,
)
from mandi_observability.logs import configure_logging

_ACTIONS = {
    "replay": (replay_dead_letters, "replayed"),
    "discard": (discard_dead_letters, "discarded"),
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="List, replay or discard dead letters.")
    parser.add_argument("command", choices=["list", "replay", "discard"])
    parser.add_argument("--dlq-topic", required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    return parser.parse_args()


async def _main() -> None:
    args = _arguments()
    if not args.bootstrap_servers:
        raise StartupError("set --bootstrap-servers or KAFKA_BOOTSTRAP_SERVERS")
    try:
        await _run_command(args)
    except KafkaError as error:
        raise StartupError(f"Kafka at {args.bootstrap_servers}: {error}") from error


async def _run_command(args: argparse.Namespace) -> None:
    if args.command == "list":
        for letter in await list_dead_letters(args.bootstrap_servers, args.dlq_topic):
            print(json.dumps(asdict(letter)))  # noqa: T201 - the command's output
        return
    act, done = _ACTIONS[args.command]
    count = await act(args.bootstrap_servers, args.dlq_topic, limit=args.limit)
    print(f"{done} {count} message(s) from {args.dlq_topic}")  # noqa: T201


def main() -> None:
    """The command's entry point."""
    configure_logging("dlq", level="WARNING")  # aiokafka's own complaints go to stdout as JSON
    run_or_exit(_main)


if __name__ == "__main__":
    main()
