"""Evaluating one B2 indicator on a canonical household, with the reason in words.

Every rule is three-valued: a fact that is ``None`` makes a condition *unknown*, and an
indicator whose outcome depends on an unknown is reported as ``cannot determine`` — never as
"not deprived".  Rule kinds are described in ``forms/standards/README.md``.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from server.scoring.facts import HouseholdFacts, Member
from server.scoring.standards import Standard

#: The words of coded answers: canonical fact → option code → label (the questionnaire's choice
#: labels, built by the scoring service from the form the answers came from).  Reasons name a
#: code the words do not know by the code itself.
FactWords = Mapping[str, Mapping[str, str]]
NO_WORDS: FactWords = MappingProxyType({})


class Outcome(enum.StrEnum):
    DEPRIVED = "deprived"
    NOT_DEPRIVED = "not_deprived"
    UNKNOWN = "cannot_determine"


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    code: str
    name_vi: str
    outcome: Outcome
    reasons: tuple[str, ...]
    status: str  # status of the rule in the standard (verified, secondary, provisional…)
    # What in this indicator's definition is not settled law (the rule itself, a definition it
    # uses, a list of values), in words; empty when the indicator is settled.
    provisional_vi: tuple[str, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_vi)


_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_FACT_VI = {
    "age": "tuổi",
    "sex": "giới tính",
    "work_status": "tình trạng việc làm",
    "contract": "hợp đồng lao động",
    "disability": "khuyết tật",
    "serious_illness": "bệnh nặng",
    "health_insurance": "bảo hiểm y tế",
    "malnourished": "suy dinh dưỡng",
    "in_school": "đang đi học",
    "education": "trình độ học vấn",
    "qualification": "trình độ chuyên môn",
    "employer_training": "đào tạo tại doanh nghiệp",
    "floor_area": "diện tích nhà",
    "wall": "vật liệu tường",
    "frame": "khung cột",
    "roof": "mái",
    "water_source": "nguồn nước",
    "latrine": "nhà tiêu",
    "telecom_use": "sử dụng viễn thông",
    "info_devices": "phương tiện thông tin",
    "digital_use": "sử dụng dịch vụ số",
    "waste": "xử lý rác thải",
}


def fact_value_words(fact: str, value: Any, words: FactWords) -> str:
    """A coded value in words ("Giếng khoan"), or the code when its label is unknown; a set
    of codes as their words, comma-separated, in the order of the words."""
    labels = words.get(fact, {})
    if isinstance(value, frozenset | set | list | tuple):
        return ", ".join(sorted(labels.get(v, v) for v in value))
    return labels.get(str(value), str(value))


def _fact_is(fact: str, value: Any, words: FactWords) -> str:
    """ "nguồn nước: Giếng khoan" — the fact named beside its value, so that a code the words
    do not know still reads as what it is."""
    return f"{_FACT_VI.get(fact, fact)}: {fact_value_words(fact, value, words)}"


def member_fact(member: Member, fact: str, standard: Standard) -> Any:  # noqa: PLR0911
    """A member's fact, including the two the standard defines from others.

    The two defined facts reason over the bounds of what is unknown: an age inside every
    working-age bound decides working age whatever the sex; a severe disability makes a
    dependant whatever the age.  ``None`` only when a missing fact could change the answer.
    """
    if fact == "working_age":
        rule = standard.data["working_age"]
        if member.age is None:
            return None
        if member.sex in ("1", "2"):
            top = rule["max_male"] if member.sex == "1" else rule["max_female"]
            return rule["min"] <= member.age <= top
        if member.age < rule["min"] or member.age > max(rule["max_male"], rule["max_female"]):
            return False
        if member.age <= min(rule["max_male"], rule["max_female"]):
            return True
        return None  # between the two bounds: the sex decides
    if fact == "dependant":
        rule = standard.data["dependant"]
        if member.disability in rule["severe_disability"] or member.serious_illness is True:
            return True
        if member.age is None:
            return None
        if member.age < rule["child_under"] or member.age >= rule["elderly_from"]:
            return True
        if member.disability is None or member.serious_illness is None:
            return None
        return False
    return getattr(member, fact)


def missing_facts(member: Member, fact: str, standard: Standard) -> list[str]:
    """The member's unknown facts that keep ``fact`` undecided (nothing when it is known)."""
    if member_fact(member, fact, standard) is not None:
        return []
    if fact == "working_age":
        return ["age"] if member.age is None else ["sex"]
    if fact == "dependant":
        missing = ["age"] if member.age is None else []
        if member.disability is None:
            missing.append("disability")
        if member.serious_illness is None:
            missing.append("serious_illness")
        return missing
    return [fact]


def _test(value: Any, op: str, expected: Any) -> bool | None:
    if value is None:
        return None
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    try:
        return bool(_OPS[op](value, expected))
    except TypeError:
        return None


def _all(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _any(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _group(member: Member, conditions: list[dict], standard: Standard) -> bool | None:
    return _all(
        [_test(member_fact(member, c["fact"], standard), c["op"], c["value"]) for c in conditions]
    )


def _who(member: Member, position: int) -> str:
    name = member.name or f"Thành viên {position}"
    return f"{name}, {member.age} tuổi" if member.age is not None else name


def _missing(member: Member, groups: list[list[dict]], standard: Standard) -> list[str]:
    """In words, the unknown facts that matter: those of the conditions still undecided in the
    groups not already ruled out by a known fact."""
    facts: list[str] = []
    for group in groups:
        tests = [
            _test(member_fact(member, c["fact"], standard), c["op"], c["value"]) for c in group
        ]
        if any(t is False for t in tests):
            continue  # this way of being deprived is ruled out whatever is unknown
        for condition, result in zip(group, tests, strict=True):
            if result is None:
                facts += missing_facts(member, condition["fact"], standard)
    return sorted({_FACT_VI.get(f, f) for f in facts})


SETTLED = ("verified", "secondary")
# A standard's statuses (and a B1 table's) in plain words, for explanations.
STATUS_VI = {
    "verified": "đã đối chiếu văn bản",
    "secondary": "theo nguồn thứ cấp",
    "inferred": "suy luận, chưa có văn bản",
    "provisional": "tạm thời",
    "missing": "chưa công bố",
    "official": "chính thức",
    "demo": "minh họa",
}
_DEFINITION_VI = {
    "working_age": "độ tuổi lao động",
    "dependant": "định nghĩa người phụ thuộc",
}


def unsettled_parts(indicator: dict, standard: Standard) -> tuple[str, ...]:
    """What an indicator's verdict rests on that is not settled law, in words."""
    rule = indicator["rule"]
    parts = []
    if indicator["status"] not in SETTLED:
        parts.append(f"tiêu chí ({STATUS_VI[indicator['status']]})")
    groups = [*rule.get("when_any", []), rule.get("when", [])]
    used = {c["fact"] for group in groups for c in group}
    for fact, term in _DEFINITION_VI.items():
        if fact in used and standard.data[fact]["status"] not in SETTLED:
            parts.append(f"{term} ({STATUS_VI[standard.data[fact]['status']]})")
    if rule.get("lists_status", "verified") not in SETTLED:
        parts.append(f"danh sách giá trị ({STATUS_VI[rule['lists_status']]})")
    return tuple(parts)


def evaluate(
    indicator: dict,
    household: HouseholdFacts,
    standard: Standard,
    words: FactWords = NO_WORDS,
) -> IndicatorResult:
    """One indicator's outcome and reasons; coded answers in ``words`` (their codes without)."""
    rule = indicator["rule"]
    kind = rule["kind"]
    outcome, reasons = _EVALUATORS[kind](rule, household, standard, indicator, words)
    return IndicatorResult(
        code=indicator["code"],
        name_vi=indicator["vi"],
        outcome=outcome,
        reasons=tuple(reasons),
        status=indicator["status"],
        provisional_vi=unsettled_parts(indicator, standard),
    )


def _any_member(rule, household, standard, indicator, _words):
    if not household.members:
        return Outcome.UNKNOWN, ["chưa có danh sách thành viên"]
    deprived, unknown = [], []
    for position, member in enumerate(household.members, start=1):
        verdict = _any([_group(member, g, standard) for g in rule["when_any"]])
        if verdict is True:
            deprived.append(f"{_who(member, position)}: {indicator['deprived_vi']}")
        elif verdict is None:
            missing = ", ".join(_missing(member, rule["when_any"], standard))
            unknown.append(f"{_who(member, position)}: thiếu thông tin ({missing})")
    if deprived:
        return Outcome.DEPRIVED, deprived
    if unknown:
        return Outcome.UNKNOWN, unknown
    return Outcome.NOT_DEPRIVED, []


def _member_share(rule, household, standard, indicator, _words):
    """More than ``above`` of the members: decided as soon as the known members settle it
    whichever way the unknown ones turn out."""
    if not household.members:
        return Outcome.UNKNOWN, ["chưa có danh sách thành viên"]
    verdicts = [_group(m, rule["when"], standard) for m in household.members]
    count, size = sum(1 for v in verdicts if v), len(verdicts)
    undecided = [
        (position, member)
        for position, (member, verdict) in enumerate(
            zip(household.members, verdicts, strict=True), 1
        )
        if verdict is None
    ]
    limit = rule["above"] * size
    if count > limit:
        text = (
            f"ít nhất {count}/{size} thành viên thuộc diện"
            if undecided
            else f"{count}/{size} thành viên thuộc diện"
        )
        return Outcome.DEPRIVED, [f"{text}: {indicator['deprived_vi']}"]
    if count + len(undecided) <= limit:
        text = f"{count}/{size} thành viên thuộc diện"
        if undecided:
            text = f"nhiều nhất {count + len(undecided)}/{size} thành viên thuộc diện"
        return Outcome.NOT_DEPRIVED, [text]
    who = [
        f"{_who(m, i)} ({', '.join(_missing(m, [rule['when']], standard))})" for i, m in undecided
    ]
    return Outcome.UNKNOWN, [
        f"{count}/{size} thành viên chắc chắn thuộc diện; thiếu thông tin: {'; '.join(who)}"
    ]


def _count_not_in(rule, household, _standard, indicator, words):
    failing, unknown = [], []
    for fact, good in rule["facts"].items():
        value = getattr(household, fact)
        if value is None:
            unknown.append(_FACT_VI.get(fact, fact))
        elif value not in good:
            failing.append(_fact_is(fact, value, words))
    if len(failing) >= rule["at_least"]:
        return Outcome.DEPRIVED, [f"{indicator['deprived_vi']} ({'; '.join(failing)})"]
    if len(failing) + len(unknown) >= rule["at_least"]:
        return Outcome.UNKNOWN, [f"thiếu thông tin: {', '.join(unknown)}"]
    return Outcome.NOT_DEPRIVED, []


def _per_person_below(rule, household, _standard, indicator, _words):
    value = getattr(household, rule["fact"])
    if value is None or not household.members:
        return Outcome.UNKNOWN, ["thiếu diện tích nhà hoặc danh sách thành viên"]
    size = len(household.members)
    # Compare totals, not a rounded quotient, so exactly 8 m²/person is never "below 8".
    text = f"{value:g} m² cho {size} người ({value / size:.2f} m²/người)"
    if value < rule["threshold"] * size:
        return Outcome.DEPRIVED, [f"{text}: {indicator['deprived_vi']}"]
    return Outcome.NOT_DEPRIVED, [text]


def _household_not_in(rule, household, _standard, indicator, words):
    value = getattr(household, rule["fact"])
    if value is None:
        return Outcome.UNKNOWN, [f"thiếu thông tin ({_FACT_VI.get(rule['fact'], rule['fact'])})"]
    if value not in rule["values"]:
        return Outcome.DEPRIVED, [
            f"{indicator['deprived_vi']} ({_fact_is(rule['fact'], value, words)})"
        ]
    return Outcome.NOT_DEPRIVED, [_fact_is(rule["fact"], value, words)]


def _household_equals(rule, household, _standard, indicator, _words):
    value = getattr(household, rule["fact"])
    if value is None:
        return Outcome.UNKNOWN, [f"thiếu thông tin ({_FACT_VI.get(rule['fact'], rule['fact'])})"]
    if value == rule["value"]:
        return Outcome.DEPRIVED, [indicator["deprived_vi"]]
    return Outcome.NOT_DEPRIVED, []


def _household_none_of(rule, household, _standard, indicator, words):
    value = getattr(household, rule["fact"])
    if value is None:
        return Outcome.UNKNOWN, [f"thiếu thông tin ({_FACT_VI.get(rule['fact'], rule['fact'])})"]
    present = set(value) & set(rule["values"])
    if not present:
        return Outcome.DEPRIVED, [indicator["deprived_vi"]]
    return Outcome.NOT_DEPRIVED, [_fact_is(rule["fact"], present, words)]


_EVALUATORS = {
    "any_member": _any_member,
    "member_share": _member_share,
    "count_not_in": _count_not_in,
    "per_person_below": _per_person_below,
    "household_not_in": _household_not_in,
    "household_equals": _household_equals,
    "household_none_of": _household_none_of,
}
