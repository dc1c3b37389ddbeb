"""The shipped Grafana dashboard, read as Grafana reads it: every metric the gateway records has
a panel (the files people send included, issue 16), the media panels split what an operator
needs split, and the grid holds no two panels in one place. (That every query names only
metrics the gateway exposes is checked against a running gateway in
tests/e2e/test_metrics_seed.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.promql import DASHBOARDS, dashboard_queries, metric_names
from wagate.observability.metrics import (
    MEDIA,
    MEDIA_BYTES,
    MEDIA_RETRIES,
    MEDIA_STORE_TIME,
    RECORDED,
    Counter,
)

_BY = re.compile(r"\bby\s*\(([^)]*)\)")


def _panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in node.get("panels", []):
        yield panel
        yield from _panels(panel)  # a collapsed row keeps its panels inside it


def _dashboards() -> list[dict[str, Any]]:
    assert DASHBOARDS, "deploy/grafana/ holds no dashboard"
    return [json.loads(path.read_text()) for path in DASHBOARDS]


def _reading(metric: str) -> list[tuple[dict[str, Any], str]]:
    """(panel, expr) for every panel target that reads `metric`."""
    return [
        (panel, target["expr"])
        for dashboard in _dashboards()
        for panel in _panels(dashboard)
        for target in panel.get("targets", [])
        if metric in metric_names(target.get("expr", ""))
    ]


def _grouped_by(expr: str) -> set[str]:
    return {label.strip() for group in _BY.findall(expr) for label in group.split(",")}


@pytest.mark.parametrize("family", RECORDED, ids=lambda family: family.name)
def test_every_metric_the_gateway_records_has_a_panel(family: Any) -> None:
    names = (
        {family.name}
        if isinstance(family, Counter)
        else {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
    )
    queries = [query for path in DASHBOARDS for query in dashboard_queries(path)]
    used = {name for query in queries for name in metric_names(query)}
    assert names & used, f"no dashboard panel reads {family.name}"


def test_files_are_shown_by_status_and_problem() -> None:
    [(panel, expr)] = _reading(MEDIA.name)
    assert {"status", "problem"} <= _grouped_by(expr)
    assert "{{status}}" in panel["targets"][0]["legendFormat"]


def test_bytes_stored_are_shown_in_bytes_by_kind() -> None:
    [(panel, expr)] = _reading(MEDIA_BYTES.name)
    assert "kind" in _grouped_by(expr)
    assert panel["fieldConfig"]["defaults"]["unit"] == "bytes"


def test_the_webhook_to_stored_time_is_shown_as_its_median_and_tail() -> None:
    reading = _reading(MEDIA_STORE_TIME.name + "_bucket")
    assert len({panel["id"] for panel, _ in reading}) == 1  # one panel, several quantiles
    quantiles = {
        float(match)
        for _, expr in reading
        for match in re.findall(r"histogram_quantile\(\s*([0-9.]+)", expr)
    }
    assert {0.5, 0.99} <= quantiles
    assert all("le" in _grouped_by(expr) for _, expr in reading)
    assert reading[0][0]["fieldConfig"]["defaults"]["unit"] == "s"


def test_retries_are_shown_by_the_side_that_failed() -> None:
    [(_, expr)] = _reading(MEDIA_RETRIES.name)
    assert "cause" in _grouped_by(expr)


def test_panel_ids_are_unique_and_no_two_panels_share_a_cell() -> None:
    for dashboard in _dashboards():
        panels = list(_panels(dashboard))
        ids = [panel["id"] for panel in panels]
        assert len(ids) == len(set(ids)), sorted(ids)
        taken: dict[tuple[int, int], int] = {}
        for panel in panels:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in taken, (panel["id"], taken.get((x, y)))
                    taken[(x, y)] = panel["id"]


def test_the_query_parser_finds_metrics_and_nothing_else() -> None:
    query = (
        "histogram_quantile(0.95, sum by (le, tenant) (rate(whatsapp_response_time_seconds_bucket"
        '{tenant=~"$tenant"}[$__rate_interval]))) > on(tenant) group_left wagate_x offset 1h'
        " / ignoring(state) sum(whatsapp_queue_depth) without (state) and 1e3"
    )
    assert metric_names(query) == {
        "whatsapp_response_time_seconds_bucket",
        "wagate_x",
        "whatsapp_queue_depth",
    }
    assert metric_names("label_values(whatsapp_message_total, tenant)") == {
        "whatsapp_message_total"
    }
