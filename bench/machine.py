"""What every bench report opens with: the machine's size and how busy it was.

Input: nothing (the running machine). Output: a dict of cores, memory, Python, platform and the
1/5/15-minute load averages (os.getloadavg), so a figure is read next to the contention it was
measured under. Reports only; changes nothing.
"""

from __future__ import annotations

import os
import platform
from typing import Any


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15m": load_average(),
    }


def pick(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted samples (nearest rank, as every bench here reports it)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
