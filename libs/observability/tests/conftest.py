"""Fixtures for the observability tests: captured JSON log lines and recorded spans."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mandi_observability import configure_logging, configure_tracing

SERVICE = "observability-tests"

LogReader = Callable[[], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def _recorded_spans() -> InMemorySpanExporter:
    # One provider per process (OpenTelemetry's rule), so one exporter for the whole session.
    exporter = InMemorySpanExporter()
    configure_tracing(SERVICE).add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(_recorded_spans: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The spans finished during this test."""
    _recorded_spans.clear()
    yield _recorded_spans
    _recorded_spans.clear()


@pytest.fixture
def read_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[LogReader]:
    """Logging configured to the captured stdout; the reader parses each new line as JSON."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(SERVICE)

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    yield read
    root.handlers = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()
