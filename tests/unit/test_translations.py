"""Every text of the staff pages has its English: the messages that ``scripts/i18n`` extracts
from the code and templates must all be translated in
``server/translations/en/LC_MESSAGES/messages.po`` (so a new page cannot forget English)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.conftest import REPO

CATALOG = REPO / "server" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        ["bash", str(REPO / "scripts" / "i18n"), "extract", str(pot)],
        env={**os.environ, "I18N_PYTHON": sys.executable},
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def english():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="en")


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_the_extraction_finds_python_lazy_and_template_texts(extracted):
    ids = {_key(m) for m in extracted if m.id}
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in ids  # gettext in Python
    assert "Mở (tải về và nhận phiếu)" in ids  # lazy_gettext at import time
    assert "Đăng nhập cán bộ" in ids  # _() in a template
    assert any(i.startswith("Biểu mẫu được biên dịch bằng pyxform") for i in ids)  # {% trans %}


def test_every_extracted_text_has_an_english_translation(extracted, english):
    missing, fuzzy = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = english.get(message.id)
        strings = (
            ()
            if translated is None
            else translated.string
            if isinstance(translated.string, tuple)
            else (translated.string,)
        )
        if not strings or not all(s.strip() for s in strings):
            missing.append(_key(message))
        elif translated.fuzzy:
            fuzzy.append(_key(message))
    assert not missing, (
        "texts without English (run scripts/i18n, fill in messages.po, run it again):\n"
        + "\n".join(missing)
    )
    assert not fuzzy, "fuzzy translations to check in messages.po:\n" + "\n".join(fuzzy)


def test_translations_keep_the_placeholders(english):
    for message in english:
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(_PLACEHOLDER.findall(source[0]))
        for target in targets:
            assert set(_PLACEHOLDER.findall(target)) == wanted, (message.id, target)
