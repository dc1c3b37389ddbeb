"""The collector's settings a serving process starts with (issue 18)."""

from __future__ import annotations

import gc

from wagate.runtime.processes import YOUNG_COLLECTION_THRESHOLD, freeze_startup_objects


def test_startup_objects_are_frozen_and_young_objects_collected_less_often() -> None:
    before = gc.get_threshold()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        young, middle, oldest = gc.get_threshold()
        assert young == YOUNG_COLLECTION_THRESHOLD > before[0]
        assert (middle, oldest) == before[1:]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
