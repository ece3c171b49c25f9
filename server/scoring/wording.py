"""The words of coded answers, for the engine's reasons and for documents (pure but for
reading the shipped forms).

A canonical fact (``water_source``, a member's ``ethnicity``) holds the option code the
questionnaire stored (``gieng_khoan``, ``ba_na``).  The questionnaire's mapping
(``forms/mappings/<form_id>.yaml``) says which field feeds which fact, and the form's XForm
gives that field's choice labels: together, fact → code → label (:data:`FactWords`), which
:func:`server.scoring.engine.score_household` takes as ``words``.  B1 answers are under
``b1.<item>``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from server.questionnaires.labels import FormLabels, form_labels
from server.scoring.mapping import Mapping, mappings
from server.scoring.rules import NO_WORDS, FactWords, fact_value_words

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def fact_words(mapping: Mapping, labels: FormLabels) -> FactWords:
    """Fact → code → label for every fact the mapping reads from a select question with a
    static choice list (facts read from other questions have no words)."""
    sources: dict[str, str] = {
        fact: source["field"] for fact, source in mapping.data["household"].items()
    }
    repeat = mapping.data["members"]["repeat"]
    for fact, source in mapping.data["members"]["facts"].items():
        sources[fact] = f"{repeat}/{source['field']}"
    for item, source in mapping.data["b1"].items():
        sources[f"b1.{item}"] = source["field"]
    words: dict[str, Any] = {}
    for fact, path in sources.items():
        field = labels.fields.get(path)
        if field is not None and field.choices:
            words[fact] = field.choices  # already read-only
        elif fact in DERIVED_B1:
            words[fact] = _derived_words(labels, fact)
    return MappingProxyType(words)


# B1 answers the Phiếu B calculates from other answers (no choice list of their own) whose
# codes are other questions' codes: the assets — those of the assets owned and of the
# information devices, worded by those questions.  (The highest qualification and the pensions
# have codes of their own: :data:`server.scoring.b1.CALCULATED_WORDS`.)
DERIVED_B1: dict[str, tuple[str, ...]] = {"b1.b1_assets": ("assets", "info_devices")}


def _derived_words(labels: FormLabels, fact: str) -> MappingProxyType:
    """The words of a calculated B1 answer (:data:`DERIVED_B1`): the choice labels of the
    form's questions of those names (in their groups)."""
    found: dict[str, str] = {}
    for path, field in labels.fields.items():
        if path.rsplit("/", 1)[-1] in DERIVED_B1[fact]:
            for code, label in (field.choices or {}).items():
                found.setdefault(code, label)
    return MappingProxyType(found)


def form_words(xml_form_id: str, xform: bytes) -> FactWords:
    """The words of a scored questionnaire's XForm in Vietnamese (the language of reasons);
    none for a form without a household mapping."""
    mapping = mappings().get(xml_form_id)
    if mapping is None:
        return NO_WORDS
    return fact_words(mapping, form_labels(xform, "vi"))


def shipped_forms() -> list[str]:
    """The scored questionnaires that ship with rasoat (``forms/<form_id>.xml``)."""
    return sorted(f for f in mappings() if (FORMS_DIR / f"{f}.xml").is_file())


@cache
def shipped_words(xml_form_id: str) -> FactWords:
    """:func:`form_words` of a shipped form; ``KeyError`` when it does not ship."""
    if xml_form_id not in shipped_forms():
        raise KeyError(xml_form_id)
    return form_words(xml_form_id, (FORMS_DIR / f"{xml_form_id}.xml").read_bytes())


def member_words(member: dict[str, Any], words: FactWords) -> dict[str, str]:
    """The coded facts of a canonical member (as stored in a result's ``inputs``) in words:
    ``{"ethnicity": "Ba Na", "relationship": "Chủ hộ", …}``; a code without a label as it is."""
    return {
        fact: fact_value_words(fact, value, words)
        for fact, value in member.items()
        if fact in words and isinstance(value, str) and value
    }
