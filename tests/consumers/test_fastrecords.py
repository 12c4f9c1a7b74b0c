"""consumers.fastrecords against kafka-python's own v2 record code: same bytes, same records."""

from __future__ import annotations

import struct
from typing import Any

import kafka
import kafka.producer.kafka as producer_module
import kafka.record.memory_records as records_module
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import DefaultPartitioner
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder

from consumers import fastrecords
from consumers.clients import keyed_partition
from consumers.fastrecords import FastRecordBatch, FastRecordBatchBuilder
from tests.consumers.fakes import Cluster

# Lengths around the varint boundaries (1 byte below 64, 2 below 8,192, 3 below 1,048,576) and the
# end of the encoder's table (16,384), so multi-byte lengths are exercised without huge examples.
LENGTHS = st.one_of(
    st.integers(0, 70),
    st.sampled_from([63, 64, 65, 127, 128, 8_191, 8_192, 8_193, 16_383, 16_384, 16_385, 70_000]),
)
BLOBS = LENGTHS.map(lambda n: bytes((i * 7 + 3) % 256 for i in range(n))) | st.binary(max_size=40)
NAMES = st.one_of(
    st.sampled_from(["ce_id", "ce_hash", "content-type", "ce_streamposition"]),
    st.text(max_size=20),
    st.text(min_size=64, max_size=80),  # a name whose length needs two varint bytes
)
HEADERS = st.lists(st.tuples(NAMES, st.one_of(st.none(), BLOBS)), max_size=20)
RECORD = st.tuples(st.one_of(st.none(), BLOBS), st.one_of(st.none(), BLOBS), HEADERS)
TIMESTAMPS = st.integers(0, 2**41)


def build(cls: Any, records: list[Any], timestamps: list[int], batch_size: int, **state: Any) -> tuple[bytes, list]:
    builder = cls(
        magic=2,
        compression_type=state.get("compression", 0),
        is_transactional=state.get("transactional", False),
        producer_id=state.get("producer_id", -1),
        producer_epoch=state.get("producer_epoch", -1),
        base_sequence=state.get("base_sequence", -1),
        batch_size=batch_size,
    )
    results = []
    for offset, ((key, value, headers), timestamp) in enumerate(zip(records, timestamps, strict=True)):
        meta = builder.append(offset, timestamp, key, value, headers)
        results.append(None if meta is None else (meta.offset, meta.size, meta.timestamp))
        if meta is None:
            break
    return bytes(builder.build()), results


class FastOnly(FastRecordBatch):  # type: ignore[misc]
    """Fails the test when a valid record is left to kafka-python's parser (that would hide bugs
    of the fast path behind the fallback)."""

    def _stock_read(self) -> Any:
        pytest.fail("a valid record was left to kafka-python's parser")


def read(cls: Any, buffer: bytes) -> list[tuple]:
    batch = cls(buffer)
    return [
        (
            type(r).__name__,
            r.size_in_bytes,
            r.offset,
            r.timestamp,
            r.timestamp_type,
            r.key,
            r.value,
            r.headers,
        )
        for r in batch
    ]


def outcome(cls: Any, buffer: bytes) -> Any:
    """The records read, or the error raised (kafka-python raises CorruptRecordError and others)."""
    try:
        return ("ok", read(cls, buffer))
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return ("error", type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(RECORD, min_size=1, max_size=12),
    base=TIMESTAMPS,
    deltas=st.lists(st.integers(-(2**20), 2**35), min_size=12, max_size=12),
    batch_size=st.sampled_from([64, 1_000, 20_000, 1 << 20]),
    idempotent=st.booleans(),
)
def test_the_builder_writes_the_same_bytes_and_the_batch_reads_the_same_records(
    records: list[Any], base: int, deltas: list[int], batch_size: int, idempotent: bool
) -> None:
    timestamps = [base] + [max(base + d, 0) for d in deltas[: len(records) - 1]]
    state = {"producer_id": 4711, "producer_epoch": 3, "base_sequence": 99} if idempotent else {}
    stock, stock_meta = build(DefaultRecordBatchBuilder, records, timestamps, batch_size, **state)
    fast, fast_meta = build(FastRecordBatchBuilder, records, timestamps, batch_size, **state)
    assert fast == stock
    assert fast_meta == stock_meta
    assert read(FastOnly, stock) == read(DefaultRecordBatch, stock)
    for key, value, headers in records:
        assert FastRecordBatchBuilder.size_of(key, value, headers) == DefaultRecordBatchBuilder.size_of(
            key, value, headers
        )
        assert FastRecordBatchBuilder.estimate_size_in_bytes(
            key, value, headers
        ) == DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)


@settings(max_examples=100, deadline=None)
@given(records=st.lists(RECORD, min_size=1, max_size=5), log_append=st.booleans(), control=st.booleans())
@example(records=[(b"k", b"v", [("ce_id", b"1")]), (None, None, [])], log_append=True, control=False)
@example(records=[(b"k", b"v", [("ce_id", b"1")]), (None, None, [])], log_append=False, control=False)
def test_batch_attributes_and_base_offset_are_honoured(records: list[Any], log_append: bool, control: bool) -> None:
    """Broker-set fields: base offset, log-append time, control batches."""
    buffer = bytearray(build(DefaultRecordBatchBuilder, records, [1_000 + i for i in range(len(records))], 1 << 20)[0])
    header = list(DefaultRecordBatch.HEADER_STRUCT.unpack_from(buffer))
    header[0] = 123_456_789  # base offset
    header[5] |= (0x08 if log_append else 0) | (0x20 if control else 0)
    header[8] = 5_000_000  # max timestamp
    DefaultRecordBatch.HEADER_STRUCT.pack_into(buffer, 0, *header)
    expected = outcome(DefaultRecordBatch, bytes(buffer))
    assert outcome(FastOnly if expected[0] == "ok" else FastRecordBatch, bytes(buffer)) == expected


def test_control_records_read_the_same() -> None:
    records = [(struct.pack(">hh", 0, kind), b"\x00\x00\x00\x00\x00\x00", []) for kind in (0, 1)]
    buffer = bytearray(build(DefaultRecordBatchBuilder, records, [1, 2], 1 << 20)[0])
    header = list(DefaultRecordBatch.HEADER_STRUCT.unpack_from(buffer))
    header[5] |= 0x20
    DefaultRecordBatch.HEADER_STRUCT.pack_into(buffer, 0, *header)
    fast = [(r.type, r.abort, r.commit) for r in FastOnly(bytes(buffer))]
    assert fast == [(r.type, r.abort, r.commit) for r in DefaultRecordBatch(bytes(buffer))]
    assert fast == [(0, True, False), (1, False, True)]


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(RECORD, min_size=1, max_size=4),
    position=st.integers(0, 10_000),
    byte=st.integers(0, 255),
    cut=st.integers(0, 10_000),
)
def test_corrupt_records_fail_as_kafka_python_fails(records: list[Any], position: int, byte: int, cut: int) -> None:
    buffer = bytearray(build(DefaultRecordBatchBuilder, records, [7] * len(records), 1 << 20)[0])
    start = DefaultRecordBatch.HEADER_STRUCT.size
    if len(buffer) > start:
        buffer[start + position % (len(buffer) - start)] = byte
        del buffer[max(start, len(buffer) - cut % 50) :][: cut % 3]

    assert outcome(FastRecordBatch, bytes(buffer)) == outcome(DefaultRecordBatch, bytes(buffer))


def test_compressed_batches_read_the_same() -> None:
    records = [(b"k%d" % i, b"v" * (i * 50), [("ce_id", b"x" * i)]) for i in range(30)]
    builder = MemoryRecordsBuilder(magic=2, compression_type=1, batch_size=1 << 20)  # gzip
    for i, (key, value, headers) in enumerate(records):
        builder.append(1_000 + i, key, value, headers)
    builder.close()
    buffer = bytes(builder.buffer())
    assert DefaultRecordBatch(buffer).compression_type == 1
    assert read(FastOnly, buffer) == read(DefaultRecordBatch, buffer)


def test_other_types_go_through_kafka_python() -> None:
    """bytearray/memoryview keys and values, and kafka-python's own type errors."""
    for cls in (DefaultRecordBatchBuilder, FastRecordBatchBuilder):
        with pytest.raises(TypeError):
            cls(2, 0, False, -1, -1, -1, 1 << 20).append(0, 1, "text", b"v", [])
        with pytest.raises(TypeError):
            cls(2, 0, False, -1, -1, -1, 1 << 20).append(1.0, 1, b"k", b"v", [])
    args = [(0, 10, bytearray(b"k"), memoryview(b"v"), [("h", bytearray(b"x"))]), (1, None, b"k2", b"v2", [])]
    stock = DefaultRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    fast = FastRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    stock.append(*args[0])
    fast.append(*args[0])
    assert bytes(fast._buffer) == bytes(stock._buffer)


def test_install_swaps_what_kafka_python_looks_up_and_stock_restores_it() -> None:
    assert str(kafka.__version__) == fastrecords.SUPPORTED_VERSION, "kafka-python moved: re-check fastrecords"
    was = fastrecords.installed()
    try:
        with fastrecords.enabled() as ok:
            assert ok
            assert records_module.DefaultRecordBatch is FastRecordBatch
            assert records_module.DefaultRecordBatchBuilder is FastRecordBatchBuilder
            assert producer_module.DefaultRecordBatchBuilder is FastRecordBatchBuilder
            builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
            builder.append(5, b"key", b"value", [("ce_id", b"1")])
            builder.close()
            batch = MemoryRecords(bytes(builder.buffer())).next_batch()
            assert isinstance(batch, FastRecordBatch)
            assert [(r.key, r.value, r.headers) for r in batch] == [(b"key", b"value", [("ce_id", b"1")])]
            with fastrecords.stock():
                assert records_module.DefaultRecordBatch is DefaultRecordBatch
                assert producer_module.DefaultRecordBatchBuilder is DefaultRecordBatchBuilder
            assert fastrecords.installed()
    finally:
        (fastrecords.install if was else fastrecords.uninstall)()


def test_other_kafka_python_versions_stay_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    was = fastrecords.installed()
    fastrecords.uninstall()
    try:
        monkeypatch.setattr(kafka, "__version__", "3.1.0")
        with pytest.warns(RuntimeWarning, match="3.1.0"):
            assert fastrecords.install() is False
        assert not fastrecords.installed()
    finally:
        monkeypatch.undo()
        (fastrecords.install if was else fastrecords.uninstall)()


@given(key=st.binary(min_size=0, max_size=80), partitions=st.integers(1, 64))
def test_keyed_partition_is_the_default_partitioners_choice(key: bytes, partitions: int) -> None:
    cluster = Cluster(partitions)
    expected = DefaultPartitioner().partition("t", key, key, None, None, cluster)
    assert keyed_partition(key, sorted(cluster.partitions)) == expected


def test_a_known_murmur2_partition() -> None:
    """Java's client puts key b"foobar" on partition 2 of 12 (murmur2 = -790332482)."""
    assert keyed_partition(b"foobar", list(range(12))) == (-790332482 & 0x7FFFFFFF) % 12


def test_header_struct_is_what_fastrecords_reads() -> None:
    """`_fast_read` reads base offset, attributes and the timestamps by index from the header."""
    assert DefaultRecordBatch.HEADER_STRUCT.format == ">qiibIhiqqqhii"
    assert struct.calcsize(DefaultRecordBatch.HEADER_STRUCT.format) == 61
