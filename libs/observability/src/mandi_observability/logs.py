"""JSON logs: one object per line on stdout, with the request's ids, redacted before writing.

Mandi's own lines (`get_logger`, the access log among them) take structlog's native path:
level filtering by the bound logger's class, the processors, then one write; no `LogRecord`,
no handler. The standard library's records (uvicorn, aiokafka, SQLAlchemy) go through the same
processors by logging's handler, so every line the process writes has the same shape and the
same redaction.
"""

from __future__ import annotations

import logging
import sys
import threading
from json import dumps
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

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
        _drop_notice(record.name)


def _error_type() -> str:
    error = sys.exc_info()[1]
    return type(error).__name__ if error else "unknown"


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Routes every log line of the process through one redacting JSON pipeline (idempotent)."""
    output = stream or _Stdout()
    handler = _JsonLinesHandler(output)
    handler.setFormatter(_formatter(service, json=json))
    _install(handler, level.upper())
    structlog.configure(
        processors=[
            *_shared_processors(service),
            structlog.processors.StackInfoRenderer(),
            _rendered_safely(json=json),
        ],
        # Lines below the level cost one method call: the class's methods for them do nothing.
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLogger().level),
        logger_factory=_LineWriters(output),
        # Cached loggers would keep the first configuration's processors.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str, **bound: Any) -> FilteringBoundLogger:
    """A logger whose keyword arguments become fields of the line."""
    logger: FilteringBoundLogger = structlog.get_logger(name, **bound)
    return logger


class _LineWriter:
    """Where a rendered line of a named logger goes: one write and a flush, as logging's
    stream handler does, under one lock per stream."""

    def __init__(self, name: str, stream: _Stdout | TextIO, lock: threading.Lock) -> None:
        self.name = name
        self._stream, self._lock = stream, lock

    def msg(self, line: str) -> None:
        """Writes the line; a failure leaves a redacted notice on stderr, as the handler does."""
        try:
            with self._lock:
                self._stream.write(line + "\n")
                self._stream.flush()
        except Exception:  # noqa: BLE001 - a log line must never fail the code that wrote it
            _drop_notice(self.name)

    debug = info = warning = error = critical = exception = msg


class _LineWriters:
    """structlog's logger factory: one writer per logger name, all on one stream."""

    def __init__(self, stream: _Stdout | TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._writers: dict[str, _LineWriter] = {}

    def __call__(self, name: str = "mandi", *_args: Any) -> _LineWriter:
        """The writer of the logger `name`."""
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = _LineWriter(name, self._stream, self._lock)
        return writer


def _rendered_safely(*, json: bool) -> Processor:
    """The last processor of a native line: exception text, redaction, rendering.

    A line that cannot be rendered is dropped with a redacted notice on stderr, as logging's
    handler drops a record it cannot format.
    """
    render = _renderer(json=json)

    def render_safely(logger: WrappedLogger, method: str, event: EventDict) -> str:
        try:
            event = _format_exception(logger, method, event)
            rendered = render(logger, method, redact_event(logger, method, event))
        except Exception:  # noqa: BLE001 - reported as a notice, like the handler's failures
            _drop_notice(str(event.get("logger", "")))
            raise structlog.DropEvent from None
        return str(rendered)

    return render_safely


def _drop_notice(logger_name: str) -> None:
    notice = {"event": "log line dropped", "logger": logger_name, "error": _error_type()}
    sys.stderr.write(dumps(notice) + "\n")


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


def _renderer(*, json: bool) -> Processor:
    if json:
        return structlog.processors.JSONRenderer(serializer=_json_line)
    return structlog.dev.ConsoleRenderer(colors=False)


def _json_line(event: EventDict, **_options: Any) -> str:
    """The line in JSON: by orjson, several times faster than json; by json whatever orjson
    refuses (an integer beyond 64 bits). Redaction has made every other value a plain one."""
    try:
        return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return dumps(event, default=repr)


def _formatter(service: str, *, json: bool) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(service),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _format_exception,  # a string field, so it is redacted too
            redact_event,  # last before rendering: nothing reaches the output unredacted
            _renderer(json=json),
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
