"""Faster encoding and decoding of Kafka records (message format v2) for kafka-python, same bytes.

Why this exists: the ledger's records are CloudEvents in binary mode, so every record carries
thirteen `ce_*` headers. kafka-python 3.0 encodes and parses each header in pure Python, one
function call per varint and per byte (`encode_varint(..., bytearray.append)`), and the producer
computes each record's size once more on the way in. Measured on the 2-core development VM:
producing a ledger record cost ~30-45 µs of CPU against ~19-28 µs without its headers, consuming
one ~23-43 µs against ~8 µs. DESIGN §3 pins kafka-python (no librdkafka), so the hot paths get
their own encoder and decoder here instead:

- `FastRecordBatchBuilder.append` / `size_of`: a record in one `bytes.join` (varints of small
  numbers from a table, header names encoded once per name);
- `FastRecordBatch._read_msg`: a record parsed from an immutable copy of the batch (slices are
  the final `bytes`, varints below 64 read inline, header names decoded once per name).

Both produce exactly what kafka-python's `DefaultRecordBatchBuilder` / `DefaultRecordBatch`
produce — byte for byte, field for field (hypothesis property tests in
tests/consumers/test_fastrecords.py). Anything unusual (other key/value types, null keys,
negative lengths, a corrupt record) is handed to kafka-python's own code, so errors stay its
errors. The classes subclass kafka-python's and are installed by swapping the names kafka-python
looks them up by (`install()`, in the Kafka commands; `stock()` for the benchmark's bare
baselines); only the pinned kafka-python version is patched (`SUPPORTED_VERSION`), any other
runs stock with a warning.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator
from typing import Any

import kafka
import kafka.producer.kafka as _producer_module
import kafka.record.memory_records as _records_module
from kafka.record.default_records import (
    ControlRecord,
    DefaultRecord,
    DefaultRecordBatch,
    DefaultRecordBatchBuilder,
    DefaultRecordMetadata,
)
from kafka.record.util import encode_varint, size_of_varint

SUPPORTED_VERSION = "3.0.12"

# Zigzag varints of 0..N-1 (what kafka-python's encode_varint writes for them).
_TABLE_SIZE = 1 << 14


def _varint(value: int) -> bytes:
    out = bytearray()
    encode_varint(value, out.append)
    return bytes(out)


_VARINTS: list[bytes] = [_varint(i) for i in range(_TABLE_SIZE)]
_NULL = _varint(-1)
_MAX_CACHED_NAMES = 4_096
_ENCODED_NAMES: dict[str, bytes] = {}  # header name -> varint(len(utf-8)) + utf-8
_NAME_SIZES: dict[str, int] = {}  # header name -> len(varint) + len(utf-8)
_DECODED_NAMES: dict[bytes, str] = {}  # utf-8 -> header name


def _encoded_name(name: str) -> bytes:
    encoded = _ENCODED_NAMES.get(name)
    if encoded is None:
        raw = name.encode("utf-8")
        encoded = _varint(len(raw)) + raw
        if len(_ENCODED_NAMES) >= _MAX_CACHED_NAMES:
            _ENCODED_NAMES.clear()
            _NAME_SIZES.clear()
        _ENCODED_NAMES[name] = encoded
        _NAME_SIZES[name] = len(encoded)
    return encoded


class FastRecordBatchBuilder(DefaultRecordBatchBuilder):  # type: ignore[misc]
    """kafka-python's v2 batch builder with a faster `append` and `size_of` (same bytes)."""

    _first_timestamp: int | None
    _max_timestamp: int
    _last_offset: int
    _num_records: int
    _batch_size: int
    _buffer: bytearray

    def append(
        self, offset: Any, timestamp: Any, key: Any, value: Any, headers: Any, **kwargs: Any
    ) -> DefaultRecordMetadata | None:
        if (
            kwargs
            or type(offset) is not int
            or (timestamp is not None and type(timestamp) is not int)
            or type(key) is not bytes
            or type(value) is not bytes
        ):
            return super().append(offset, timestamp, key, value, headers, **kwargs)
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        varints = _VARINTS
        size = _TABLE_SIZE
        first_message = self._first_timestamp is None
        if first_message:
            self._first_timestamp = timestamp
            self._max_timestamp = timestamp
            timestamp_delta = 0
        else:
            timestamp_delta = timestamp - self._first_timestamp
        key_len = len(key)
        value_len = len(value)
        parts = [
            b"\x00",  # attributes
            varints[timestamp_delta] if 0 <= timestamp_delta < size else _varint(timestamp_delta),
            varints[offset] if 0 <= offset < size else _varint(offset),
            varints[key_len] if key_len < size else _varint(key_len),
            key,
            varints[value_len] if value_len < size else _varint(value_len),
            value,
            varints[len(headers)] if len(headers) < size else _varint(len(headers)),
        ]
        add = parts.append
        names = _ENCODED_NAMES
        for h_key, h_value in headers:
            encoded = names.get(h_key)
            add(encoded if encoded is not None else _encoded_name(h_key))
            if h_value is None:
                add(_NULL)
            else:
                length = len(h_value)
                add(varints[length] if length < size else _varint(length))
                add(h_value)
        message = b"".join(parts)
        message_len = len(message)
        prefix = varints[message_len] if message_len < size else _varint(message_len)
        required_size = message_len + len(prefix)
        main_buffer = self._buffer
        if required_size + len(main_buffer) > self._batch_size and not first_message:
            return None
        if self._max_timestamp < timestamp:
            self._max_timestamp = timestamp
        self._num_records += 1
        self._last_offset = offset
        main_buffer += prefix
        main_buffer += message
        return DefaultRecordMetadata(offset, required_size, timestamp)

    @classmethod
    def size_of(cls, key: Any, value: Any, headers: Any) -> int:
        size = 1 if key is None else size_of_varint(len(key)) + len(key)
        size += 1 if value is None else size_of_varint(len(value)) + len(value)
        size += size_of_varint(len(headers))
        sizes = _NAME_SIZES
        for h_key, h_value in headers:
            name_size = sizes.get(h_key)
            size += name_size if name_size is not None else len(_encoded_name(h_key))
            if h_value is None:
                size += 1
            else:
                length = len(h_value)
                size += (1 if length < 64 else size_of_varint(length)) + length
        return size


class FastRecordBatch(DefaultRecordBatch):  # type: ignore[misc]
    """kafka-python's v2 record batch with a faster `_read_msg` (same records)."""

    _pos: int
    _data: bytes | None

    def __init__(self, buffer: Any) -> None:
        super().__init__(buffer)
        self._data = None

    def _read_msg(self, *args: Any) -> Any:
        data = self._data
        if data is None or args:
            if args or self._decompressed is False:  # not iterating: leave it to kafka-python
                return super()._read_msg(*args)
            data = self._data = bytes(self._buffer)
        start = self._pos
        try:
            record = self._fast_read(data, start)
        except Exception:  # noqa: BLE001 - anything odd: kafka-python's own parser decides
            record = None
        if record is None:
            self._pos = start
            return self._stock_read()
        return record

    def _stock_read(self) -> Any:
        """kafka-python's own parser, for what `_fast_read` leaves to it."""
        return super()._read_msg()

    def _fast_read(self, data: bytes, pos: int) -> Any:
        """One record at `pos`, or None where kafka-python would raise or the input is unusual."""
        b = data[pos]
        if b < 0x80:
            length = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            length = (b & 0x7F) | (data[pos + 1] << 7)
            length = (length >> 1) ^ -(length & 1)
            pos += 2
        else:
            length, pos = _decode(data, pos)
        begin = pos
        pos += 1  # attributes: one byte in every v2 record (kafka-python skips them as a varint)
        if data[begin] >= 0x80:
            return None
        b = data[pos]
        if b < 0x80:
            ts_delta = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            ts_delta = (b & 0x7F) | (data[pos + 1] << 7)
            ts_delta = (ts_delta >> 1) ^ -(ts_delta & 1)
            pos += 2
        else:
            ts_delta, pos = _decode(data, pos)
        b = data[pos]
        if b < 0x80:
            offset_delta = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            offset_delta = (b & 0x7F) | (data[pos + 1] << 7)
            offset_delta = (offset_delta >> 1) ^ -(offset_delta & 1)
            pos += 2
        else:
            offset_delta, pos = _decode(data, pos)
        b = data[pos]
        if b < 0x80:
            key_len = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            key_len = (b & 0x7F) | (data[pos + 1] << 7)
            key_len = (key_len >> 1) ^ -(key_len & 1)
            pos += 2
        else:
            key_len, pos = _decode(data, pos)
        if key_len >= 0:
            key = data[pos : pos + key_len]
            pos += key_len
        else:
            key = None
        b = data[pos]
        if b < 0x80:
            value_len = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            value_len = (b & 0x7F) | (data[pos + 1] << 7)
            value_len = (value_len >> 1) ^ -(value_len & 1)
            pos += 2
        else:
            value_len, pos = _decode(data, pos)
        if value_len >= 0:
            value = data[pos : pos + value_len]
            pos += value_len
        else:
            value = None
        b = data[pos]
        if b < 0x80:
            count = (b >> 1) ^ -(b & 1)
            pos += 1
        elif data[pos + 1] < 0x80:  # two bytes
            count = (b & 0x7F) | (data[pos + 1] << 7)
            count = (count >> 1) ^ -(count & 1)
            pos += 2
        else:
            count, pos = _decode(data, pos)
        if count < 0:
            return None
        headers: list[tuple[str, bytes | None]] = []
        names = _DECODED_NAMES
        add = headers.append
        for _ in range(count):
            b = data[pos]
            if b < 0x80:
                name_len = (b >> 1) ^ -(b & 1)
                pos += 1
            elif data[pos + 1] < 0x80:  # two bytes
                name_len = (b & 0x7F) | (data[pos + 1] << 7)
                name_len = (name_len >> 1) ^ -(name_len & 1)
                pos += 2
            else:
                name_len, pos = _decode(data, pos)
            if name_len < 0:
                return None
            raw = data[pos : pos + name_len]
            pos += name_len
            name = names.get(raw)
            if name is None:
                name = raw.decode("utf-8")
                if len(names) >= _MAX_CACHED_NAMES:
                    names.clear()
                names[raw] = name
            b = data[pos]
            if b < 0x80:
                h_len = (b >> 1) ^ -(b & 1)
                pos += 1
            elif data[pos + 1] < 0x80:  # two bytes
                h_len = (b & 0x7F) | (data[pos + 1] << 7)
                h_len = (h_len >> 1) ^ -(h_len & 1)
                pos += 2
            else:
                h_len, pos = _decode(data, pos)
            if h_len >= 0:
                add((name, data[pos : pos + h_len]))
                pos += h_len
            else:
                add((name, None))
        if pos - begin != length or pos > len(data):
            return None
        self._pos = pos
        header = self._header_data
        attributes = header[5]
        timestamp_type = 1 if attributes & 0x08 else 0
        timestamp = header[8] if timestamp_type == 1 else header[7] + ts_delta
        cls = ControlRecord if attributes & 0x20 else DefaultRecord
        return cls(length, header[0] + offset_delta, timestamp, timestamp_type, key, value, headers)


def _decode(data: bytes, pos: int) -> tuple[int, int]:
    """A multi-byte zigzag varint (as kafka-python's decode_varint)."""
    result = data[pos] & 0x7F
    pos += 1
    shift = 7
    while True:
        b = data[pos]
        result |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift >= 64:
            raise ValueError("Out of int64 range")


def supported() -> bool:
    return str(kafka.__version__) == SUPPORTED_VERSION


def installed() -> bool:
    return _records_module.DefaultRecordBatch is FastRecordBatch


def install() -> bool:
    """Have kafka-python build and parse v2 batches with the classes above; False if not pinned."""
    if not supported():
        warnings.warn(
            f"kafka-python {kafka.__version__} is not {SUPPORTED_VERSION}: its own record code is used",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    _records_module.DefaultRecordBatch = FastRecordBatch
    _records_module.DefaultRecordBatchBuilder = FastRecordBatchBuilder
    _producer_module.DefaultRecordBatchBuilder = FastRecordBatchBuilder  # type: ignore[misc]
    return True


def uninstall() -> None:
    _records_module.DefaultRecordBatch = DefaultRecordBatch
    _records_module.DefaultRecordBatchBuilder = DefaultRecordBatchBuilder
    _producer_module.DefaultRecordBatchBuilder = DefaultRecordBatchBuilder  # type: ignore[misc]


@contextlib.contextmanager
def enabled() -> Iterator[bool]:
    """The classes above installed for the duration (yields whether they could be)."""
    was = installed()
    ok = install()
    try:
        yield ok
    finally:
        if not was:
            uninstall()


@contextlib.contextmanager
def stock() -> Iterator[None]:
    """kafka-python's own record code for the duration (the benchmark's bare baselines)."""
    was = installed()
    uninstall()
    try:
        yield
    finally:
        if was:
            install()
