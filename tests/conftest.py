"""Shared test configuration: the data files every suite reads; how tests are spread over
pytest-xdist workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"

# Files whose tests share no module-scoped fixture and no state: each test may run on any worker
# (the fault scenarios are the longest tests of the suite; one file of them would keep one
# worker busy long after the other is done).
INDEPENDENT_TESTS = ("tests/e2e/test_faults.py",)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, except that each test of INDEPENDENT_TESTS is a unit of its own. One
    worker takes a whole file, in order, so a module's gateway starts once. The files are handed
    out in the order a serial run takes them (xdist would start with the files of most tests):
    each worker then runs its files in the serial order, and a test that meets the state its
    file's predecessors left in a session-wide gateway meets no state a serial run never shows
    it (test_dead_letters.py and test_api.py look at the session gateway as a whole)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False

    class FilesAndIndependentTests(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return nodeid if file in INDEPENDENT_TESTS else file

    return FilesAndIndependentTests(config, log)
