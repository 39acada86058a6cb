"""callflow doctor's verdict on the Asterisk version."""

from __future__ import annotations

from callflow.doctor import Verdict, version_check


def test_versions_before_16_are_refused() -> None:
    check = version_check("13.38.3")
    assert check.verdict is Verdict.FAIL
    assert "needs 16 or newer" in check.detail


def test_16_works_and_says_what_it_does_differently() -> None:
    check = version_check("16.28.0~dfsg-0+deb11u4")
    assert check.verdict is Verdict.OK
    assert "200 ms" in check.detail and "over HTTP" in check.detail


def test_a_current_22_needs_no_note() -> None:
    assert version_check("22.10.1+dfsg").detail == "Asterisk 22.10.1+dfsg"
    assert version_check("22.10.1+dfsg").verdict is Verdict.OK


def test_an_untested_major_is_a_warning_naming_the_tested_ones() -> None:
    check = version_check("20.15.0")
    assert check.verdict is Verdict.WARN
    assert "16 and 22" in check.detail
    assert "over HTTP" not in check.detail  # 20.14+ takes requests on the socket
    assert "over HTTP" in version_check("21.5.0").detail


def test_an_unreadable_version_is_refused() -> None:
    assert version_check("GIT-master-abc").verdict is Verdict.FAIL
