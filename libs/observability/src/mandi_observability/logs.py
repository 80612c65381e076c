"""JSON logs: one object per line, with the request's ids, redacted before they are written.

The standard library's records (uvicorn, aiokafka, SQLAlchemy) go through the same processors,
so every line the process writes has the same shape and the same redaction.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

from mandi_observability.context import current_context
from mandi_observability.redaction import redact_event
from mandi_observability.trace_ids import current_trace_ids

__all__ = ["configure_logging", "get_logger"]

# uvicorn.access repeats what our access line says, with the query string we leave out.
_QUIET_LOGGERS = ("aiokafka", "asyncio", "sqlalchemy.engine", "uvicorn.access")


def _with_service(service: str) -> Processor:
    def add_service(_logger: object, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add_service


def _with_ids(_logger: object, _method: str, event: EventDict) -> EventDict:
    trace_id, span_id = current_trace_ids()
    context = current_context()
    ids = {
        "trace_id": trace_id,
        "span_id": span_id,
        "request_id": context.request_id,
        "correlation_id": context.correlation_id,
        "tenant_id": context.tenant_id,
    }
    event.update({name: value for name, value in ids.items() if value and name not in event})
    return event


def _shared_processors(service: str) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _with_service(service),
        _with_ids,
    ]


def _formatter(service: str, *, json: bool) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(service),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,  # last before rendering: nothing reaches the output unredacted
            renderer,
        ],
    )


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Sends every log line of the process, structlog's and the standard library's, as JSON."""
    structlog.configure(
        processors=[
            *_shared_processors(service),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(_formatter(service, json=json))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A logger whose keyword arguments become JSON fields."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name, **bound)
    return logger
