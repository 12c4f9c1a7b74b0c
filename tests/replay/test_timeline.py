"""The timeline: valid-time order, both times, words, late registration, corrections beside
what they amend, the cut-offs, and the view's change at each step."""

from __future__ import annotations

from collections.abc import Callable

from tests.projections.builder import ts
from tests.replay.conftest import Cli
from tests.replay.story import Story

Put = Callable[[Story], str]


def _history() -> Story:
    s = Story(21)
    s.add("AddressRegistered", "2021-01-04")
    s.add("DamageClaimFiled", "2021-03-01T09:00", claim_id="C-1")
    s.add("ClaimReceiptConfirmed", "2021-03-02", claim_id="C-1", decision_term_days=182)
    # NCG registers a milestone 45 days after it happened
    s.add("AddressAddedToProgramme", "2021-02-15", recorded="2021-04-01T12:00")
    s.add("ContactMade", "2021-04-02", with_org="NCG")
    # IMG corrects the decision term, then retracts the contact it recorded by mistake
    s.add(
        "EventCorrected",
        "2021-05-01",
        recorded="2021-05-01",
        corrects=s.events[2]["id"],
        data={"claim_id": "C-1", "decision_term_days": 56},
        reason="termijn verkeerd overgenomen",
    )
    s.add("ContactMade", "2021-05-02", org="IMG", with_org="IMG")
    s.add("EventRetracted", "2021-05-03", org="IMG", retracts=s.events[6]["id"], reason="dubbel geregistreerd")
    return s


def test_timeline_order_times_words_and_lanes(cli: Cli, stored: Put) -> None:
    s = _history()
    report = cli("replay", stored(s), "--format", "json").json()
    assert report["chain"]["intact"] is True
    assert report["chain"]["message"] == f"hash chain intact: 8 events of address {s.subject} verified"
    timeline = report["timeline"]
    assert [e["name"] for e in timeline] == [
        "AddressRegistered",
        "AddressAddedToProgramme",  # happened before the claim, registered after it
        "DamageClaimFiled",
        "ClaimReceiptConfirmed",
        "ContactMade",
        "EventCorrected",
        "ContactMade",
        "EventRetracted",
    ]
    added = timeline[1]
    assert (added["time"], added["recordedtime"], added["streamposition"]) == (
        ts("2021-02-15"),
        ts("2021-04-01T12:00"),
        4,
    )
    assert (added["dutch"], added["english"], added["lane"], added["org"]) == (
        "opgenomen in werkvoorraad",
        "added to the programme",
        "NCG",
        "NCG",
    )
    assert added["late"] is True and added["delay_days"] == 45.5
    assert [e["late"] for e in timeline].count(True) == 1
    assert [e["lane"] for e in timeline] == ["IMG", "NCG", "IMG", "IMG", "shared", "IMG", "shared", "IMG"]
    assert timeline[2]["summary"] == "claim C-1 · claim type physical · route maatwerk · channel online"


def test_corrections_and_retractions_beside_what_they_amend(cli: Cli, stored: Put) -> None:
    s = _history()
    report = cli("replay", stored(s), "--format", "json").json()
    receipt, correction = report["timeline"][3], report["timeline"][5]
    assert receipt["status"] == "corrected"
    assert receipt["data"] == {"claim_id": "C-1", "decision_term_days": 56}
    [amendment] = receipt["amendments"]
    assert amendment["kind"] == "correction" and amendment["id"] == s.events[5]["id"]
    assert amendment["before"] == {"claim_id": "C-1", "decision_term_days": 182}
    assert amendment["after"] == {"claim_id": "C-1", "decision_term_days": 56}
    assert amendment["changed"] == ["decision_term_days"]
    assert amendment["reason"] == "termijn verkeerd overgenomen"
    assert correction["amends"]["id"] == s.events[2]["id"] and correction["amends"]["streamposition"] == 3
    assert correction["amends"]["changed"] == ["decision_term_days"]
    retracted = report["timeline"][6]
    assert retracted["status"] == "retracted" and retracted["amendments"][0]["kind"] == "retraction"
    # a retracted event changes nothing in the view but the ledger's own count and head
    assert {c["path"].split(".")[0] for c in retracted["diff"]} == {"ledger"}
    # the corrected term (56 days) is what the view and the findings use
    assert report["view"]["damage"]["claims"][0]["decision_term_days"] == 56
    text = cli("replay", s.subject).out
    assert (
        "CORRECTED by IMG" in text
        and "before claim C-1 · decision term (days) 182; after claim C-1 · decision term (days) 56" in text
    )
    assert "RETRACTED by IMG" in text and "[RETRACTED]" in text
    assert "LATE: registered 45.5 days after it happened" in text


def test_known_at_before_the_correction_shows_the_original(cli: Cli, stored: Put) -> None:
    s = _history()
    report = cli("replay", stored(s), "--format", "json", "--known-at", "2021-04-30").json()
    assert [e["name"] for e in report["timeline"]][-1] == "ContactMade"
    receipt = report["timeline"][3]
    assert receipt["status"] == "valid" and receipt["data"]["decision_term_days"] == 182
    assert report["counts"]["recorded_after_known_at"] == 3
    assert report["view"]["damage"]["claims"][0]["decision_term_days"] == 182
    assert report["cutoffs"]["known_at"] == "2021-04-30T23:59:59.999999Z"


def test_at_cuts_the_valid_time_axis(cli: Cli, stored: Put) -> None:
    s = _history()
    report = cli("replay", stored(s), "--format", "json", "--at", "2021-02-20").json()
    assert [e["name"] for e in report["timeline"]] == ["AddressRegistered", "AddressAddedToProgramme"]
    assert report["counts"]["happened_after_at"] == 6
    # corrections are governed by known_at alone: the receipt is not in view, but the view is
    # that of `ledger case --at 2021-02-20`
    assert report["view"]["strengthening"]["in_programme"] is True
    assert report["view"]["damage"]["claims"] == []


def test_each_step_shows_what_changed_in_the_view(cli: Cli, stored: Put) -> None:
    s = _history()
    report = cli("replay", stored(s), "--format", "json").json()
    diffs = {e["name"]: e["diff"] for e in report["timeline"][:3]}
    changed = {c["path"]: (c["op"], c["before"], c["after"]) for c in diffs["DamageClaimFiled"]}
    assert changed["damage.claims[C-1].status"] == ("added", None, "pending")
    assert changed["damage.pending_claims"] == ("changed", 0, 1)
    assert changed["coordination.samenloop"] == ("changed", False, True)
    assert changed["ledger.events"] == ("changed", 2, 3)
    programme = {c["path"] for c in diffs["AddressAddedToProgramme"]}
    assert "strengthening.in_programme" in programme and not any(p.startswith("damage") for p in programme)


def test_events_at_one_moment_form_one_step(cli: Cli, stored: Put) -> None:
    s = Story(22)
    s.add("AddressAddedToProgramme", "2022-01-10T09:00")
    s.add("DamageClaimFiled", "2022-01-10T09:00", claim_id="C-1")
    report = cli("replay", stored(s), "--format", "json").json()
    first, second = report["timeline"]
    assert first["same_moment_as_next"] is True and first["diff"] == []
    paths = {c["path"] for c in second["diff"]}
    assert {"strengthening.in_programme", "damage.claims[C-1].status", "coordination.samenloop"} <= paths
