"""Byte counts for people: decimal SI units, three significant digits."""

from __future__ import annotations

from modeld.sizes import human_size


def test_sizes_a_person_compares_with_a_model_card():
    assert [human_size(n) for n in (999, 8_500_000, 180_000_000, 6_900_000_000)] == [
        "999 B",
        "8.5 MB",
        "180 MB",
        "6.9 GB",
    ]


def test_units_are_decimal_and_labelled_si():
    assert human_size(0) == "0 B"
    assert human_size(1000) == "1.0 kB"
    assert human_size(1024) == "1.0 kB"  # not 1 KB: a thousand bytes make a kilobyte here
    assert human_size(1_500_000) == "1.5 MB"
    assert human_size(4_920_000_000) == "4.9 GB"
    assert human_size(2 * 10**12) == "2.0 TB"


def test_one_decimal_only_below_ten():
    assert human_size(9_940) == "9.9 kB"
    assert human_size(9_960) == "10 kB"  # not '10.0 kB'
    assert human_size(85_000_000) == "85 MB"


def test_rounding_up_moves_to_the_next_unit():
    assert human_size(999_499) == "999 kB"
    assert human_size(999_999) == "1.0 MB"  # never '1000 kB'
    assert human_size(999.6) == "1.0 kB"  # a rate in bytes per second


def test_the_largest_unit_takes_whatever_is_left():
    assert human_size(3 * 10**18) == "3000 PB"
