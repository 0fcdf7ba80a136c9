"""A small chart of a bound's recent windows against the bound, as data a template draws as SVG.

Server-rendered so the live page reads without JavaScript and prints; the page puts the same
windows in a table beside it (the chart's text alternative)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 320, 90, 8


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    outcome: str  # met / breached / not_enough_data
    fired: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bound_y: float
    line: str  # SVG polyline points of the windows with a value
    dots: list[Dot]
    low: float
    high: float


def chart(values: Sequence[tuple[float | None, str, bool]], bound: float) -> Chart:
    """The chart of windows given oldest first as (value, outcome, fired), scaled so the bound and
    every value fit; windows without a value are drawn on the bound line, hollow."""
    known = [value for value, _, _ in values if value is not None]
    low, high = min([*known, bound]), max([*known, bound])
    if high == low:
        low, high = low - 1, high + 1
    margin = (high - low) * 0.1
    low, high = low - margin, high + margin
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)

    def y_of(value: float) -> float:
        return round(HEIGHT - PAD - (value - low) / (high - low) * (HEIGHT - 2 * PAD), 1)

    dots = [
        Dot(round(PAD + number * step, 1), y_of(bound if value is None else value), outcome, fired)
        for number, (value, outcome, fired) in enumerate(values)
    ]
    line = " ".join(
        f"{dot.x},{dot.y}"
        for dot, (value, _, _) in zip(dots, values, strict=True)
        if value is not None
    )
    return Chart(WIDTH, HEIGHT, y_of(bound), line, dots, low, high)
