"""The saga state machine, driven transition by transition with a clock the test moves."""

from __future__ import annotations

from dataclasses import replace as changed
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from mandi_saga import (
    DeadlinePassed,
    NotAwaitingOperator,
    OperatorResolution,
    OperatorRetry,
    Reply,
    Saga,
    SagaEvent,
    SagaStatus,
    StepStatus,
    Transition,
    advance,
    begin,
)
from mandi_testing.fakes import FakeClock

QUANTITY, EXPOSURE, SLOT = "reserve_quantity", "reserve_exposure", "book_slot"


class Run:
    """One saga driven by a test: its state, and every command it sent."""

    def __init__(self, kit: Any) -> None:
        self.kit, self.clock = kit, FakeClock()
        data = {"lot": "lot-7", "quantity": 40}
        started = begin(
            kit.definition, saga_id=uuid4(), tenant_id=uuid4(), data=data, now=self.clock.now()
        )
        self.saga, self.sent = started.saga, [c.event for c in started.commands]
        self.history = list(started.history)

    def apply(self, event: SagaEvent) -> Transition:
        transition = advance(self.kit.definition, self.saga, event, self.clock.now())
        self.saga = transition.saga
        self.sent += [command.event for command in transition.commands]
        self.history += transition.history
        return transition

    def reply(self, kind: type, step: str, **fields: Any) -> Transition:
        return self.apply(Reply(kind(saga_id=self.saga.id, step=step, **fields)))

    def succeed(self, step: str) -> Transition:
        return self.reply(self.kit.reserved, step)

    def refuse(self, step: str) -> Transition:
        return self.reply(self.kit.refusal, step, reason="not enough free")

    def released(self, step: str) -> Transition:
        return self.reply(self.kit.released, step)

    def wait(self, seconds: float) -> Transition:
        self.clock.advance(timedelta(seconds=seconds))
        return self.apply(DeadlinePassed())

    def last_sent(self) -> tuple[str, str]:
        return type(self.sent[-1]).__name__, self.sent[-1].step


@pytest.fixture
def run(kit: Any) -> Run:
    """A lot reservation saga, just started."""
    return Run(kit)


def _kinds(saga_history: list[Any]) -> list[tuple[str, str | None]]:
    return [(entry.kind, entry.step) for entry in saga_history]


def test_a_saga_sends_each_step_after_the_previous_succeeded_and_completes(run: Run) -> None:
    assert run.last_sent() == ("Reserve", QUANTITY)
    assert run.saga.deadline == run.clock.now() + timedelta(seconds=30)
    assert run.sent[0].quantity == 40

    run.succeed(QUANTITY)
    assert run.last_sent() == ("Reserve", EXPOSURE)
    run.succeed(EXPOSURE)
    run.succeed(SLOT)

    assert run.saga.status is SagaStatus.COMPLETED
    assert run.saga.deadline is None
    assert run.saga.steps == (StepStatus.DONE,) * 3
    assert len(run.sent) == 3
    assert _kinds(run.history) == [
        ("started", None),
        ("command_sent", QUANTITY),
        ("completed", QUANTITY),
        ("command_sent", EXPOSURE),
        ("completed", EXPOSURE),
        ("command_sent", SLOT),
        ("completed", SLOT),
        ("saga_completed", None),
    ]


def test_a_refusal_at_step_two_releases_step_one_then_the_saga_fails(run: Run) -> None:
    run.succeed(QUANTITY)
    run.refuse(EXPOSURE)

    assert run.saga.status is SagaStatus.COMPENSATING
    assert run.last_sent() == ("Release", QUANTITY)
    assert run.history[-2].detail == {"reason": "not enough free"}

    run.released(QUANTITY)

    assert run.saga.status is SagaStatus.FAILED
    assert run.saga.steps == (StepStatus.UNDONE, StepStatus.REFUSED, StepStatus.WAITING)
    assert len(run.sent) == 3


def test_a_refusal_at_step_one_fails_with_nothing_to_release(run: Run) -> None:
    run.refuse(QUANTITY)

    assert run.saga.status is SagaStatus.FAILED
    assert len(run.sent) == 1


def test_a_step_past_its_deadline_releases_the_steps_before_it(run: Run) -> None:
    run.succeed(QUANTITY)

    assert not run.wait(29.9).changed
    run.wait(0.1)

    assert run.saga.status is SagaStatus.COMPENSATING
    assert run.saga.steps[1] is StepStatus.ABANDONED
    assert run.last_sent() == ("Release", QUANTITY)
    assert run.history[-2].kind == "timed_out"

    run.released(QUANTITY)
    assert run.saga.status is SagaStatus.FAILED


def test_a_success_after_the_saga_gave_up_and_failed_is_released(run: Run) -> None:
    run.succeed(QUANTITY)
    run.wait(30)
    run.released(QUANTITY)
    assert run.saga.status is SagaStatus.FAILED

    run.succeed(EXPOSURE)

    assert run.saga.status is SagaStatus.COMPENSATING
    assert run.last_sent() == ("Release", EXPOSURE)
    run.released(EXPOSURE)
    assert run.saga.status is SagaStatus.FAILED
    assert run.saga.steps[:2] == (StepStatus.UNDONE, StepStatus.UNDONE)


def test_a_success_arriving_while_compensating_is_released_next(run: Run) -> None:
    run.succeed(QUANTITY)
    run.wait(30)

    late = run.succeed(EXPOSURE)

    assert late.commands == ()
    assert late.history[0].kind == "late_success"
    run.released(QUANTITY)
    assert run.last_sent() == ("Release", EXPOSURE)
    run.released(EXPOSURE)
    assert run.saga.status is SagaStatus.FAILED


def test_duplicate_stray_and_reordered_replies_change_nothing(run: Run) -> None:
    run.succeed(QUANTITY)
    before = run.saga

    for transition in (
        run.succeed(QUANTITY),  # a duplicate of a step done
        run.refuse(QUANTITY),  # contradicting a step done
        run.succeed(SLOT),  # for a step not sent yet
        run.released(QUANTITY),  # a release nobody asked for
        run.succeed("unheard_of"),
    ):
        assert not transition.changed
        assert transition.commands == ()
    assert run.saga == before

    run.refuse(EXPOSURE)
    run.released(QUANTITY)
    failed = run.saga
    assert not run.refuse(EXPOSURE).changed
    assert not run.released(QUANTITY).changed
    assert not run.wait(3600).changed
    assert run.saga == failed


def test_a_compensation_is_sent_again_at_each_deadline_then_asks_an_operator(run: Run) -> None:
    run.succeed(QUANTITY)
    run.refuse(EXPOSURE)
    assert run.saga.attempts == 1

    assert not run.wait(9).changed
    run.wait(1)
    assert (run.saga.attempts, run.last_sent()) == (2, ("Release", QUANTITY))
    run.wait(10)
    assert (run.saga.attempts, len(run.sent)) == (3, 5)

    stuck = run.wait(10)

    assert run.saga.status is SagaStatus.NEEDS_OPERATOR
    assert run.saga.deadline is None
    assert stuck.commands == ()
    assert [entry.kind for entry in stuck.history] == ["timed_out", "needs_operator"]
    assert not run.wait(3600).changed


def test_a_late_release_lets_a_saga_waiting_for_an_operator_fail(run: Run) -> None:
    run.succeed(QUANTITY)
    run.refuse(EXPOSURE)
    for _ in range(3):
        run.wait(10)

    run.released(QUANTITY)

    assert run.saga.status is SagaStatus.FAILED


def _stuck(run: Run) -> Saga:
    run.succeed(QUANTITY)
    run.succeed(EXPOSURE)
    run.refuse(SLOT)
    for _ in range(3):
        run.wait(10)
    assert run.saga.status is SagaStatus.NEEDS_OPERATOR
    return run.saga


def test_an_operator_retry_sends_the_compensation_again_with_fresh_attempts(run: Run) -> None:
    _stuck(run)

    retried = run.apply(OperatorRetry("ops@mandi", "risk was down"))

    assert run.saga.status is SagaStatus.COMPENSATING
    assert run.saga.attempts == 1
    assert run.saga.deadline == run.clock.now() + timedelta(seconds=10)
    assert [type(c.event).__name__ for c in retried.commands] == ["Release"]
    assert retried.history[0].detail == {"operator": "ops@mandi", "reason": "risk was down"}
    run.released(EXPOSURE)
    assert run.last_sent() == ("Release", QUANTITY)
    run.released(QUANTITY)
    assert run.saga.status is SagaStatus.FAILED


def test_an_operator_resolving_as_failed_counts_the_stuck_release_as_done(run: Run) -> None:
    _stuck(run)

    run.apply(OperatorResolution(SagaStatus.FAILED, "ops@mandi", "released by hand"))

    assert run.saga.steps[1] is StepStatus.UNDONE
    assert run.last_sent() == ("Release", QUANTITY)  # what else is held is still released
    run.released(QUANTITY)
    assert run.saga.status is SagaStatus.FAILED
    resolved = next(entry for entry in run.history if entry.kind == "operator_resolved")
    assert resolved.detail["operator"] == "ops@mandi"
    assert resolved.detail["outcome"] == "failed"


def test_an_operator_resolving_as_completed_ends_the_saga(run: Run) -> None:
    _stuck(run)

    resolved = run.apply(OperatorResolution(SagaStatus.COMPLETED, "ops@mandi", "trade stands"))

    assert run.saga.status is SagaStatus.COMPLETED
    assert resolved.commands == ()


def test_an_operator_acts_only_on_a_saga_waiting_for_one(run: Run) -> None:
    with pytest.raises(NotAwaitingOperator):
        run.apply(OperatorRetry("ops@mandi", "why not"))
    _stuck(run)
    with pytest.raises(ValueError, match="failed or completed"):
        run.apply(OperatorResolution(SagaStatus.RUNNING, "ops@mandi", "restart it"))


def _named_undo(kit: Any) -> Any:
    """The kit's saga, but the quantity is released under a step name of its own."""
    first = kit.definition.steps[0]
    undo = changed(first.compensation, step="release_quantity")
    steps = (changed(first, compensation=undo), *kit.definition.steps[1:])
    return changed(kit, definition=changed(kit.definition, steps=steps))


def test_a_compensation_under_its_own_name_is_answered_under_that_name(kit: Any) -> None:
    run = Run(_named_undo(kit))
    run.succeed(QUANTITY)
    run.refuse(EXPOSURE)
    assert run.saga.status is SagaStatus.COMPENSATING

    assert not run.released(QUANTITY).changed  # the step's own name is not the undo's
    run.released("release_quantity")

    assert run.saga.status is SagaStatus.FAILED
    assert run.saga.steps[0] is StepStatus.UNDONE


def test_a_compensation_may_not_take_the_name_of_a_step(kit: Any) -> None:
    first = kit.definition.steps[0]
    clash = changed(first, compensation=changed(first.compensation, step=EXPOSURE))
    with pytest.raises(ValueError, match="distinct names"):
        changed(kit.definition, steps=(clash, *kit.definition.steps[1:]))
