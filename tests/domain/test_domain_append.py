"""Append results and every rejection code of contract §2, through `LedgerService.append`.

Each rejection asserts the exact code, the message's gist and the JSON path of the offending field.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.results import MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from ledger.bootstrap import Ledger
from tests.domain.support import accept, append, open_test_ledger, reject
from tests.factories import claim_filed, decided, example, receipt, retracted_contact, subject

A, B = subject(1), subject(2)


def filed(address: str = A, claim_id: str = "C-1", **kw: Any) -> dict[str, Any]:
    return claim_filed(address, claim_id, time="2021-03-01T09:00:00Z", **kw)


def without(event: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(event)
    del out[key]
    return out


def with_(event: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(event), **attributes}


def with_data(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out["data"].update(fields)
    return out


def check(result: Any, code: str, path: str | None, *message_parts: str) -> None:
    assert (result.result, result.code, result.path) == ("rejected", code, path), result
    for part in message_parts:
        assert result.message is not None and part in result.message, result.message


# accepted and duplicate ----------------------------------------------------------------------
def test_an_accepted_event_gets_position_recordedtime_and_hash(ledger: Ledger) -> None:
    (result,) = accept(ledger, filed())
    assert (result.line, result.streamposition, result.recordedtime) == (1, 1, "2025-01-01T12:00:00.000000Z")
    stored = ledger.log.read_stream(A)[0]
    assert result.hash == stored["hash"] and len(result.hash) == 64
    assert result.as_dict().keys() == {
        "line",
        "id",
        "result",
        "code",
        "message",
        "path",
        "streamposition",
        "recordedtime",
        "hash",
    }


def test_a_duplicate_gets_the_originals_position_and_hash(ledger: Ledger, tmp_path: Path) -> None:
    first, second = filed(), receipt(A, "C-1", time="2021-03-02T09:00:00Z")
    originals = accept(ledger, first, second)
    again = append(ledger, second, first)
    assert [(r.result, r.streamposition, r.hash) for r in again] == [
        ("duplicate", 2, originals[1].hash),
        ("duplicate", 1, originals[0].hash),
    ]
    ledger.close()
    with open_test_ledger(tmp_path) as reopened:  # the id index survives a restart
        (later,) = append(reopened, first)
        assert (later.result, later.streamposition, later.hash) == ("duplicate", 1, originals[0].hash)
        assert reopened.log.max_position() == 2


def test_identical_content_is_compared_after_normalisation(ledger: Ledger) -> None:
    event = filed()
    (original,) = accept(ledger, event)
    same_moment = with_(event, time="2021-03-01T10:00:00.000+01:00", actor=None)
    (result,) = append(ledger, same_moment)
    assert (result.result, result.hash) == ("duplicate", original.hash)


def test_a_duplicate_within_one_batch(ledger: Ledger) -> None:
    event = filed()
    results = append(ledger, event, event)
    assert [(r.result, r.streamposition) for r in results] == [("accepted", 1), ("duplicate", 1)]
    assert results[0].hash == results[1].hash
    assert ledger.log.max_position() == 1


# schema_invalid ------------------------------------------------------------------------------
def test_not_json(ledger: Ledger) -> None:
    results = append(ledger, b'{"specversion": "1.0", ', b"", b"\xff\xfe", principal="IMG")
    for result in results:
        check(result, "schema_invalid", None, "not valid JSON")
        assert result.id is None


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (b'"subject":', b'"subject":"0014200000000002","subject":', "$.subject"),
        (b'"data":{', b'"data":{"claim_id":"C-9",', "$.data.claim_id"),
        (b'"data":{', b'"data":{"claim_\\u0069d":"C-9",', "$.data.claim_id"),  # the same key, escaped
    ],
)
def test_a_key_that_appears_twice_is_schema_invalid(ledger: Ledger, old: bytes, new: bytes, path: str) -> None:
    """Events §1 (1.1): two parsers must never read two different events from one submission."""
    line = orjson.dumps(filed()).replace(old, new, 1)
    assert line.count(new) == 1
    check(append(ledger, line, principal="IMG")[0], "schema_invalid", path, "more than once")
    assert ledger.log.max_position() == 0


def test_the_same_key_in_different_objects_is_no_duplicate(ledger: Ledger) -> None:
    claim = accept(ledger, filed())[0]
    replacement = {**filed()["data"], "route": "fixed_payment"}
    correction = example("EventCorrected", A, {"corrects": claim.id, "data": replacement, "reason": "typo"})
    assert orjson.dumps(correction).count(b'"data"') == 2  # at the top and inside the correction's data
    assert append(ledger, orjson.dumps(correction), principal="IMG")[0].result == "accepted"


def test_not_an_object(ledger: Ledger) -> None:
    check(append(ledger, b"[1, 2]", principal="IMG")[0], "schema_invalid", "$", "JSON object")


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "subject", "time", "org", "data"])
def test_a_missing_attribute(ledger: Ledger, attribute: str) -> None:
    result = reject(ledger, without(filed(), attribute), "IMG")
    check(result, "schema_invalid", f"$.{attribute}", f"missing required field $.{attribute}")


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("specversion", "0.3"),
        ("id", "C-1"),
        ("id", "3f2a0b12-0456-4789-8123-0a1b2c3d4e5"),
        ("source", "urn:nl:img schadesysteem"),
        ("source", ""),
        ("subject", "0014100000000001"),
        ("subject", "001420000000001"),
        ("time", "2021-03-01 09:00:00Z"),
        ("time", "2021-03-01T09:00:00"),
        ("time", "1 maart 2021"),
        ("org", "img"),
        ("org", "GEMEENTE"),
        ("actor", "Jan Jansen"),
        ("correlationid", "not-a-uuid"),
        ("causationid", 7),
        ("datacontenttype", "text/plain"),
        ("data", ["claim_id", "C-1"]),
    ],
)
def test_a_malformed_attribute(ledger: Ledger, attribute: str, value: Any) -> None:
    check(reject(ledger, with_(filed(), **{attribute: value}), "IMG"), "schema_invalid", f"$.{attribute}")


@pytest.mark.parametrize(
    "value", ["2021-02-30T09:00:00Z", "2021-03-01T25:00:00Z", "2021-02-29T09:00:00.000000Z", "2021-03-01T09:00:60Z"]
)
def test_an_impossible_time_is_malformed(ledger: Ledger, value: str) -> None:
    check(reject(ledger, with_(filed(), time=value), "IMG"), "schema_invalid", "$.time", "RFC 3339")


def test_a_time_whose_utc_form_is_out_of_range_is_malformed(ledger: Ledger) -> None:
    check(reject(ledger, with_(filed(), time="0001-01-01T00:30:00+01:00"), "IMG"), "schema_invalid", "$.time")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2021-03-01T10:00:00+01:00", "2021-03-01T09:00:00.000000Z"),
        ("2021-03-01t09:00:00z", "2021-03-01T09:00:00.000000Z"),
        ("2021-03-01T09:00:00.123456789Z", "2021-03-01T09:00:00.123456Z"),
        ("2021-03-01T09:00:00.5-02:00", "2021-03-01T11:00:00.500000Z"),
    ],
)
def test_times_are_stored_in_utc_with_microseconds(ledger: Ledger, given: str, stored: str) -> None:
    accept(ledger, with_(filed(), time=given))
    assert ledger.log.read_stream(A)[0]["time"] == stored


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("ClaimReceiptConfirmed", "decision_term_days", "182"),
        ("ClaimReceiptConfirmed", "decision_term_days", 182.0),
        ("ClaimReceiptConfirmed", "decision_term_days", True),
        ("DamageInspectionCompleted", "joint_with_ncg", "true"),
        ("DamageInspectionCompleted", "joint_with_ncg", 1),
        ("ClaimDecided", "amount_cents", -1),
        ("ClaimDecided", "claim_ids", "C-1"),
        ("ClaimDecided", "claim_ids", []),
        ("DamageClaimFiled", "claim_type", "PHYSICAL"),
        ("ClaimReceiptConfirmed", "decision_term_days", 731),
        ("AddressRegistered", "postcode", "0712AB"),
        ("AddressRegistered", "pand_id", "0014200000000001"),
        ("IntegratedApproachAgreed", "components", ["coordinator", "lunch"]),
    ],
)
def test_a_data_field_of_the_wrong_type_or_form(ledger: Ledger, name: str, field: str, value: Any) -> None:
    result = reject(ledger, example(name, A, {**example(name, A)["data"], field: value}))
    assert (result.code, result.path) in {
        ("schema_invalid", f"$.data.{field}"),
        ("schema_invalid", f"$.data.{field}[1]"),
    }


def test_the_path_names_the_list_item(ledger: Ledger) -> None:
    bad = decided(A, "D-1", ["C-1", 5])
    check(reject(ledger, bad), "schema_invalid", "$.data.claim_ids[1]")


def test_a_missing_data_field(ledger: Ledger) -> None:
    event = filed()
    del event["data"]["route"]
    check(reject(ledger, event), "schema_invalid", "$.data.route", "missing required field $.data.route")


def test_unknown_fields(ledger: Ledger) -> None:
    check(reject(ledger, with_data(filed(), colour="red")), "schema_invalid", "$.data.colour", "unknown field")
    check(reject(ledger, with_(filed(), colour="red")), "schema_invalid", "$.colour", "unknown field")
    check(reject(ledger, with_(example("ConstructionStarted", A), data={"x": 1})), "schema_invalid", "$.data.x")


@pytest.mark.parametrize("attribute", ["recordedtime", "streamposition", "prevhash", "hash"])
def test_a_ledger_set_attribute_from_a_publisher(ledger: Ledger, attribute: str) -> None:
    value = {"recordedtime": "2021-03-01T09:00:00Z", "streamposition": 1}.get(attribute, "0" * 64)
    result = reject(ledger, with_(filed(), **{attribute: value}), "IMG")
    check(result, "schema_invalid", f"$.{attribute}", "set by the ledger")


def test_optional_nulls_are_left_out(ledger: Ledger) -> None:
    event = with_(example("AddressRegistered", A, {"postcode": "9712AB", "huisnummer": 1, "gemeentecode": "0014"}))
    event["data"]["huisletter"] = None
    event["actor"] = None
    accept(ledger, event)
    stored = ledger.log.read_stream(A)[0]
    assert "actor" not in stored and "huisletter" not in stored["data"]


# unknown_type --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event_type",
    [
        "nl.groningen.img.DamageClaimFiled.v2",
        "nl.groningen.img.DamageClaimRegistered.v1",
        "nl.groningen.ncg.DamageClaimFiled.v1",
    ],
)
def test_an_unknown_type_or_version(ledger: Ledger, event_type: str) -> None:
    check(reject(ledger, with_(filed(), type=event_type)), "unknown_type", "$.type", event_type)


def test_a_type_outside_the_naming_scheme_is_malformed(ledger: Ledger) -> None:
    # Reading chosen: a type that does not follow §1's `nl.groningen.<org>.<EventName>.v<N>` is a
    # malformed attribute (schema_invalid); a well-formed type the catalogue lacks is unknown_type.
    for event_type in ("com.example.DamageClaimFiled.v1", "nl.groningen.gemeente.X.v1", "DamageClaimFiled"):
        check(reject(ledger, with_(filed(), type=event_type)), "schema_invalid", "$.type")


# not_authorized ------------------------------------------------------------------------------
def test_an_unknown_principal(ledger: Ledger) -> None:
    check(reject(ledger, filed(), "GEMEENTE"), "not_authorized", None, "R1", "GEMEENTE")


# id_conflict ---------------------------------------------------------------------------------
def test_an_id_accepted_before_with_different_content(ledger: Ledger) -> None:
    event = filed()
    accept(ledger, event)
    for changed in (
        with_data(event, channel="phone"),
        with_(event, time="2021-03-02T09:00:00Z"),
        with_(event, subject=B),
        with_(event, actor="someone-else"),
    ):
        check(reject(ledger, changed), "id_conflict", "$.id", "different content")


def test_an_id_conflict_within_one_batch(ledger: Ledger) -> None:
    event = filed()
    results = append(ledger, event, with_data(event, channel="phone"))
    assert [(r.result, r.code, r.path) for r in results] == [
        ("rejected", "id_conflict", None),  # all or nothing for the address
        ("rejected", "id_conflict", "$.id"),
    ]
    assert results[0].message is not None and "line 2" in results[0].message
    assert ledger.log.max_position() == 0


# version_conflict ----------------------------------------------------------------------------
def test_an_expected_position_that_holds(ledger: Ledger) -> None:
    accept(ledger, filed())
    results = append(ledger, receipt(A, "C-1", time="2021-03-02T09:00:00Z"), filed(B), expected={A: 1, B: 0})
    assert [(r.result, r.streamposition) for r in results] == [("accepted", 2), ("accepted", 1)]


def test_an_expected_position_that_moved_on(ledger: Ledger) -> None:
    accept(ledger, filed())
    stale = receipt(A, "C-1", time="2021-03-02T09:00:00Z")
    check(reject(ledger, stale, expected={A: 0}), "version_conflict", None, "expected stream position 0", "at 1")


# personal_data -------------------------------------------------------------------------------
BSN = "123456782"  # the eleven-test's textbook example


@pytest.mark.parametrize(
    ("event", "path"),
    [
        (claim_filed(A, BSN), "$.data.claim_id"),
        (decided(A, "D-1", ["C-1", BSN]), "$.data.claim_ids[1]"),
        (example("ConsentToDataExchangeGiven", A, {"party_ref": "111222333", "scope": "both"}), "$.data.party_ref"),
        (with_(filed(), actor=BSN), "$.actor"),
    ],
)
def test_a_bsn_as_identifier(ledger: Ledger, event: dict[str, Any], path: str) -> None:
    check(reject(ledger, event), "personal_data", path, "eleven-test")


def test_nine_digit_identifiers_that_are_no_bsn_pass(ledger: Ledger) -> None:
    # `C123456782` is one token: its digits are no number of their own (`C-123456782` would be, §6 1.1)
    accept(ledger, claim_filed(A, "123456789"), claim_filed(A, "C123456782"), with_(filed(B), actor="123456789"))


@pytest.mark.parametrize(
    ("reason", "what"),
    [
        ("op verzoek van bsn 123456782", "BSN"),
        ("terugbetaald naar NL91ABNA0417164300", "IBAN"),
        ("terugbetaald naar NL91 ABNA 0417 1643 00", "IBAN"),
        ("bewoner mailde jan.jansen@example.nl", "e-mail"),
        ("teruggebeld op 06-12345678", "phone"),
        ("teruggebeld op 06 1234 5678", "phone"),
        ("teruggebeld op +31 6 12345678", "phone"),
        ("teruggebeld op +31612345678", "phone"),
        ("teruggebeld op 0031 50 123 4567", "phone"),
        ("teruggebeld op 050-1234567", "phone"),
        ("teruggebeld op (050) 123 45 67", "phone"),
        ("teruggebeld op +31 (0)50 1234567", "phone"),
    ],
)
@pytest.mark.parametrize("amendment", ["EventRetracted", "EventCorrected"])
def test_personal_data_in_a_reason(ledger: Ledger, reason: str, what: str, amendment: str) -> None:
    contact = example("ContactMade", A, time="2021-03-01T09:00:00Z")
    accept(ledger, contact)
    data: dict[str, Any] = {"reason": reason}
    data.update({"retracts": contact["id"]} if amendment == "EventRetracted" else {})
    data.update({"corrects": contact["id"], "data": contact["data"]} if amendment == "EventCorrected" else {})
    check(reject(ledger, example(amendment, A, data)), "personal_data", "$.data.reason", what)


@pytest.mark.parametrize(
    "reason",
    [
        "verkeerd adres: hoort bij 0014200000000002, pand 0014100000000001, vbo 0014010000000001",
        "postcode 9712AB en 9712 AB verwisseld",
        "datum 2021-03-04 moest 2021-05-06 zijn",
        "besluit van 01-03-2021 12:00 vervangen",
        "tijdstip 2021-03-04T09:00:00.123456789Z",
        "bedrag 1.234,56 euro i.p.v. 123456 cent, totaal € 12.345.678,90",
        "dubbel met 01234567-0123-4567-89ab-0123456789ab",
        "dubbel met 3f2a0b12-0456-4789-8123-a123456782bc",
        "claimnummer C-123456789 en termijn 182 dagen",
        "",
    ],
)
def test_the_guard_does_not_trip_over_the_ledgers_own_formats(ledger: Ledger, reason: str) -> None:
    accept(ledger, *retracted_contact(A, reason))


def test_a_bsn_run_inside_a_reference_in_free_text_still_counts(ledger: Ledger) -> None:
    # §6 literally: a free-text field containing a run of exactly nine digits that passes the test.
    contact, retraction = retracted_contact(A, "zie claim C-123456782")
    accept(ledger, contact)
    check(reject(ledger, retraction), "personal_data", "$.data.reason", "BSN")


def test_personal_data_in_the_replacement_data_of_a_correction(ledger: Ledger) -> None:
    event = filed()
    accept(ledger, event)
    fix = example("EventCorrected", A, {"corrects": event["id"], "data": {**event["data"], "claim_id": BSN}})
    fix["data"]["reason"] = "claimnummer"
    check(reject(ledger, fix), "personal_data", "$.data.data.claim_id")


# too_large -----------------------------------------------------------------------------------
def test_an_event_over_64_kib(ledger: Ledger) -> None:
    big = with_data(filed(), padding="x" * MAX_EVENT_BYTES)
    raw = orjson.dumps(big)
    for item in (raw, raw.decode(), big):
        check(append(ledger, item, principal="IMG")[0], "too_large", None, str(MAX_EVENT_BYTES))


def test_the_size_limit_counts_utf8_bytes(ledger: Ledger) -> None:
    # 40,000 characters of "ö" are 80,000 bytes: too large whether submitted as bytes or as text.
    text = orjson.dumps(with_data(filed(), padding="ö" * 40_000)).decode()
    assert len(text) < MAX_EVENT_BYTES < len(text.encode())
    check(append(ledger, text, principal="IMG")[0], "too_large", None)


def test_an_event_just_under_the_limit_is_judged_on_its_content(ledger: Ledger) -> None:
    base = orjson.dumps(with_data(filed(), padding=""))
    fitting = with_data(filed(), padding="x" * (MAX_EVENT_BYTES - len(base)))
    assert len(orjson.dumps(fitting)) == MAX_EVENT_BYTES
    check(append(ledger, orjson.dumps(fitting), principal="IMG")[0], "schema_invalid", "$.data.padding")


def test_a_batch_over_10000_events(ledger: Ledger) -> None:
    events = [filed(subject(i)) for i in range(MAX_BATCH_EVENTS + 1)]
    results = append(ledger, *events)
    assert len(results) == MAX_BATCH_EVENTS + 1
    assert {(r.result, r.code) for r in results} == {("rejected", "too_large")}
    assert [r.line for r in results[:3]] == [1, 2, 3]
    assert ledger.log.max_position() == 0


def test_a_dict_that_is_no_json_is_schema_invalid(ledger: Ledger) -> None:
    bad = with_data(filed(), claim_id="\ud800")  # a lone surrogate cannot be UTF-8
    check(append(ledger, bad, principal="IMG")[0], "schema_invalid", None)
    accept(ledger, filed(B))


# batches: all or nothing per address ---------------------------------------------------------
def test_a_rule_violation_rejects_the_addresses_other_events_in_the_batch(ledger: Ledger) -> None:
    batch = [filed(A), filed(B), decided(A, "D-1", ["NOPE"]), receipt(B, "C-1", time="2021-03-02T09:00:00Z")]
    results = append(ledger, *batch)
    assert [(r.result, r.code) for r in results] == [
        ("rejected", "rule_violated"),
        ("accepted", None),
        ("rejected", "rule_violated"),
        ("accepted", None),
    ]
    assert results[0].message is not None and "line 3" in results[0].message
    assert results[2].message is not None and results[2].message.startswith("R2: ")
    assert ledger.log.read_stream(A) == []
    assert [e["streamposition"] for e in ledger.log.read_stream(B)] == [1, 2]
    accept(ledger, filed(A))  # the cached state of A was rolled back


@pytest.mark.parametrize(
    "bad",
    [
        with_data(receipt(A, "C-1"), decision_term_days="soon"),
        with_(receipt(A, "C-1"), org="NCG"),
        receipt(A, "123456782"),
        with_(receipt(A, "C-1"), type="nl.groningen.img.ClaimReceiptConfirmed.v9"),
    ],
    ids=["schema_invalid", "not_authorized", "personal_data", "unknown_type"],
)
def test_any_rejection_rejects_the_addresses_other_events_in_the_batch(ledger: Ledger, bad: dict) -> None:
    # Contract §2: "the events of one address are accepted together or not at all", whatever the
    # reason one of them is refused (as long as it names its address).
    results = append(ledger, filed(A), filed(B), bad, principal="IMG")
    assert [r.result for r in results] == ["rejected", "accepted", "rejected"]
    assert results[0].code == results[2].code
    assert results[0].message is not None and "line 3" in results[0].message
    assert ledger.log.read_stream(A) == []


def test_an_event_without_a_readable_address_is_rejected_on_its_own(ledger: Ledger) -> None:
    results = append(ledger, filed(A), b"{oops", with_(filed(B), subject="nowhere"), principal="IMG")
    assert [r.result for r in results] == ["accepted", "rejected", "rejected"]
    assert [r.path for r in results[1:]] == [None, "$.subject"]


def test_a_duplicate_stays_a_duplicate_when_its_address_fails_in_the_batch(ledger: Ledger) -> None:
    old = filed(A)
    (original,) = accept(ledger, old)
    results = append(ledger, old, decided(A, "D-1", ["NOPE"]), old)
    assert [(r.result, r.streamposition, r.hash) for r in results] == [
        ("duplicate", 1, original.hash),
        ("rejected", None, None),
        ("duplicate", 1, original.hash),
    ]


def test_results_keep_the_input_order_and_lines(ledger: Ledger) -> None:
    results = ledger.service.append([filed(B), b"nope", filed(A)], "IMG", first_line=10)
    assert [(r.line, r.result) for r in results] == [(10, "accepted"), (11, "rejected"), (12, "accepted")]


# import mode ---------------------------------------------------------------------------------
def imported(event: dict[str, Any], recordedtime: str | None) -> dict[str, Any]:
    return with_(event, recordedtime=recordedtime) if recordedtime else copy.deepcopy(event)


def test_import_keeps_the_original_recordedtime(ledger: Ledger) -> None:
    results = ledger.service.append(
        [
            imported(filed(A), "2021-03-01T10:30:00+01:00"),
            imported(filed(B), "2021-03-01T09:00:00Z"),
            imported(receipt(A, "C-1", time="2021-03-02T09:00:00Z"), "2021-03-02T09:00:00Z"),
        ],
        None,
        importing=True,
    )
    assert [(r.result, r.recordedtime) for r in results] == [
        ("accepted", "2021-03-01T09:30:00.000000Z"),
        ("accepted", "2021-03-01T09:00:00.000000Z"),
        ("accepted", "2021-03-02T09:00:00.000000Z"),
    ]
    assert [e["recordedtime"] for e in ledger.log.read_stream(A)] == [results[0].recordedtime, results[2].recordedtime]


def test_import_needs_recordedtime(ledger: Ledger) -> None:
    (result,) = ledger.service.append([filed()], None, importing=True)
    check(result, "schema_invalid", "$.recordedtime", "original recordedtime")
    (result,) = ledger.service.append([imported(filed(), "gisteren")], None, importing=True)
    check(result, "schema_invalid", "$.recordedtime")
    # null means absent (contract §5): the same refusal, not a crash (found by test_precheck's property)
    (result,) = ledger.service.append([{**filed(), "recordedtime": None}], None, importing=True)
    check(result, "schema_invalid", "$.recordedtime", "original recordedtime")


def test_import_recordedtime_not_before_time(ledger: Ledger) -> None:
    (result,) = ledger.service.append([imported(filed(), "2021-03-01T08:59:59Z")], None, importing=True)
    check(result, "rule_violated", "$.recordedtime", "R7", "before the event's time")


def test_import_recordedtime_non_decreasing_per_address(ledger: Ledger) -> None:
    first = ledger.service.append([imported(filed(A), "2021-03-05T00:00:00Z")], None, importing=True)
    assert first[0].result == "accepted"
    late = imported(receipt(A, "C-1", time="2021-03-02T09:00:00Z"), "2021-03-04T00:00:00Z")
    check(ledger.service.append([late], None, importing=True)[0], "rule_violated", "$.recordedtime", "R7")
    other = imported(filed(B), "2021-03-04T00:00:00Z")  # another address has its own order
    assert ledger.service.append([other], None, importing=True)[0].result == "accepted"
    same = imported(receipt(A, "C-1", time="2021-03-02T09:00:00Z"), "2021-03-05T00:00:00Z")
    assert ledger.service.append([same], None, importing=True)[0].result == "accepted"


def test_import_recordedtime_not_in_the_future(ledger: Ledger) -> None:
    future = imported(filed(), "2025-01-02T00:00:00Z")  # the clock is 2025-01-01T12:00Z
    check(ledger.service.append([future], None, importing=True)[0], "rule_violated", "$.recordedtime", "R7", "future")


def test_import_recordedtime_allows_the_same_clock_skew_as_time(ledger: Ledger) -> None:
    # Reading chosen for "not in the future": the 5 minutes of clock tolerance R7 gives `time`.
    edge = imported(filed(A), "2025-01-01T12:05:00Z")
    beyond = imported(filed(B), "2025-01-01T12:05:00.000001Z")
    results = ledger.service.append([edge, beyond], None, importing=True)
    assert [(r.result, r.code, r.path) for r in results] == [
        ("accepted", None, None),
        ("rejected", "rule_violated", "$.recordedtime"),
    ]


def test_import_trusts_the_events_org_but_checks_its_emitters(ledger: Ledger) -> None:
    ncg = imported(example("AddressAddedToProgramme", A, time="2021-03-01T09:00:00Z"), "2021-03-01T09:00:00Z")
    bad = imported(with_(filed(B), org="NCG"), "2021-03-01T09:00:00Z")
    results = ledger.service.append([ncg, bad], None, importing=True)
    assert [(r.result, r.code) for r in results] == [("accepted", None), ("rejected", "not_authorized")]


def test_append_appends_in_recorded_order_even_with_an_earlier_import(ledger: Ledger) -> None:
    ledger.service.append([imported(filed(A), "2024-12-31T00:00:00Z")], None, importing=True)
    (result,) = append(ledger, receipt(A, "C-1", time="2021-03-02T09:00:00Z"))
    assert result.recordedtime == "2025-01-01T12:00:00.000000Z"
