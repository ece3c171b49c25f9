"""Names compared the way people type them: without case, accents or extra spaces.

A commune officer searching for "Nguyen Van A" on a computer without a Vietnamese keyboard must
find "Nguyễn Văn A".  The registry stores each head's name folded this way
(``Household.head_name_folded``, filled whenever the name is written), so the search is a plain
``LIKE`` in the database — the same on SQLite and PostgreSQL — instead of a scan in Python.
"""

from __future__ import annotations

import unicodedata


def fold_name(name: str) -> str:
    """``"  Nguyễn  Văn Đức "`` → ``"nguyen van duc"``: lower case, no tone or vowel marks,
    đ → d, spaces squeezed."""
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().split())
