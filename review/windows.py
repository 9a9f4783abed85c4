"""Follow-up windows: the one definition shared by the protocol and extraction.

A window is a span of days since the start of treatment, inclusive on both ends and open at
the top when ``to_day`` is None. The protocol declares them; extraction puts each reported
time point in the first window that holds it, so both must read a window the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FollowUpWindow", "window_for"]


@dataclass(frozen=True)
class FollowUpWindow:
    """A follow-up window in days since the start of treatment, inclusive on both ends."""

    label: str
    from_day: float
    to_day: float | None = None

    def contains(self, day: float) -> bool:
        """Whether a time point (days since start) falls in this window."""
        return day >= self.from_day and (self.to_day is None or day <= self.to_day)


def window_for(windows: Iterable[FollowUpWindow], day: float) -> FollowUpWindow | None:
    """The first of ``windows`` holding a time point (days since start), if any."""
    for window in windows:
        if window.contains(day):
            return window
    return None
