from collections.abc import Iterator

import asyncpg
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mandi_observability import (
    bound_context,
    configure_tracing,
    context_from_traceparent,
    current_context,
    current_trace_ids,
    current_traceparent,
    instrument_asyncpg,
    started_operation,
    tracer,
)
from mandi_observability.tracing import _build_provider


def test_a_consumer_span_started_from_a_traceparent_is_a_child_of_the_producer(
    spans: InMemorySpanExporter,
) -> None:
    with tracer("producer").start_as_current_span("publish", kind=SpanKind.PRODUCER):
        traceparent = current_traceparent()
    # What a consumer does with the header it read from Kafka, in another task or process.
    parent = context_from_traceparent(traceparent)
    with tracer("consumer").start_as_current_span("handle", context=parent, kind=SpanKind.CONSUMER):
        pass
    handle, publish = sorted(spans.get_finished_spans(), key=lambda span: span.name)
    assert handle.context.trace_id == publish.context.trace_id
    assert handle.parent is not None
    assert handle.parent.span_id == publish.context.span_id


def test_the_traceparent_is_w3c_shaped_and_names_the_active_span(
    spans: InMemorySpanExporter,
) -> None:
    with tracer("producer").start_as_current_span("publish") as span:
        traceparent = current_traceparent()
        trace_id, span_id = current_trace_ids()
    assert traceparent is not None
    version, parent_trace_id, parent_span_id, flags = traceparent.split("-")
    assert (version, parent_trace_id, parent_span_id) == ("00", trace_id, span_id)
    assert int(flags, 16) & 1  # sampled
    assert trace_id == format(span.get_span_context().trace_id, "032x")
    assert len(spans.get_finished_spans()) == 1


def test_there_is_no_traceparent_outside_a_span() -> None:
    assert current_traceparent() is None
    assert current_trace_ids() == (None, None)


@pytest.mark.parametrize(
    "traceparent", [None, "", "garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"]
)
def test_a_missing_or_invalid_traceparent_starts_a_new_trace(
    spans: InMemorySpanExporter, traceparent: str | None
) -> None:
    with tracer("consumer").start_as_current_span(
        "handle", context=context_from_traceparent(traceparent)
    ):
        pass
    [handle] = spans.get_finished_spans()
    assert handle.parent is None


def test_configure_tracing_keeps_the_provider_installed_first(
    spans: InMemorySpanExporter,
) -> None:
    first = configure_tracing("observability-tests")
    again = configure_tracing("another-name", otlp_endpoint="http://collector:4318")
    assert again is first
    with tracer("tests").start_as_current_span("still recorded"):
        pass
    assert [span.name for span in spans.get_finished_spans()] == ["still recorded"]


@pytest.fixture
def provider_with_endpoint() -> Iterator[TracerProvider]:
    provider = _build_provider("partners", otlp_endpoint="http://collector:4318/", sample_ratio=1.0)
    yield provider
    provider.shutdown()


def test_an_endpoint_adds_a_batching_otlp_exporter(provider_with_endpoint: TracerProvider) -> None:
    [processor] = provider_with_endpoint._active_span_processor._span_processors
    assert isinstance(processor, BatchSpanProcessor)
    exporter = processor._batch_processor._exporter
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"
    assert provider_with_endpoint.resource.attributes["service.name"] == "partners"


def test_without_an_endpoint_nothing_is_exported_but_ids_exist() -> None:
    provider = _build_provider("partners", otlp_endpoint=None, sample_ratio=1.0)
    assert provider._active_span_processor._span_processors == ()
    with provider.get_tracer("tests").start_as_current_span("local"):
        assert current_trace_ids() != (None, None)


def test_unsampled_spans_still_give_logs_their_ids() -> None:
    provider = _build_provider("partners", otlp_endpoint=None, sample_ratio=0.0)
    with provider.get_tracer("tests").start_as_current_span("dropped") as span:
        assert not span.is_recording()
        trace_id, _ = current_trace_ids()
        assert trace_id == format(span.get_span_context().trace_id, "032x")
        traceparent = current_traceparent()
    assert traceparent is not None
    assert traceparent.split("-")[1] == trace_id
    assert not int(traceparent.split("-")[3], 16) & 1  # consumers continue it unsampled


@pytest.fixture
def asyncpg_instrumented() -> Iterator[None]:
    instrument_asyncpg()
    yield
    AsyncPGInstrumentor().uninstrument()


@pytest.mark.usefixtures("asyncpg_instrumented")
def test_instrumenting_asyncpg_wraps_its_queries_once() -> None:
    instrument_asyncpg()  # a second call is harmless
    assert AsyncPGInstrumentor().is_instrumented_by_opentelemetry
    assert hasattr(asyncpg.Connection.execute, "__wrapped__")
    assert not hasattr(asyncpg.Connection.execute.__wrapped__, "__wrapped__")


def test_an_operation_starts_its_own_trace_and_correlation_id(
    spans: InMemorySpanExporter,
) -> None:
    with started_operation("sweep") as first:
        first_traceparent = current_traceparent()
    with started_operation("sweep") as second:
        second_traceparent = current_traceparent()
    assert first_traceparent is not None
    assert second_traceparent is not None
    assert first_traceparent.split("-")[1] != second_traceparent.split("-")[1]
    assert first.correlation_id
    assert second.correlation_id
    assert first.correlation_id != second.correlation_id
    assert [span.name for span in spans.get_finished_spans()] == ["sweep", "sweep"]
    assert current_context().correlation_id is None  # nothing leaks past the operation


def test_an_operation_forgets_the_ids_of_whatever_started_it() -> None:
    with (
        bound_context(tenant_id="t-1", principal_id="u-1", request_id="r-1"),
        started_operation("sweep") as operation,
    ):
        assert (operation.tenant_id, operation.principal_id, operation.request_id) == (
            None,
            None,
            None,
        )
