"""The canonical household: what any questionnaire version is mapped to before scoring.

``None`` always means "not known" (never "no"): an indicator that needs a missing fact is
reported as *cannot determine*, not silently as *not deprived*.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Member:
    name: str | None = None
    age: int | None = None
    sex: str | None = None  # "1" male, "2" female (Mẫu số 01 coding)
    relationship: str | None = None  # chu_ho, vo_chong, con, …
    ethnicity: str | None = None  # kinh, ba_na, xo_dang, gia_rai, …, khac (Phiếu B codes)
    work_status: str | None = None  # nong_nghiep, phi_nong_nghiep, lam_cong, that_nghiep, …
    contract: str | None = None  # co_hd, bien_che, khong_hd
    disability: str | None = None  # khong, nhe, nang, dac_biet_nang
    serious_illness: bool | None = None
    health_insurance: bool | None = None
    malnourished: bool | None = None
    in_school: bool | None = None
    education: str | None = None  # chua_tot_nghiep_th, tieu_hoc, thcs, thpt
    qualification: str | None = None  # khong, so_cap, trung_cap, cao_dang, dai_hoc
    employer_training: bool | None = None
    pension: bool | None = None


@dataclass(frozen=True, slots=True)
class MeasuredIncome:
    """From the average-living-standard income survey (12 months, allowances excluded)."""

    per_person_month: int
    agricultural: bool  # farming, forestry, fishery or salt-making household


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    members: tuple[Member, ...] = ()
    area_type: str | None = None  # rural / urban (from the commune or village)
    region: str | None = None  # income region code for the B1 point table
    floor_area: float | None = None  # m², whole dwelling
    wall: str | None = None
    frame: str | None = None
    roof: str | None = None
    water_source: str | None = None
    latrine: str | None = None
    telecom_use: bool | None = None
    info_devices: frozenset[str] | None = None
    digital_use: frozenset[str] | None = None
    waste: str | None = None
    # B1 characteristics as coded answers: item → option code, number, or set of codes.
    b1: dict[str, str | float | frozenset[str]] = field(default_factory=dict)
    income: MeasuredIncome | None = None
    # Phiếu A said the household stops (clearly not poor) — None when Phiếu A was not used.
    screened_out: bool | None = None
    screening_reasons: str | None = None  # the Phiếu A stop criteria met, in words
