"""The event catalogue of contract §3: one pydantic model per type's `data`, and a registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

TYPE_PREFIX = "nl.groningen."

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
Uuid = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
Cents = Annotated[StrictInt, Field(ge=0)]
Reason = Annotated[str, StringConstraints(max_length=200)]
Org = Literal["IMG", "NCG"]
Scheme = Literal["maatwerk", "fixed_payment", "actual_repair", "value_loss", "immaterial"]
Route = Literal["maatwerk", "fixed_payment", "actual_repair"]
Direction = Literal["img_to_ncg", "ncg_to_img"]


class Data(BaseModel):
    """Base of every payload: strict types, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# 3.1 ledger -------------------------------------------------------------------------------
class AddressRegistered(Data):
    postcode: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{3}[A-Z]{2}$")]
    huisnummer: Annotated[StrictInt, Field(ge=1, le=99999)]
    huisletter: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]$")] | None = None
    toevoeging: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,4}$")] | None = None
    gemeentecode: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
    pand_id: Annotated[str, StringConstraints(pattern=r"^\d{4}10\d{10}$")] | None = None
    verblijfsobject_id: Annotated[str, StringConstraints(pattern=r"^\d{4}01\d{10}$")] | None = None
    owner_ref: Pseudonym | None = None
    owner_type: Literal["natural_person", "corporation", "housing_association", "other"] | None = None


class EventCorrected(Data):
    corrects: Uuid
    data: dict[str, object]
    reason: Reason


class EventRetracted(Data):
    retracts: Uuid
    reason: Reason


# 3.2 img ----------------------------------------------------------------------------------
class DamageClaimFiled(Data):
    claim_id: Ref
    claim_type: Literal["physical", "value_loss", "immaterial"]
    route: Route
    channel: Literal["online", "phone", "paper", "representative"]


class ClaimReceiptConfirmed(Data):
    claim_id: Ref
    decision_term_days: Annotated[StrictInt, Field(ge=1, le=730)]


class CaseGuideAssigned(Data):
    claim_id: Ref
    guide_ref: Pseudonym


class DamageInspectionCompleted(Data):
    claim_id: Ref
    inspection_id: Ref
    visit_id: Ref
    joint_with_ncg: StrictBool


class AdvisoryReportIssued(Data):
    claim_id: Ref
    report_id: Ref
    assessed_amount_cents: Cents
    causal_finding: Literal["mining", "partly_mining", "not_mining"]
    revision: StrictBool


class ClaimDeferred(Data):
    claim_id: Ref
    reason: Literal["awaiting_strengthening", "applicant_request", "further_investigation"]


class ClaimResumed(Data):
    claim_id: Ref


class ClaimDecided(Data):
    decision_id: Ref
    claim_ids: Annotated[list[Ref], Field(min_length=1, max_length=50)]
    outcome: Literal["granted", "partly_granted", "rejected"]
    amount_cents: Cents
    scheme: Scheme


class CompensationPaid(Data):
    decision_id: Ref
    amount_cents: Cents


class ObjectionFiled(Data):
    objection_id: Ref
    decision_id: Ref


class ObjectionDecided(Data):
    objection_id: Ref
    outcome: Literal["upheld", "partly_upheld", "dismissed", "inadmissible", "withdrawn"]


class ClaimWithdrawn(Data):
    claim_id: Ref


class AcuteUnsafeSituationReported(Data):
    aos_id: Ref
    reported_by: Literal["resident", "municipality", "img", "ncg"]


class AcuteUnsafeSituationResolved(Data):
    aos_id: Ref
    well_founded: StrictBool
    forwarded_to_ncg: StrictBool


# 3.3 ncg ----------------------------------------------------------------------------------
class AddressAddedToProgramme(Data):
    programme_ref: Ref
    basis: Literal["risk_estimate", "prior_commitment", "administrative_agreement", "aos", "owner_request"]


class AddressIncludedInLocalPlan(Data):
    lpa_year: Annotated[StrictInt, Field(ge=2018, le=2035)]


class ResidentGuideAssigned(Data):
    guide_ref: Pseudonym


class StructuralInspectionCompleted(Data):
    inspection_id: Ref
    visit_id: Ref
    joint_with_img: StrictBool


class AssessmentCompleted(Data):
    assessment_id: Ref
    method: Literal["typology", "practice", "npr_calculation"]
    reassessment: StrictBool


class NormDecisionIssued(Data):
    advice_ref: Ref
    meets_norm: StrictBool


class StrengtheningDecisionIssued(Data):
    decision_ref: Ref
    scope: Literal["strengthen", "demolish_rebuild"]


class ConstructionStarted(Data):
    pass


class ConstructionCompleted(Data):
    pass


class TrajectoryClosed(Data):
    reason: Literal["built", "meets_norm", "other"]


class TrajectoryStalled(Data):
    reason: Literal["owner_paused", "unreachable", "other"]


class TrajectoryResumed(Data):
    pass


class AddressRemovedFromProgramme(Data):
    reason: Literal["duplicate", "demolished", "out_of_scope", "other"]


# 3.4 resident -----------------------------------------------------------------------------
class ConsentToDataExchangeGiven(Data):
    party_ref: Pseudonym
    scope: Literal["img_to_ncg", "ncg_to_img", "both"]


class ConsentToDataExchangeRevoked(Data):
    party_ref: Pseudonym


class IntegratedApproachRequested(Data):
    party_ref: Pseudonym
    via: Literal["img", "ncg", "portal"]


class IntegratedApproachDeclined(Data):
    party_ref: Pseudonym


class ComplaintLodged(Data):
    complaint_id: Ref
    against: Literal["IMG", "NCG", "both"]
    forum: Literal["organisation", "ombudsman"]


class ContactMade(Data):
    with_org: Org
    channel: Literal["visit", "phone", "letter", "email", "portal"]
    initiated_by: Literal["resident", "organisation"]


# 3.5 coordination -------------------------------------------------------------------------
Component = Literal[
    "visiting_address",
    "coordinated_handling",
    "coordinator",
    "information_document",
    "total_inspection",
    "integrated_execution",
]
Category = Literal["damage_report", "decision", "assessment", "strengthening_status", "planning"]


class IntegratedApproachOffered(Data):
    offer_id: Ref


class IntegratedApproachAgreed(Data):
    offer_id: Ref
    components: Annotated[list[Component], Field(min_length=1, max_length=6)]


class CoordinatorAssigned(Data):
    coordinator_ref: Pseudonym
    lead_org: Org


class JointVisitHeld(Data):
    visit_id: Ref


class InformationShared(Data):
    direction: Direction
    categories: Annotated[list[Category], Field(min_length=1, max_length=5)]
    legal_basis: Literal["consent", "besluit_twg_10h"]


class CaseReferred(Data):
    from_org: Org
    to_org: Org
    reason: Literal["damage_in_strengthening", "safety_concern", "wrong_organisation", "other"]

    @model_validator(mode="after")
    def _different_orgs(self) -> CaseReferred:
        if self.from_org == self.to_org:
            raise ValueError("from_org and to_org must differ")
        return self


class OutreachToNonClaimant(Data):
    campaign_ref: Ref


@dataclass(frozen=True, slots=True)
class EventType:
    """One catalogue entry: the CloudEvents type, its payload model and who may emit it."""

    name: str
    group: str
    model: type[Data]
    emitters: frozenset[str]
    dutch: str
    english: str

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}{self.group}.{self.name}.v1"


IMG = frozenset({"IMG"})
NCG = frozenset({"NCG"})
IMG_NCG = frozenset({"IMG", "NCG"})
ALL = frozenset({"IMG", "NCG", "PORTAL"})

_ENTRIES: tuple[tuple[type[Data], str, frozenset[str], str, str], ...] = (
    (AddressRegistered, "ledger", IMG_NCG, "adres geregistreerd", "address registered"),
    (EventCorrected, "ledger", ALL, "correctie", "event corrected"),
    (EventRetracted, "ledger", ALL, "intrekking registratie", "event retracted"),
    (DamageClaimFiled, "img", IMG, "schademelding", "damage claim filed"),
    (ClaimReceiptConfirmed, "img", IMG, "ontvangstbevestiging", "receipt of claim confirmed"),
    (CaseGuideAssigned, "img", IMG, "zaakbegeleider", "case guide assigned"),
    (DamageInspectionCompleted, "img", IMG, "schade-opname", "damage inspection completed"),
    (AdvisoryReportIssued, "img", IMG, "adviesrapport", "advisory report issued"),
    (ClaimDeferred, "img", IMG, "besluit aangehouden", "decision on claim deferred"),
    (ClaimResumed, "img", IMG, "aanhouding beëindigd", "deferral ended"),
    (ClaimDecided, "img", IMG, "besluit", "claims decided"),
    (CompensationPaid, "img", IMG, "uitkering", "compensation paid"),
    (ObjectionFiled, "img", IMG, "bezwaar", "objection filed"),
    (ObjectionDecided, "img", IMG, "beslissing op bezwaar", "objection decided"),
    (ClaimWithdrawn, "img", IMG, "intrekking", "claim withdrawn"),
    (AcuteUnsafeSituationReported, "img", IMG, "AOS-melding", "acute unsafe situation reported"),
    (AcuteUnsafeSituationResolved, "img", IMG, "AOS afgehandeld", "acute unsafe situation resolved"),
    (AddressAddedToProgramme, "ncg", NCG, "opgenomen in werkvoorraad", "added to the programme"),
    (
        AddressIncludedInLocalPlan,
        "ncg",
        NCG,
        "opgenomen in lokaal plan van aanpak",
        "included in the local plan",
    ),
    (ResidentGuideAssigned, "ncg", NCG, "bewonersbegeleider", "resident guide assigned"),
    (StructuralInspectionCompleted, "ncg", NCG, "opname", "structural inspection completed"),
    (AssessmentCompleted, "ncg", NCG, "beoordeling vastgesteld", "assessment completed"),
    (
        NormDecisionIssued,
        "ncg",
        NCG,
        "normbesluit / versterkingsadvies",
        "norm decision issued",
    ),
    (StrengtheningDecisionIssued, "ncg", NCG, "versterkingsbesluit", "strengthening decision"),
    (ConstructionStarted, "ncg", NCG, "bouw gestart", "construction started"),
    (ConstructionCompleted, "ncg", NCG, "bouw gereed", "construction completed"),
    (TrajectoryClosed, "ncg", NCG, "versterkingstraject afgerond", "trajectory closed"),
    (TrajectoryStalled, "ncg", NCG, "traject stagneert", "trajectory stalled"),
    (TrajectoryResumed, "ncg", NCG, "traject hervat", "trajectory resumed"),
    (AddressRemovedFromProgramme, "ncg", NCG, "uit werkvoorraad", "removed from the programme"),
    (
        ConsentToDataExchangeGiven,
        "resident",
        ALL,
        "toestemming gegevensuitwisseling",
        "consent to data exchange given",
    ),
    (
        ConsentToDataExchangeRevoked,
        "resident",
        ALL,
        "toestemming ingetrokken",
        "consent to data exchange revoked",
    ),
    (
        IntegratedApproachRequested,
        "resident",
        ALL,
        "verzoek samenhangende aanpak",
        "integrated approach requested",
    ),
    (
        IntegratedApproachDeclined,
        "resident",
        ALL,
        "afzien van samenhangende aanpak",
        "integrated approach declined",
    ),
    (ComplaintLodged, "resident", ALL, "klacht", "complaint lodged"),
    (ContactMade, "resident", ALL, "contactmoment", "contact made"),
    (
        IntegratedApproachOffered,
        "coordination",
        IMG_NCG,
        "aanbod samenhangende aanpak",
        "integrated approach offered",
    ),
    (
        IntegratedApproachAgreed,
        "coordination",
        IMG_NCG,
        "keuze samenhangende aanpak",
        "integrated approach agreed",
    ),
    (CoordinatorAssigned, "coordination", IMG_NCG, "coördinator toegewezen", "coordinator assigned"),
    (JointVisitHeld, "coordination", IMG_NCG, "totaalopname / gezamenlijk bezoek", "joint visit"),
    (InformationShared, "coordination", IMG_NCG, "gegevensverstrekking", "information shared"),
    (CaseReferred, "coordination", IMG_NCG, "doorverwijzing", "case referred"),
    (
        OutreachToNonClaimant,
        "coordination",
        IMG_NCG,
        "bewoner benaderd om schade te melden",
        "non-claimant approached to file a claim",
    ),
)

CATALOGUE: dict[str, EventType] = {}
BY_NAME: dict[str, EventType] = {}
for _model, _group, _emitters, _dutch, _english in _ENTRIES:
    _entry = EventType(_model.__name__, _group, _model, _emitters, _dutch, _english)
    CATALOGUE[_entry.type] = _entry
    BY_NAME[_entry.name] = _entry

GROUPS = ("ledger", "img", "ncg", "resident", "coordination")


def event_name(event_type: str) -> str:
    """`nl.groningen.img.DamageClaimFiled.v1` -> `DamageClaimFiled`."""
    return event_type.rsplit(".", 2)[-2]


def lookup(event_type: str) -> EventType | None:
    """The catalogue entry for a full CloudEvents type, or None when unknown."""
    return CATALOGUE.get(event_type)
