"""`POST /pipeline/migrate`: the editor opens pipelines of older format versions in the current one, migrated as
runs migrate them, and refuses what is not a pipeline with a 400 naming the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call

from elyra_proc_ext.migration import CURRENT_VERSION
from elyra_proc_ext.parsing import parse

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"
OLD_PIPELINES = sorted(path for path in FORMATS.glob("v[1-7]/*.pipeline"))


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


def primary(document: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in document["pipelines"] if p["id"] == document["primary_pipeline"])


@pytest.mark.parametrize("path", OLD_PIPELINES, ids=lambda path: f"{path.parent.name}/{path.name}")
async def test_old_formats_come_back_current_and_parse_as_runs_parse_them(jp_fetch: Any, path: Path) -> None:
    original = json.loads(path.read_text())
    source = f"{path.parent.name}/{path.name}"
    status, answer = await api_call(jp_fetch, "POST", "migrate", body=original, path=source)
    assert status == 200, answer
    assert answer["from_version"] == primary(original)["app_data"].get("version", 1)
    assert primary(answer["pipeline"])["app_data"]["version"] == CURRENT_VERSION
    # The migrated document is what a run of the original sees: the same nodes with the same parameters.
    as_run = parse(original, source=source).pipeline
    assert parse(answer["pipeline"], source=source).pipeline.to_json() == as_run.to_json()


async def test_current_documents_are_left_as_they_are(jp_fetch: Any) -> None:
    current = json.loads(next(FORMATS.glob("v8/*.pipeline")).read_text())
    status, answer = await api_call(jp_fetch, "POST", "migrate", body=current)
    assert status == 200
    assert answer == {"pipeline": current, "from_version": None}


@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "JSON"),
    ({"version": "3.0", "primary_pipeline": "p", "pipelines": []}, "pipelines"),
    ({"doc_type": "pipeline", "version": "2.0", "primary_pipeline": "p",
      "pipelines": [{"id": "p", "nodes": [], "app_data": {"version": 8}}]}, "schema version"),
    ({"doc_type": "pipeline", "version": "3.0", "primary_pipeline": "p",
      "pipelines": [{"id": "p", "nodes": [], "app_data": {"version": 99}}]}, "newer Elyra"),
])
async def test_what_is_not_a_pipeline_is_a_400_saying_why(jp_fetch: Any, body: Any, says: str) -> None:
    status, answer = await api_call(jp_fetch, "POST", "migrate", body=body)
    assert status == 400, answer
    assert says.lower() in answer["message"].lower()
    assert answer["issues"]
