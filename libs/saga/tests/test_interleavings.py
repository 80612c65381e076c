"""Random interleavings of replies, duplicates, late replies and timeouts for a three-step saga,
each step's effect modelled by a participant that reserves and releases (hypothesis).

Whatever the order, the saga must end completed with every effect held, or failed with every
effect released; no effect is ever reserved or released twice; and a saga only asks an
operator after its compensations went unanswered, then finishes once the operator retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

from hypothesis import event, given, settings
from hypothesis import strategies as st

from mandi_saga import (
    DeadlinePassed,
    OperatorRetry,
    Reply,
    SagaStatus,
    advance,
    begin,
)
from mandi_testing.fakes import FakeClock

FINAL = {SagaStatus.COMPLETED, SagaStatus.FAILED, SagaStatus.NEEDS_OPERATOR}


@dataclass
class Participant:
    """One step's counterparty: it decides once, answers duplicates alike, and loses the first
    `releases_lost` release commands it gets (it is down)."""

    grants: bool
    releases_lost: int
    answer: str | None = None
    held: bool = False
    reservations: int = 0
    releases: int = 0

    def handle(self, kit: Any, command: Any) -> Any | None:
        """The reply to a command, or None when it is lost."""
        ids = {"saga_id": command.saga_id, "step": command.step}
        if isinstance(command, kit.reserve):
            if self.answer is None:
                self.answer = "reserved" if self.grants else "refused"
                self.held = self.grants
                self.reservations += self.grants
            if self.answer == "reserved":
                return kit.reserved(**ids)
            return kit.refusal(**ids, reason="no")
        if self.releases_lost:
            self.releases_lost -= 1
            return None
        if self.held:
            self.held, self.releases = False, self.releases + 1
        return kit.released(**ids)


@dataclass
class World:
    """The saga, its participants and the messages in flight between them."""

    kit: Any
    participants: dict[str, Participant]
    clock: FakeClock = field(default_factory=FakeClock)
    in_flight: list[Any] = field(default_factory=list)
    released_requests: int = 0
    compensation_timeouts: int = 0
    saga: Any = None
    reached_operator: bool = False
    happened: set[str] = field(default_factory=set)

    def start(self) -> None:
        data = {"lot": "lot-1", "quantity": 5}
        now = self.clock.now()
        self._take(
            begin(self.kit.definition, saga_id=uuid4(), tenant_id=uuid4(), data=data, now=now)
        )

    def deliver(self, position: int, *, keep: bool) -> None:
        message = self.in_flight[position] if keep else self.in_flight.pop(position)
        if isinstance(message, self.kit.reserve | self.kit.release):
            reply = self.participants[message.step].handle(self.kit, message)
            if reply is not None:
                self.in_flight.append(reply)
        else:
            self._apply(Reply(message))

    def time_passes(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        due = self.saga.deadline is not None and self.saga.deadline <= self.clock.now()
        self.compensation_timeouts += due and self.saga.status is SagaStatus.COMPENSATING
        self._apply(DeadlinePassed())

    def settle(self) -> None:
        """Delivers everything in order, letting deadlines pass only when nothing is in flight;
        an operator retries a stuck saga once the participants answer again."""
        while self.in_flight or self.saga.status not in FINAL or self._stuck():
            if self.in_flight:
                self.deliver(0, keep=False)
            elif self._stuck():
                for participant in self.participants.values():
                    participant.releases_lost = 0
                self._apply(OperatorRetry("ops@mandi", "participants are back"))
            else:
                self.time_passes(31)

    def _stuck(self) -> bool:
        return self.saga.status is SagaStatus.NEEDS_OPERATOR

    def _apply(self, event: Any) -> None:
        self._take(advance(self.kit.definition, self.saga, event, self.clock.now()))

    def _take(self, transition: Any) -> None:
        self.saga = transition.saga
        self.happened |= {entry.kind for entry in transition.history}
        self.reached_operator |= self._stuck()
        self.in_flight += [command.event for command in transition.commands]
        self.released_requests += sum(
            isinstance(command.event, self.kit.release) for command in transition.commands
        )


_participant = st.builds(
    Participant, grants=st.booleans(), releases_lost=st.integers(min_value=0, max_value=4)
)
_action = st.tuples(
    st.sampled_from(["deliver", "duplicate", "wait", "wait_long"]),
    st.integers(min_value=0, max_value=20),
)


@settings(max_examples=400, deadline=None)
@given(
    participants=st.lists(_participant, min_size=3, max_size=3),
    actions=st.lists(_action, max_size=60),
)
def test_every_interleaving_ends_completed_or_fully_compensated(
    kit: Any, participants: list[Participant], actions: list[tuple[str, int]]
) -> None:
    names = [step.name for step in kit.definition.steps]
    world = World(kit, dict(zip(names, participants, strict=True)))
    world.start()
    for action, position in actions:
        if action in {"deliver", "duplicate"} and world.in_flight:
            world.deliver(position % len(world.in_flight), keep=action == "duplicate")
        elif action.startswith("wait"):
            world.time_passes(31 if action == "wait_long" else 5)

    world.settle()
    event(
        f"{world.saga.status}, operator asked: {world.reached_operator}, "
        f"late success: {'late_success' in world.happened}"
    )

    held = [participant.held for participant in participants]
    if world.saga.status is SagaStatus.COMPLETED:
        assert all(held)
        assert world.released_requests == 0
    else:
        assert world.saga.status is SagaStatus.FAILED
        assert not any(held)
    for participant in participants:
        assert participant.reservations <= 1
        assert participant.releases <= 1
    if world.reached_operator:
        assert world.compensation_timeouts >= kit.definition.compensation_attempts
