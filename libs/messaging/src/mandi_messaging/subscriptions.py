"""A consumer group's handlers: plain functions of one event and what they need, typed.

    consumers = Consumers(group="partners", topics=[events_topic("auth")], registry=EVENTS)

    @consumers.on(UserCreated)
    async def on_user_created(event: UserCreated, uow: PartnersUnitOfWork) -> None:
        ...

    broker.include_router(consumers.router(runtime))

Each handler is chosen by the event's name in `ce_type`: every version of the event reaches it
as the newest model. Its other parameters are filled by name: `uow` is the unit of work opened
for the event's tenant, which commits after the handler returns, together with the inbox claim
(a handler never commits); `envelope` is the message's envelope; any other name comes from the
runtime's `dependencies`.

The group's FastStream subscriber reads a poll's records at a time and hands them, in order, to
the delivery pipeline, which calls the handlers (see delivery.py): a partition's records are
applied in order, and a poll's commit and bookkeeping are shared by its records. For its AsyncAPI
document, the group is described as one call per event, typed with the event's model.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy, StreamMessage
from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import LogicSubscriber

from mandi_messaging.broker import FETCH_MAX_WAIT_MS
from mandi_messaging.delivery import (
    ConsumerRuntime,
    DeliveryPipeline,
    HandlerCall,
    current_delivery,
)
from mandi_messaging.middleware import ConsumerMiddleware
from mandi_messaging.registry import Event, EventRegistry, event_name

__all__ = ["RECORDS_PER_POLL", "Consumers", "Handler", "group_settings"]

EventT = TypeVar("EventT", bound=Event)
P = ParamSpec("P")
Handler: TypeAlias = Callable[Concatenate[EventT, P], Awaitable[None]]
_PROVIDED = frozenset({"uow", "envelope"})
# At most this many records a poll: one transaction applies a tenant's run of them together.
RECORDS_PER_POLL = 100
_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@dataclasses.dataclass(frozen=True, slots=True)
class _Registration:
    model: type[Event]
    call: HandlerCall
    parameters: tuple[str, ...]
    handler_name: str


class Consumers:
    """The events one consumer group handles, each with its handler, on some topics."""

    def __init__(self, *, group: str, topics: Sequence[str], registry: EventRegistry) -> None:
        self.group = group
        self.topics = tuple(topics)
        self._registry = registry
        self._registrations: dict[str, _Registration] = {}

    @property
    def events(self) -> list[type[Event]]:
        """The models of the events this group handles."""
        return [registration.model for registration in self._registrations.values()]

    def on(self, event: type[EventT]) -> Callable[[Handler[EventT, P]], Handler[EventT, P]]:
        """Decorator: registers the handler of every version of `event` (its newest model)."""

        def register(handler: Handler[EventT, P]) -> Handler[EventT, P]:
            self._register(event, handler)
            return handler

        return register

    def handler_for(self, type_name: str) -> HandlerCall | None:
        """The typed call for an event type on the wire (any version), if this group handles it."""
        registration = self._registrations.get(event_name(type_name) or "")
        return registration.call if registration else None

    def router(self, runtime: ConsumerRuntime, **options: Any) -> KafkaRouter:
        """A FastStream router consuming the topics as this group, a poll at a time, through
        the pipeline.

        `options` go to FastStream's subscriber (e.g. `session_timeout_ms`); never give it
        `max_workers`, which would apply one key's messages out of order.
        """
        self._check_dependencies(runtime)
        pipeline = DeliveryPipeline(
            group=self.group, registry=self._registry, handlers=self.handler_for, runtime=runtime
        )
        router = KafkaRouter(middlewares=[partial(ConsumerMiddleware, pipeline=pipeline)])
        polls: LogicSubscriber[Any] = router.subscriber(
            *self.topics,
            **self._settings(),
            batch=True,
            max_records=RECORDS_PER_POLL,
            batch_timeout_ms=FETCH_MAX_WAIT_MS,
            parser=_tolerant_parse,
            **options,
        )
        polls(_handled_by_the_pipeline)
        return router

    def subscribe(self, router: KafkaRouter) -> LogicSubscriber[Any]:
        """Describes the group's subscriber on a router, for its AsyncAPI document: one call
        per handled event, typed with the event's model."""
        subscriber: LogicSubscriber[Any] = router.subscriber(*self.topics, **self._settings())
        for registration in self._registrations.values():
            subscriber(registration.call)
        return subscriber

    def _settings(self) -> dict[str, Any]:
        return group_settings(self.group, self.topics)

    def _register(self, model: type[Event], handler: Callable[..., Awaitable[None]]) -> None:
        name = event_name(model.event_type)
        if name is None or self._registry.latest(name) is not model:
            raise TypeError(f"{model.__name__} is not the newest registered model of its event")
        if name in self._registrations:
            raise ValueError(f"{self.group} handles {name} twice")
        parameters = _dependency_names(handler)
        self._registrations[name] = _Registration(
            model=model,
            call=_typed_call(model, handler, parameters),
            parameters=parameters,
            handler_name=handler.__name__,
        )

    def _check_dependencies(self, runtime: ConsumerRuntime) -> None:
        available = _PROVIDED | set(runtime.dependencies)
        for registration in self._registrations.values():
            missing = sorted(set(registration.parameters) - available)
            if missing:
                raise TypeError(
                    f"{registration.handler_name} asks for {', '.join(missing)}, "
                    "which the consumer runtime does not provide"
                )


def group_settings(group: str, topics: Sequence[str]) -> dict[str, Any]:
    """A group's FastStream subscriber settings: manual acknowledgement (offsets are committed
    once outcomes are durable), from the earliest record when the group is new."""
    return {
        "title": f"{','.join(topics)}:{group}",
        "group_id": group,
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
    }


def _dependency_names(handler: Callable[..., Awaitable[None]]) -> tuple[str, ...]:
    """The names of the parameters after the event, each of which is filled by name."""
    parameters = list(inspect.signature(handler).parameters.values())
    if not parameters:
        raise TypeError(f"{handler.__name__} takes no event")
    for parameter in parameters[1:]:
        if parameter.kind not in _BY_NAME:
            raise TypeError(f"{handler.__name__}: {parameter.name} cannot be given by name")
    return tuple(parameter.name for parameter in parameters[1:])


def _typed_call(
    model: type[Event], handler: Callable[..., Awaitable[None]], parameters: tuple[str, ...]
) -> HandlerCall:
    """What the pipeline calls: one parameter typed with the model, the rest from the delivery."""

    async def call(event: Event) -> None:
        delivery = current_delivery()
        await handler(event, **{name: delivery.argument(name) for name in parameters})

    # FastStream reads the payload's type, the call's name and its description from these.
    call.__annotations__ = {"event": model, "return": None}
    call.__name__ = call.__qualname__ = handler.__name__
    call.__module__ = handler.__module__
    summary = (inspect.getdoc(handler) or "").split("\n", 1)[0]
    call.__doc__ = f"{model.event_type}: {summary}" if summary else model.event_type
    return call


async def _tolerant_parse(
    records: tuple[ConsumerRecord, ...],
    parse: Callable[[tuple[ConsumerRecord, ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser of a poll, also for records with headers that are not UTF-8.

    Such a record is not our CloudEvent: it must reach the pipeline to be dead-lettered, not
    fail in the parser, which would leave its poll neither handled nor committed.
    """
    try:
        message = await parse(records)
    except UnicodeDecodeError:
        readable = tuple(
            dataclasses.replace(
                record, headers=[(name, value) for name, value in record.headers if _is_text(value)]
            )
            for record in records
        )
        message = await parse(readable)
    # The pipeline reads, and dead-letters, the originals; a tuple even from the in-memory Kafka,
    # which hands a list (FastStream's seek back takes a tuple).
    message.raw_message = tuple(records)
    return message


def _is_text(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


async def _handled_by_the_pipeline() -> None:
    """Never called: the group's middleware hands each poll to the delivery pipeline."""
