"""What a saga is made of: ordered steps, each a command, a way to read its reply, a deadline
and a compensation.

A definition knows no service: a step builds its command from the saga (its id, tenant and
data) and says which replies are its own, so the owning service supplies both as functions of
its contracts. Commands and replies carry the saga's id and the step's name (`SagaMessage`):
that pair is how a reply finds its saga and its step, however often it is delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from mandi_messaging import Event

if TYPE_CHECKING:
    from mandi_saga.machine import Saga

__all__ = [
    "Command",
    "Compensation",
    "Completed",
    "Refused",
    "SagaDefinition",
    "SagaMessage",
    "Step",
    "StepOutcome",
]


class SagaMessage(Protocol):
    """A command or reply of a saga's: the saga it belongs to and the step it is about."""

    @property
    def saga_id(self) -> UUID:
        """The saga the message belongs to."""

    @property
    def step(self) -> str:
        """The name of the saga's step the message is about."""


@dataclass(frozen=True)
class Command:
    """An event to send for a saga, with the topic and Kafka key it goes out with."""

    event: Event
    topic: str
    key: str


@dataclass(frozen=True)
class Completed:
    """The step's participant did what it was asked: its effect now holds."""


@dataclass(frozen=True)
class Refused:
    """The step's participant refused; nothing holds, and `reason` says why."""

    reason: str


StepOutcome = Completed | Refused
CommandBuilder = Callable[["Saga"], Command]


@dataclass(frozen=True)
class Compensation:
    """How a step's effect is undone: the command, how its reply is recognised, and how long to
    wait for that reply before sending the command again.

    `step` is the name the command and its replies carry when it is not the step's own. A
    participant that remembers what it applied by saga and step name needs one: else the undo
    would look to it like the step it already applied, and be answered as that step.
    """

    command: CommandBuilder
    recognises: Callable[[Any], bool]
    deadline: timedelta
    step: str | None = None


@dataclass(frozen=True)
class Step:
    """One step: its command, how to read its reply (None: not this step's outcome), how long
    after sending to wait for it, and how to undo it (None: nothing to undo)."""

    name: str
    command: CommandBuilder
    read_reply: Callable[[Any], StepOutcome | None]
    deadline: timedelta
    compensation: Compensation | None = None


@dataclass(frozen=True)
class SagaDefinition:
    """A saga type: its steps in order, and how often a compensation is sent before an
    operator is asked to look."""

    type: str
    steps: tuple[Step, ...]
    compensation_attempts: int = 5

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        names += [name for name in map(_undo_name, self.steps) if name is not None]
        if not self.steps or len(names) != len(set(names)):
            raise ValueError(f"saga {self.type!r} needs steps with distinct names, not {names}")
        if self.compensation_attempts < 1:
            raise ValueError("a compensation is sent at least once")

    def index_of(self, step: str) -> int | None:
        """The position of the step named `step`, or whose compensation is, if the saga has
        one."""
        return self._positions.get(step)

    @cached_property
    def _positions(self) -> Mapping[str, int]:
        positions = {step.name: index for index, step in enumerate(self.steps)}
        for index, step in enumerate(self.steps):
            undo = _undo_name(step)
            if undo is not None:
                positions[undo] = index
        return positions


def _undo_name(step: Step) -> str | None:
    """The name the step's compensation is sent under, when it has one of its own."""
    return step.compensation.step if step.compensation else None
