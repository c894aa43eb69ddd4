import pytest

from reportgen.formatting import Formatter

F = Formatter()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: F.money(1459.77), "$1,460"),
        (lambda: F.money(2_400_000), "$2.4M"),
        (lambda: F.money(-12), "−$12"),
        (lambda: F.money(None), "–"),
        (lambda: Formatter("CHF").money(10), "10 CHF"),
        (lambda: Formatter("EUR", ",", ".").money(1459.77), "€1.460"),
        (lambda: F.number(19.0), "19"),
        (lambda: F.number(7.57), "7.6"),
        (lambda: F.number(7.96), "8"),
        (lambda: F.number(12345.6), "12,346"),
        (lambda: F.number(0.7446, 2), "0.74"),
        (lambda: Formatter("EUR", ",", " ").number(1234.5, 1), "1 234,5"),
        (lambda: F.percent(0.28614), "28.6%"),
        (lambda: F.percent(1.0), "100%"),
        (lambda: F.percent(0.2), "20.0%"),
        (lambda: F.percent(0.0), "0%"),
        (lambda: F.times(1.7267), "1.7×"),
        (lambda: F.change(0.036), "+3.6%"),
        (lambda: F.change(-0.24), "−24.0%"),
        (lambda: F.points(0.012), "+1.2 pts"),
        (lambda: F.points(-0.004), "−0.4 pts"),
        (lambda: F.days(11.4), "11 days"),
        (lambda: F.days(1.2), "1 day"),
    ],
)
def test_formats(call, expected):
    assert call() == expected
