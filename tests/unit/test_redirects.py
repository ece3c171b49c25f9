"""Redirect targets taken from a request stay on this site (:mod:`server.redirects`)."""

from __future__ import annotations

import pytest

from server.redirects import is_local_path, local_target

OFF_SITE = [
    "//evil.example",
    "//evil.example/xa/phieu",
    "https://evil.example",
    "http:/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x00evil",
    "/\x7f",
    "evil.example",
    "",
    None,
    ["/xa/phieu"],
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_anything_but_a_path_of_this_site_falls_back_to_the_default(target):
    assert not is_local_path(target)
    assert local_target(target, "/bao-cao") == "/bao-cao"


@pytest.mark.parametrize(
    "target",
    ["/", "/xa/phieu", "/xa/phieu?state=received&page=2", "/xa/phieu?q=Nguyễn Văn", "/a//b"],
)
def test_a_path_of_this_site_is_kept(target):
    assert local_target(target, "/bao-cao") == target
