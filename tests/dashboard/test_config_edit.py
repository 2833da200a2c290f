"""Providers and models edited from the dashboard: each change checked by the plugin's own loader
(a refusal is the command line's message, and the file is left as it was), the file written
atomically with its comments and order kept, and the targets page showing the change."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("fastapi")
pytest.importorskip("ruamel.yaml")
with warnings.catch_warnings():  # Starlette's own note that it prefers another httpx package
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from pytest_llmbench.config import ConfigError, load_config
from pytest_llmbench.dashboard.project import Project
from pytest_llmbench.dashboard.site import dashboard_app

CONFIG = """\
# The project's targets (this comment must survive every edit).
defaults:
  max_tokens: 64   # short answers
providers:
  hosted:
    api_base: http://127.0.0.1:9/v1
    api_key_env: HOSTED_KEY
    models:
      - id: gpt-x        # the first model
        context_window: 8192
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "config.yaml").write_text(CONFIG)
    return Project(tmp_path / "config.yaml")


def _client(project: Project) -> Any:
    return TestClient(dashboard_app(project), base_url="http://127.0.0.1:8501")


def _command_line_message(project: Project, tmp_path: Path, edit: Any) -> str:
    """What the plugin says of the same change made by hand to a copy of the config."""
    document = yaml.safe_load(CONFIG)
    edit(document)
    copy = tmp_path / "copy" / "config.yaml"
    copy.parent.mkdir()
    copy.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as caught:
        load_config(copy)
    return str(caught.value).replace(str(copy), str(project.config_path))


def test_a_model_is_added_edited_and_removed_with_the_comments_kept(project):
    client = _client(project)
    added = client.post("/api/config/providers/hosted/models", json={"id": "gpt-y"})
    assert added.status_code == 200, added.text
    models = [m["id"] for m in added.json()["providers"][0]["models"]]
    assert models == ["gpt-x", "gpt-y"]
    edited = client.put("/api/config/providers/hosted/models/gpt-y", json={"context_window": 4096})
    assert edited.status_code == 200, edited.text
    text = project.config_path.read_text()
    assert "# The project's targets (this comment must survive every edit)." in text
    assert "# the first model" in text and "# short answers" in text
    assert load_config(project.config_path).providers[0].models[1].context_window == 4096
    assert client.delete("/api/config/providers/hosted/models/gpt-y").status_code == 200
    assert [m.id for m in load_config(project.config_path).providers[0].models] == ["gpt-x"]
    assert not list(project.folder.glob(".config.*"))  # no temporary file left


def test_a_bad_value_is_refused_with_the_command_lines_message(project, tmp_path):
    before = project.config_path.read_bytes()

    def bad(document: dict[str, Any]) -> None:
        document["providers"]["hosted"]["models"].append({"id": "gpt-z", "context_window": -5})

    expected = _command_line_message(project, tmp_path, bad)
    answer = _client(project).post(
        "/api/config/providers/hosted/models", json={"id": "gpt-z", "context_window": -5}
    )
    assert answer.status_code == 422 and answer.json()["detail"] == expected, answer.text
    assert "context_window" in expected and str(project.config_path) in expected
    assert project.config_path.read_bytes() == before


def test_providers_are_added_edited_and_removed(project):
    client = _client(project)
    fields = {"managed": "simulator", "models": [{"id": "sim-a"}]}
    added = client.post("/api/config/providers", json={"name": "embedded", "fields": fields})
    assert added.status_code == 200, added.text
    assert [p["name"] for p in added.json()["providers"]] == ["hosted", "embedded"]
    again = client.post("/api/config/providers", json={"name": "embedded", "fields": fields})
    assert again.status_code == 422 and "already in the config" in again.json()["detail"]
    unknown = client.put("/api/config/providers/hosted", json={"colour": "blue"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"], unknown.text
    moved = client.put("/api/config/providers/hosted", json={"api_base": "http://127.0.0.1:8/v1"})
    assert moved.status_code == 200
    assert load_config(project.config_path).providers[0].api_base == "http://127.0.0.1:8/v1"
    assert client.delete("/api/config/providers/embedded").status_code == 200
    assert [p.name for p in load_config(project.config_path).providers] == ["hosted"]


def test_a_change_from_another_site_never_reaches_the_file(project):
    before = project.config_path.read_bytes()
    answer = _client(project).delete(
        "/api/config/providers/hosted", headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert project.config_path.read_bytes() == before
