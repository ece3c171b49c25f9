"""The least shown: which answers are sensitive personal data, and what each role sees of them
(issue 14; Law 91/2025/QH15, ``../shared/domain/privacy.md``; rules in ``docs/least-shown.md``).

The classes are data (``forms/personal_fields.yaml``: per questionnaire, its fields by class);
:func:`treatment` is the one rule deciding, from the viewer's role and a field's class, whether
the answer is shown, masked or hidden:

- a **village head** (and anyone who is not a commune officer or province administrator) never
  sees an ID number, birth date, income figure, health or disability answer;
- **officers and administrators** see them, except ID numbers, masked ("•••••••••123") until
  they ask to reveal one ("Hiện số", a POST recorded in the audit log) for that page view.

Everything printed for the public (the posting) or the village meeting carries none of these
fields (tests/integration/test_least_shown.py checks it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l

from server.accounts.models import STAFF_ROLES
from server.questionnaires.labels import AnswerRow, strip_indexes

DATA = Path(__file__).resolve().parents[2] / "forms" / "personal_fields.yaml"

CLASSES = ("id_number", "birth_date", "income", "health", "disability")
SHOW, MASK, HIDE = "show", "mask", "hide"

HIDDEN = _l("(ẩn với trưởng thôn)")
MASK_CHAR = "•"
KEEP_LAST = 3

# Words of a health / disability / income fact in the score's reasons and explanation lines.
_SENSITIVE_WORDS = re.compile(
    r"khuyết tật|bệnh|bảo hiểm y tế|bhyt|dinh dưỡng|trợ cấp|lương hưu",
    re.I,
)
_MONEY = re.compile(r"\d[\d.,]*\s*(?:đ\b|đồng)")


@cache
def personal_fields() -> dict:
    """The data file, checked: ``{"forms": {form_id: {class: (path, …)}}, "not_personal": …,
    "score_reasons_hidden_from_village_heads": (code, …)}``."""
    data = yaml.safe_load(DATA.read_text("utf-8")) or {}
    forms: dict[str, dict[str, tuple[str, ...]]] = {}
    for form_id, listed in (data.get("forms") or {}).items():
        classes = listed or {}
        unknown = set(classes) - set(CLASSES)
        if unknown:
            raise ValueError(f"{DATA.name}: {form_id}: unknown class {sorted(unknown)}")
        forms[form_id] = {name: tuple(paths or ()) for name, paths in classes.items()}
    return {
        "forms": forms,
        "not_personal": {k: dict(v or {}) for k, v in (data.get("not_personal") or {}).items()},
        "score_reasons_hidden": tuple(data.get("score_reasons_hidden_from_village_heads") or ()),
    }


def field_class(form_id: str, path: str) -> str | None:
    """The class of a field of ``form_id`` (repeat indexes allowed in ``path``), None when it is
    not sensitive personal data."""
    bare = strip_indexes(path)
    for name, patterns in personal_fields()["forms"].get(form_id, {}).items():
        for pattern in patterns:
            if pattern.endswith("/*"):
                if bare.startswith(pattern[:-1]):
                    return name
            elif bare == pattern:
                return name
    return None


def may_reveal(role) -> bool:
    """Whether the role may ask for an ID number in full (officers, administrators)."""
    return role in STAFF_ROLES


def treatment(role, klass: str | None, *, revealed: bool = False) -> str:
    """Show, mask or hide an answer of class ``klass`` to a viewer of ``role``."""
    if klass is None:
        return SHOW
    if role not in STAFF_ROLES:  # village heads, and any role added later until decided
        return HIDE
    if klass == "id_number":
        return SHOW if revealed else MASK
    return SHOW


def mask_id(value: str) -> str:
    """``"064189004455"`` → ``"•••••••••455"`` (the last three characters kept)."""
    value = value.strip()
    if len(value) <= KEEP_LAST:
        return MASK_CHAR * len(value)
    return MASK_CHAR * (len(value) - KEEP_LAST) + value[-KEEP_LAST:]


def shown_value(role, klass: str | None, value: str, *, revealed: bool = False) -> str:
    """The value as the viewer may see it."""
    if not value:
        return value
    how = treatment(role, klass, revealed=revealed)
    if how == HIDE:
        return str(HIDDEN)
    if how == MASK:
        return mask_id(value)
    return value


def shown_answers(
    form_id: str, answers: Mapping[str, object], role, revealed: Iterable[str] = ()
) -> dict[str, object]:
    """The answers with every sensitive value masked or hidden for ``role`` (what labels that
    show answers are filled from, too)."""
    opened = set(revealed)
    out: dict[str, object] = {}
    for key, value in answers.items():
        klass = field_class(form_id, key)
        text = "" if value is None else str(value)
        out[key] = (
            value if klass is None else shown_value(role, klass, text, revealed=key in opened)
        )
    return out


def shown_rows(
    form_id: str, rows: list[AnswerRow], role, revealed: Iterable[str] = ()
) -> tuple[list[AnswerRow], set[str]]:
    """The answer rows with sensitive values masked or hidden for ``role``, and the paths of
    the masked ID numbers the viewer may reveal."""
    opened = set(revealed)
    out: list[AnswerRow] = []
    masked: set[str] = set()
    for row in rows:
        klass = field_class(form_id, row.path) if row.kind == "answer" else None
        if klass is None or not row.value:
            out.append(row)
            continue
        how = treatment(role, klass, revealed=row.path in opened)
        if how == SHOW:
            out.append(row)
            continue
        if how == MASK:
            masked.add(row.path)
        shown = shown_value(role, klass, row.value, revealed=row.path in opened)
        out.append(replace(row, value=shown, display=shown))
    return out, masked


def revealable(form_id: str, answers: Mapping[str, object], path: str) -> bool:
    """Whether ``path`` is an answered ID number of the submission (what "Hiện số" may ask)."""
    return field_class(form_id, path) == "id_number" and bool(answers.get(path))


def shown_result(result: Mapping, role) -> Mapping:
    """A score's result as the viewer may see it: for a village head the measured income, the
    lines carrying an income figure and the reasons naming a health, nutrition, disability or
    illness fact are hidden; the category, scores, counts and each indicator's outcome stay."""
    if role in STAFF_ROLES or not result:
        return result
    hidden_codes = set(personal_fields()["score_reasons_hidden"])
    out = dict(result)
    out["income_per_person_month"] = None
    out["income_phieu_b"] = None
    indicators = []
    hidden_names = []
    for indicator in result.get("indicators") or ():
        reasons = list(indicator.get("reasons") or ())
        if indicator.get("code") in hidden_codes or any(_sensitive(r) for r in reasons):
            hidden_names.append(indicator.get("name_vi") or "")
            reasons = [str(HIDDEN)] if reasons else []
        indicators.append({**indicator, "reasons": reasons})
    out["indicators"] = indicators
    lines = []
    for line in result.get("explanation_vi") or ():
        head = next(
            (
                f"{lead} {name}"
                for name in hidden_names
                for lead in ("Thiếu hụt", "Chưa xác định")
                if name and line.startswith(f"{lead} {name}")
            ),
            None,
        )
        if head is not None:
            lines.append(f"{head}: {HIDDEN}")
        elif _sensitive(line):
            lines.append(str(HIDDEN))
        else:
            lines.append(line)
    out["explanation_vi"] = lines
    return out


def _sensitive(text: str) -> bool:
    return bool(_SENSITIVE_WORDS.search(text) or _MONEY.search(text))
