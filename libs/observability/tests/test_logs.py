import io
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mandi_observability import bound_context, configure_logging, get_logger, tracer

SERVICE = "observability-tests"  # what the read_logs fixture configures
LogReader = Callable[[], list[dict[str, Any]]]


def test_every_line_is_one_json_object_with_time_level_service_and_event(
    read_logs: LogReader,
) -> None:
    get_logger("orders").info("order reserved", order_id="o-1", quantity=500)
    [line] = read_logs()
    assert line["event"] == "order reserved"
    assert line["level"] == "info"
    assert line["service"] == SERVICE
    assert line["logger"] == "orders"
    assert (line["order_id"], line["quantity"]) == ("o-1", 500)
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None


def test_any_plain_value_is_written_whatever_json_encoder_writes_it(read_logs: LogReader) -> None:
    huge = 2**80  # beyond the 64 bits orjson encodes
    get_logger("orders").info("counted", counts={7: "seven", None: "none"}, total=huge)
    [line] = read_logs()
    assert line["counts"] == {"7": "seven", "null": "none"}
    assert line["total"] == huge


def test_a_line_carries_the_ids_of_the_request_it_belongs_to(read_logs: LogReader) -> None:
    with bound_context(correlation_id="corr-1", tenant_id="tenant-1", request_id="req-1"):
        get_logger("orders").info("inside")
    get_logger("orders").info("outside")
    inside, outside = read_logs()
    assert (inside["correlation_id"], inside["tenant_id"], inside["request_id"]) == (
        "corr-1",
        "tenant-1",
        "req-1",
    )
    assert "correlation_id" not in outside
    assert "tenant_id" not in outside


def test_a_line_written_inside_a_span_carries_that_spans_ids(
    read_logs: LogReader, spans: InMemorySpanExporter
) -> None:
    with tracer("tests").start_as_current_span("reserve") as span:
        get_logger("orders").info("inside a span")
    get_logger("orders").info("after it")
    inside, after = read_logs()
    [finished] = spans.get_finished_spans()
    context = finished.get_span_context()
    assert context == span.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in after


def test_standard_library_records_come_out_as_redacted_json(read_logs: LogReader) -> None:
    logging.getLogger("aiokafka.consumer").warning("rebalance for %s", "ravi@example.in")
    [line] = read_logs()
    assert line["event"] == "rebalance for [REDACTED:email]"
    assert (line["level"], line["logger"], line["service"]) == (
        "warning",
        "aiokafka.consumer",
        SERVICE,
    )


def test_exceptions_are_a_redacted_string_field(read_logs: LogReader) -> None:
    try:
        raise ValueError("no partner with PAN ABCDE1234F")  # noqa: TRY301 - the test needs one
    except ValueError:
        get_logger("partners").exception("lookup failed")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    structlog_line, stdlib_line = read_logs()
    for line in (structlog_line, stdlib_line):
        assert line["level"] == "error"
        assert line["exception"].startswith("Traceback (most recent call last)")
        assert "ValueError: no partner with PAN [REDACTED:pan]" in line["exception"]
        assert "ABCDE1234F" not in str(line)


def test_positional_arguments_are_formatted_before_redaction(read_logs: LogReader) -> None:
    get_logger("partners").info("contact %s added", "ravi@example.in")
    [line] = read_logs()
    assert line["event"] == "contact [REDACTED:email] added"


def test_configuring_again_replaces_the_handler_and_takes_over_console_handlers(
    read_logs: LogReader, capsys: pytest.CaptureFixture[str]
) -> None:
    server_logger = logging.getLogger("uvicorn.error")
    server_logger.addHandler(logging.StreamHandler(sys.stderr))  # what uvicorn installs
    configure_logging(SERVICE)
    configure_logging(SERVICE)
    server_logger.info("Started server process")
    [line] = read_logs()
    assert line["event"] == "Started server process"
    assert capsys.readouterr().err == ""


def test_lines_below_the_level_are_dropped(read_logs: LogReader) -> None:
    configure_logging(SERVICE, level="warning")
    get_logger("orders").info("routine")
    logging.getLogger("orders").info("routine too")
    get_logger("orders").warning("unusual")
    assert [line["event"] for line in read_logs()] == ["unusual"]


def test_the_console_format_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging(SERVICE, json=False, stream=stream)
    try:
        get_logger("partners").info(
            "contact added", email="ravi@example.in", note="call 9876543210"
        )
    finally:
        logging.getLogger().handlers.clear()
    output = stream.getvalue()
    assert "contact added" in output
    assert "ravi@example.in" not in output
    assert "9876543210" not in output


def test_an_unknown_level_is_refused_before_anything_changes(read_logs: LogReader) -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging(SERVICE, level="loud")
    get_logger("orders").info("still configured")
    assert [line["event"] for line in read_logs()] == ["still configured"]


def test_a_line_that_cannot_be_written_leaves_a_redacted_json_notice(
    read_logs: LogReader, capsys: pytest.CaptureFixture[str]
) -> None:
    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("repr failed")

    configure_logging(SERVICE)  # again, to take over pytest's own handler, which re-raises
    get_logger("orders").info("odd", note="call 9876543210", thing=Unprintable())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err) == {
        "event": "log line dropped",
        "logger": "orders",
        "error": "RuntimeError",
    }
    assert read_logs() == []
