"""Times are shown in Vietnam time (UTC+7) whatever the server's clock zone."""

from datetime import UTC, datetime, timedelta, timezone

from server.i18n import local_time


def test_naive_utc_is_shown_seven_hours_later_across_midnight():
    assert local_time(datetime(2026, 12, 31, 18, 30)) == "01/01/2027 01:30"


def test_aware_times_are_converted_and_none_is_empty():
    eastern = timezone(timedelta(hours=-5))
    assert local_time(datetime(2026, 1, 1, 0, 0, tzinfo=eastern)) == "01/01/2026 12:00"
    assert local_time(datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), "%H:%M:%S") == "07:00:05"
    assert local_time(None) == ""


def test_vietnamese_numbers_group_thousands_with_dots():
    from server.i18n import vi_number

    assert vi_number(20_000_000) == "20.000.000"
    assert vi_number(999) == "999"
