"""The 43 event types (contract §3, `domain.catalogue`) as small integer codes, with their CloudEvents strings."""

from __future__ import annotations

from domain.catalogue import BY_NAME
from domain.envelope import PRINCIPALS

IMG, NCG, PORTAL = 0, 1, 2
ORGS = PRINCIPALS
SOURCES = (
    "urn:nl:img:schadesysteem",
    "urn:nl:ncg:versterkingssysteem",
    "urn:nl:portal:bewonersportaal",
)

# The catalogue's order and groups (domain.catalogue, the one list of the event types).
NAMES: tuple[str, ...] = tuple(BY_NAME)
GROUP_OF: dict[str, str] = {n: entry.group for n, entry in BY_NAME.items()}
TYPES: tuple[str, ...] = tuple(BY_NAME[n].type for n in NAMES)
CODE: dict[str, int] = {n: i for i, n in enumerate(NAMES)}

# Module-level integer codes, so hot code reads `T.CLAIM_FILED` rather than a dict lookup.
ADDRESS_REGISTERED = CODE["AddressRegistered"]
EVENT_CORRECTED = CODE["EventCorrected"]
EVENT_RETRACTED = CODE["EventRetracted"]
CLAIM_FILED = CODE["DamageClaimFiled"]
RECEIPT = CODE["ClaimReceiptConfirmed"]
CASE_GUIDE = CODE["CaseGuideAssigned"]
DAMAGE_INSPECTION = CODE["DamageInspectionCompleted"]
ADVISORY_REPORT = CODE["AdvisoryReportIssued"]
DEFERRED = CODE["ClaimDeferred"]
RESUMED = CODE["ClaimResumed"]
DECIDED = CODE["ClaimDecided"]
PAID = CODE["CompensationPaid"]
OBJECTION_FILED = CODE["ObjectionFiled"]
OBJECTION_DECIDED = CODE["ObjectionDecided"]
WITHDRAWN = CODE["ClaimWithdrawn"]
AOS_REPORTED = CODE["AcuteUnsafeSituationReported"]
AOS_RESOLVED = CODE["AcuteUnsafeSituationResolved"]
ADDED = CODE["AddressAddedToProgramme"]
LOCAL_PLAN = CODE["AddressIncludedInLocalPlan"]
RESIDENT_GUIDE = CODE["ResidentGuideAssigned"]
STRUCTURAL_INSPECTION = CODE["StructuralInspectionCompleted"]
ASSESSMENT = CODE["AssessmentCompleted"]
NORM_DECISION = CODE["NormDecisionIssued"]
STRENGTHENING_DECISION = CODE["StrengtheningDecisionIssued"]
CONSTRUCTION_STARTED = CODE["ConstructionStarted"]
CONSTRUCTION_COMPLETED = CODE["ConstructionCompleted"]
CLOSED = CODE["TrajectoryClosed"]
STALLED = CODE["TrajectoryStalled"]
TRAJECTORY_RESUMED = CODE["TrajectoryResumed"]
REMOVED = CODE["AddressRemovedFromProgramme"]
CONSENT_GIVEN = CODE["ConsentToDataExchangeGiven"]
CONSENT_REVOKED = CODE["ConsentToDataExchangeRevoked"]
APPROACH_REQUESTED = CODE["IntegratedApproachRequested"]
APPROACH_DECLINED = CODE["IntegratedApproachDeclined"]
COMPLAINT = CODE["ComplaintLodged"]
CONTACT = CODE["ContactMade"]
OFFERED = CODE["IntegratedApproachOffered"]
AGREED = CODE["IntegratedApproachAgreed"]
COORDINATOR = CODE["CoordinatorAssigned"]
JOINT_VISIT = CODE["JointVisitHeld"]
INFO_SHARED = CODE["InformationShared"]
REFERRED = CODE["CaseReferred"]
OUTREACH = CODE["OutreachToNonClaimant"]

assert len(NAMES) == 43
