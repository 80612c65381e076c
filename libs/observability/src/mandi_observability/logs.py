"""JSON logs: one object per line on stdout, with the request's ids, redacted before writing.

The standard library's records (uvicorn, aiokafka, SQLAlchemy) go through the same processors,
so every line the process writes has the same shape and the same redaction.
"""

from __future__ import annotations

import logging
import sys
from json import dumps
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from mandi_observability.context import current_context
from mandi_observability.exceptions import format_exception_safely
from mandi_observability.redaction import redact_event
from mandi_observability.trace_ids import current_trace_ids

__all__ = ["configure_logging", "get_logger"]

# uvicorn.access repeats our access line with the query string; SQLAlchemy's INFO echoes SQL
# parameters; the others are chatty at INFO. Their warnings still come through.
_QUIET_LOGGERS = ("aiokafka", "asyncio", "sqlalchemy.engine", "uvicorn.access")
# Servers install their own handlers before the app configures logging.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "gunicorn.error")


class _Stdout:
    """Whatever sys.stdout is when a line is written, since servers, tools and tests swap it."""

    def write(self, text: str) -> int:
        """Writes to the current stdout."""
        return sys.stdout.write(text)

    def flush(self) -> None:
        """Flushes the current stdout."""
        sys.stdout.flush()


class _JsonLinesHandler(logging.StreamHandler[_Stdout | TextIO]):
    """A stream handler that reports its own failures without the record's raw arguments."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """Writes a redacted JSON notice; logging's default prints the unredacted record."""
        notice = {"event": "log line dropped", "logger": record.name, "error": _error_type()}
        sys.stderr.write(dumps(notice) + "\n")


def _error_type() -> str:
    error = sys.exc_info()[1]
    return type(error).__name__ if error else "unknown"


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Routes every log line of the process through one redacting JSON pipeline (idempotent)."""
    handler = _JsonLinesHandler(stream or _Stdout())
    handler.setFormatter(_formatter(service, json=json))
    _install(handler, level.upper())
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # before any work on a line nobody will see
            *_shared_processors(service),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Cached loggers would keep the first configuration's processors.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A logger whose keyword arguments become fields of the line."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name, **bound)
    return logger


def _shared_processors(service: str) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _with_service(service),
        _with_ids,
    ]


def _with_service(service: str) -> Processor:
    def add_service(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add_service


def _with_ids(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    trace_id, span_id = current_trace_ids()
    context = current_context()
    ids = {
        "trace_id": trace_id,
        "span_id": span_id,
        "request_id": context.request_id,
        "correlation_id": context.correlation_id,
        "tenant_id": context.tenant_id,
    }
    for name, value in ids.items():
        if value is not None:
            event.setdefault(name, value)
    return event


def _formatter(service: str, *, json: bool) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(service),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _format_exception,  # a string field, so it is redacted too
            redact_event,  # last before rendering: nothing reaches the output unredacted
            renderer,
        ],
    )


def _format_exception(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Renders `exc_info` as structlog does, but with drivers' messages withheld."""
    exc_info = event.pop("exc_info", None)
    error = _exception_of(exc_info)
    if error is not None:
        event["exception"] = format_exception_safely(error)
    return event


def _exception_of(exc_info: object) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1] if len(exc_info) == 3 else None  # noqa: PLR2004 - sys.exc_info()'s shape
    return sys.exc_info()[1] if exc_info else None


def _install(handler: logging.Handler, level: str) -> None:
    # Every handler is replaced, not only console ones: any other would write unredacted records.
    root = logging.getLogger()
    root.setLevel(level)  # first, so an unknown level fails before anything changes
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    for name in _SERVER_LOGGERS:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
