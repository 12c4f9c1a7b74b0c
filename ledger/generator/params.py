"""Every calibration assumption of the generator, in one place.

Figures marked "public" come from `docs/contract/domain-notes.md`; everything else is a
documented assumption (see `docs/generator.md`). Volumes are for the full area of
`FULL_SCALE` addresses and scale linearly with the number of addresses generated.
"""

from __future__ import annotations

from ledger.generator.timeline import Curve, d, yearly_profile

# fmt: off
FULL_SCALE = 220_000  # public: ~220,000 addresses in the area (NCG 2023)
HISTORY_START = d(2018)  # the history starts on 2018-01-01
DEFAULT_END = d(2024, 12, 31)  # simulation horizon when `until` is earlier
AMVB = d(2023, 7, 1)  # Besluit of 9 June 2023 (samenloop, art. 10h) in force
COVENANT = d(2019, 7, 1)  # IMG-NCG cooperation covenant (2019): consent-based exchange

# --- addresses ---------------------------------------------------------------------------------
# (BAG id prefix, weight, postcode range, ((from day, current gemeentecode), ...), programme
#  factor, damage factor). Prefixes are the issuing municipality's CBS code, which BAG ids keep
#  after mergers: Appingedam 0003, Delfzijl 0010, Loppersum 0024 (Eemsdelta 1979 since 2021);
#  Hoogezand-Sappemeer 0018, Slochteren 0040 (Midden-Groningen 1952 since 2018); Bedum 0005,
#  Eemsmond 1651 (Het Hogeland 1966 since 2019); Groningen 0014; Veendam 0047; Oldambt 1895.
MUNICIPALITIES: tuple[tuple[str, float, tuple[int, int], tuple[tuple[int, str], ...], float, float], ...] = (
    ("0014", 0.45, (9711, 9747), ((0, "0014"),), 0.55, 0.8),
    ("0003", 0.05, (9901, 9903), ((0, "0003"), (d(2021), "1979")), 2.2, 1.5),
    ("0010", 0.10, (9931, 9937), ((0, "0010"), (d(2021), "1979")), 1.8, 1.3),
    ("0024", 0.05, (9914, 9922), ((0, "0024"), (d(2021), "1979")), 3.0, 1.8),
    ("0018", 0.10, (9600, 9611), ((0, "1952"),), 0.8, 1.0),
    ("0040", 0.05, (9617, 9629), ((0, "1952"),), 1.5, 1.3),
    ("0005", 0.05, (9780, 9781), ((0, "0005"), (d(2019), "1966")), 1.0, 1.0),
    ("1651", 0.05, (9981, 9989), ((0, "1651"), (d(2019), "1966")), 1.6, 1.2),
    ("0047", 0.05, (9640, 9649), ((0, "0047"),), 0.4, 0.8),
    ("1895", 0.05, (9671, 9685), ((0, "1895"),), 0.2, 0.6),
)
OWNER_TYPES = (("natural_person", 0.78), ("housing_association", 0.15), ("corporation", 0.05), ("other", 0.02))

# --- NCG programme -----------------------------------------------------------------------------
# Cumulative share of all addresses ever added to the programme. Public: 26,919 in the programme
# on 2021-10-31, 27,234 end 2022, 27,610 Apr 2024 (of ~220,000); the ~1.5-1.8 % removed by then
# are added back here (expected in programme = 220,000 x share x (1 - removed)).
ADDED_SHARE = Curve([
    (d(2018, 1, 1), 0.0), (d(2018, 1, 31), 0.0261), (d(2018, 12, 31), 0.0704),
    (d(2019, 12, 31), 0.1092), (d(2020, 12, 31), 0.1198), (d(2021, 10, 31), 0.1242),
    (d(2022, 12, 31), 0.1259), (d(2024, 4, 30), 0.1278), (d(2024, 12, 31), 0.1285),
    (d(2030, 12, 31), 0.1318),
])
REMOVED_SHARE = 0.02  # of programme addresses: duplicates, demolished, out of scope
REMOVAL_REASONS = (("duplicate", 0.35), ("demolished", 0.15), ("out_of_scope", 0.35), ("other", 0.15))
# path of a trajectory: meets the norm (M), strengthened/rebuilt (B), closed otherwise (O)
PATHS = (("M", 0.47), ("B", 0.50), ("O", 0.03))
RANK_CORRELATION = 0.7  # progress rank vs order of addition (later additions progress later)

# Milestone curves: share of programme addresses (ranked by progress) that reached a milestone
# by a day. Public anchors: phases on 2021-10-31 11/12/24/38/6/9 %; op norm 5,832 on 2022-07-31
# (2,610 built, 3,063 meets norm, 159 other), 30 % end 2022, 50.3 % Apr 2024.
LOCAL_PLAN = Curve([
    (d(2018, 1, 15), 0.0), (d(2018, 12, 31), 0.36), (d(2019, 12, 31), 0.65),
    (d(2020, 12, 31), 0.80), (d(2021, 10, 31), 0.87), (d(2022, 12, 31), 0.94),
    (d(2024, 12, 31), 0.975), (d(2030, 12, 31), 1.0),
])
INSPECTION = Curve([
    (d(2018, 2, 15), 0.0), (d(2018, 12, 31), 0.16), (d(2019, 12, 31), 0.46),
    (d(2020, 12, 31), 0.65), (d(2021, 10, 31), 0.755), (d(2022, 12, 31), 0.86),
    (d(2024, 12, 31), 0.95), (d(2030, 12, 31), 1.0),
])
ASSESSMENT = Curve([
    (d(2018, 3, 1), 0.0), (d(2018, 12, 31), 0.06), (d(2019, 12, 31), 0.24),
    (d(2020, 12, 31), 0.40), (d(2021, 10, 31), 0.52), (d(2022, 12, 31), 0.70),
    (d(2024, 12, 31), 0.89), (d(2030, 12, 31), 1.0),
])
CLOSED_M = Curve([  # closure "meets_norm", as a share of path M
    (d(2018, 4, 1), 0.0), (d(2019, 12, 31), 0.025), (d(2020, 12, 31), 0.055),
    (d(2021, 10, 31), 0.095), (d(2022, 7, 31), 0.22), (d(2022, 12, 31), 0.35),
    (d(2024, 4, 30), 0.62), (d(2024, 12, 31), 0.70), (d(2030, 12, 31), 0.99),
])
EXECUTION_B = Curve([  # strengthening decision, as a share of path B
    (d(2018, 4, 1), 0.0), (d(2018, 12, 31), 0.03), (d(2019, 12, 31), 0.07),
    (d(2020, 12, 31), 0.135), (d(2021, 10, 31), 0.195), (d(2022, 12, 31), 0.35),
    (d(2024, 12, 31), 0.60), (d(2030, 12, 31), 0.99),
])
CLOSED_B = Curve([  # closure "built", as a share of path B
    (d(2018, 9, 1), 0.0), (d(2019, 12, 31), 0.02), (d(2020, 12, 31), 0.045),
    (d(2021, 10, 31), 0.08), (d(2022, 7, 31), 0.19), (d(2022, 12, 31), 0.24),
    (d(2024, 4, 30), 0.40), (d(2024, 12, 31), 0.46), (d(2030, 12, 31), 0.98),
])
CLOSED_O = Curve([  # closure "other", as a share of path O
    (d(2018, 6, 1), 0.0), (d(2019, 12, 31), 0.03), (d(2021, 10, 31), 0.09),
    (d(2022, 7, 31), 0.18), (d(2022, 12, 31), 0.23), (d(2024, 4, 30), 0.32),
    (d(2024, 12, 31), 0.33), (d(2030, 12, 31), 0.9),
])
MILESTONE_JITTER_DAYS = 25.0
RESIDENT_GUIDE_SHARE = 0.85
REASSESSMENT_SHARE = 0.12
DEMOLISH_SHARE = 0.15  # of strengthening decisions: demolish and rebuild
STALL_SHARE = 0.05
STALL_REASONS = (("owner_paused", 0.5), ("unreachable", 0.25), ("other", 0.25))

# --- IMG claims --------------------------------------------------------------------------------
# Claims filed per year at full scale. Public: physical 48,756 (2020) and 45,800 (2022); 242,000
# claims of all schemes by end 2021 with ~32,000 open. The rest are assumptions. (The targets
# here are a little above the public figures: programme owners' waiting moves claims later.)
PHYSICAL_FILED = yearly_profile(
    {2018: 15_700, 2019: 31_500, 2020: 51_000, 2021: 52_300, 2022: 45_300, 2023: 30_000,
     2024: 24_000, 2025: 23_000, 2026: 22_000, 2027: 21_000, 2028: 20_000, 2029: 19_000,
     2030: 18_000},
    starts={2018: d(2018, 3, 19)},
)
VALUE_LOSS_FILED = yearly_profile(  # waardedalingsregeling, opened 1 Sep 2020
    {2020: 46_000, 2021: 54_000, 2022: 8_000, 2023: 4_000, 2024: 3_000, 2025: 3_000,
     2026: 3_000, 2027: 3_000, 2028: 3_000, 2029: 3_000, 2030: 3_000},
    starts={2020: d(2020, 9, 1)},
)
IMMATERIAL_FILED = yearly_profile(  # immaterial damage scheme, opened early 2022
    {2022: 19_000, 2023: 12_000, 2024: 7_000, 2025: 6_000, 2026: 5_000, 2027: 4_000,
     2028: 4_000, 2029: 3_000, 2030: 3_000},
    starts={2022: d(2022, 1, 17)},
)
CLAIM_HETEROGENEITY_SHAPE = 0.55  # gamma shape of an address's damage propensity (mean 1)
# Programme addresses: a share of owners waits for strengthening before claiming (public: ~40 %);
# the others claim at a reduced rate (calibrated to ~70 % without a claim in Nov 2021).
WAITER_SHARE = 0.40
PROGRAMME_CLAIM_FACTOR = 0.48
WAIT_RELEASE_DAYS = (30.0, 400.0)  # a waiter files this long after closure / the AMvB
ROUTE_FIXED_FROM = d(2020, 11, 1)  # vaste vergoeding (EUR 5,000)
ROUTE_REPAIR_FROM = d(2022, 1, 1)  # werkelijke herstelkosten
FIXED_SHARE = {2020: 0.2, 2021: 0.2, 2022: 0.38, 2023: 0.38, 2024: 0.38}  # by year filed
REPAIR_SHARE = 0.10
CHANNELS = (("online", 0.72), ("phone", 0.10), ("paper", 0.05), ("representative", 0.13))
DECISION_TERMS = ((182, 0.85), (365, 0.10), (91, 0.05))
CASE_GUIDE_SHARE = 0.2
REVISION_SHARE = 0.06
WITHDRAWAL_SHARE = 0.03
# Lead time filed -> decided: lognormal (median days, sigma) by year filed, per route.
LEAD_MAATWERK = {2018: (230, 0.7), 2019: (150, 0.75), 2020: (185, 0.75), 2021: (315, 0.65),
                 2022: (95, 0.75), 2023: (110, 0.75), 2024: (110, 0.75)}
LEAD_FIXED = (45, 0.6)
LEAD_REPAIR_FACTOR = 1.2
LEAD_VALUE_LOSS = {2020: (140, 0.5), 2021: (150, 0.5), 2022: (90, 0.6)}
VALUE_LOSS_DECISIONS_FROM = d(2021, 1, 18)
LEAD_IMMATERIAL = (75, 0.6)
BUNDLE_SHARE = 0.9  # an open, ready claim of the same scheme joins a decision
ATTACH_SHARE = 0.95 # new damage reported while a claim is assessed is handled with it
# Outcomes (public: ~7 % of decisions rejected in 2021).
CAUSAL = (("mining", 0.79), ("partly_mining", 0.14), ("not_mining", 0.07))
REJECT_FIXED = 0.03
REJECT_VALUE_LOSS = 0.08
REJECT_IMMATERIAL = 0.10
# Objections (public: against ~3.4 % of decisions), by outcome.
OBJECTION_SHARE = {"rejected": 0.16, "partly_granted": 0.072, "granted": 0.019}
OBJECTION_OUTCOMES = (("dismissed", 0.45), ("upheld", 0.12), ("partly_upheld", 0.13),
                      ("inadmissible", 0.10), ("withdrawn", 0.20))
SPLIT_PAYMENT_SHARE = 0.06
# Deferral of claims (public: ~40 % of programme owners wait for strengthening).
DEFER_STRENGTHENING_SHARE = 0.35  # of physical claims at programme addresses not yet closed
DEFER_OTHER_SHARE = 0.035
AOS_PER_YEAR = 450.0  # acutely unsafe situations reported per year at full scale
AOS_WITHIN_48H = 0.93

# --- coordination and residents ----------------------------------------------------------------
OFFER_SHARE = 0.62  # of addresses in samenloop after the AMvB
AGREE_SHARE = 0.55
AGREE_AFTER_REQUEST = 0.75
DECLINE_SHARE = 0.20
REQUEST_SHARE = 0.10
COMPONENTS = (("visiting_address", 0.80), ("coordinated_handling", 0.70), ("coordinator", 0.75),
              ("information_document", 0.50), ("total_inspection", 0.40), ("integrated_execution", 0.25))
JOINT_VISIT_SHARE = 0.7  # of agreements with a total inspection or one visiting address
COVENANT_EXCHANGE_SHARE = 0.20  # samenloop before the AMvB: consent and exchange
COVENANT_JOINT_SHARE = 0.03
COVENANT_REQUEST_SHARE = 0.04  # residents asking for one approach before it existed
CO_INSPECTION_SHARE = 0.5  # both inspections due close together: done in one visit
CO_INSPECTION_WINDOW = 365
SHARE_AFTER_AMVB = 0.7
REVOKE_SHARE = 0.15
CONSENT_WITH_AGREEMENT = 0.8  # consent given when agreeing to the integrated approach
REFERRAL_NCG_SHARE = 0.08  # programme addresses in execution: damage found while strengthening
REFERRAL_IMG_SHARE = 0.006  # physical claims: safety concern or wrong organisation
OUTREACH_CAMPAIGNS = ((d(2022, 3, 14), d(2022, 5, 31), "campagne-2022-schade-melden"),
                      (d(2023, 9, 18), d(2023, 11, 30), "campagne-2023-samenloop"),
                      (d(2024, 4, 8), d(2024, 6, 14), "campagne-2024-schade-melden"))
OUTREACH_REACH = 0.35
OUTREACH_CONVERSION = 0.18
# Complaints per year at full scale (public: 236 to the Nationale ombudsman in 2021,
# 386 in Jan-Jul 2022).
OMBUDSMAN_PER_YEAR = {2018: 90, 2019: 150, 2020: 190, 2021: 236, 2022: 660, 2023: 480, 2024: 400}
ORG_COMPLAINTS_PER_YEAR = 2_400
CONTACTS_PER_CLAIM = 0.08
CONTACTS_PER_PROGRAMME_YEAR = 0.2
CORRECTION_RATE = 0.003
RETRACTION_RATE = 0.0015

# --- registration lag (recordedtime - time) -----------------------------------------------------
# (share, min days, max days); NCG registers milestones late (domain notes), IMG mostly same day.
LAG_IMG = ((0.82, 0.0, 0.2), (0.13, 0.2, 7.0), (0.04, 7.0, 30.0), (0.01, 30.0, 90.0))
LAG_NCG = ((0.50, 0.0, 1.0), (0.29, 1.0, 30.0), (0.21, 30.0, 120.0))
LAG_PORTAL = ((1.0, 0.0, 0.0001),)
# fmt: on
