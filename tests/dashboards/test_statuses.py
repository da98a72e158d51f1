"""Status colours on the boundaries, both directions, and no data."""
import pytest

from dashboards.indicators import status, worst


@pytest.mark.parametrize("value,expected", [
    (96, "green"), (95, "green"),      # target met, exactly on the target included
    (94.9, "orange"), (90, "orange"),  # between target and threshold, threshold included
    (89.9, "red"), (0, "red"),
    (None, "grey"),
])
def test_higher_is_better(value, expected):
    assert status(value, 95, 90, True) == expected


@pytest.mark.parametrize("value,expected", [
    (0, "green"), (2, "green"),        # at most the target
    (2.1, "orange"), (5, "orange"),    # up to the threshold, included
    (5.1, "red"), (40, "red"),
    (None, "grey"),
])
def test_lower_is_better(value, expected):
    assert status(value, 2, 5, False) == expected


def test_target_equal_threshold_leaves_no_orange():
    assert status(0, 0, 0, False) == "green"
    assert status(1, 0, 0, False) == "red"


def test_safety_scale_on_its_usual_row():
    # target 0 (no event), threshold 1 (near-miss or first aid), accident beyond
    assert [status(v, 0, 1, False) for v in (0, 1, 2)] == ["green", "orange", "red"]


def test_letter_of_a_day_is_its_worst_indicator_grey_only_without_data():
    assert worst(["green", "orange", "grey"]) == "orange"
    assert worst(["green", "red", "orange"]) == "red"
    assert worst(["grey", "grey"]) == "grey"
    assert worst(["grey", "green"]) == "green"
