"""Where a page may send the browser next: only somewhere on this site.

A page that redirects to an address taken from the request (the login page's ``next=``, the bulk
review's ``back=``) would otherwise send a logged-in officer wherever a link crafted by someone
else says (an open redirect, a phishing aid).  Every such redirect goes through
:func:`local_target`.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def is_local_path(target: object) -> bool:
    """Whether ``target`` is a path on this site: it starts with one ``/`` (not ``//``, which a
    browser reads as another host), holds no backslash (browsers read ``/\\host`` as
    ``//host``), no control character (browsers drop tabs and newlines, so ``/<tab>/host`` would
    become ``//host``), and has no scheme or host."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_target(target: object, default: str) -> str:
    """``target`` when it is a path on this site (:func:`is_local_path`), else ``default``."""
    return target if is_local_path(target) else default
