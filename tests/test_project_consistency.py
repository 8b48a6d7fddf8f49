"""The README and meltano.yml say what the plugins actually do."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def about(plugin: str) -> dict[str, object]:
    out = subprocess.run(
        [str(BIN / plugin), "--about", "--format=json"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def meltano_plugin(name: str) -> dict[str, object]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    for kind in ("extractors", "loaders"):
        for plugin in project["plugins"][kind]:
            if plugin["name"] == name:
                return plugin
    raise AssertionError(f"{name} is not in meltano.yml")


def test_readme_settings_tables_match_about_output() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_about.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("plugin", ["tap-welkin", "target-welkin"])
def test_meltano_yml_declares_every_setting_and_marks_secrets(plugin: str) -> None:
    settings = about(plugin)["settings"]["properties"]
    # SDK-provided settings (stream maps, flattening, batch...) are documented by Meltano itself.
    sdk_builtins = {
        "stream_maps",
        "stream_map_config",
        "faker_config",
        "flattening_enabled",
        "flattening_max_depth",
        "flattening_max_key_length",
        "flattening_separator",
        "batch_config",
        "add_record_metadata",
        "load_method",
        "validate_records",
        "batch_size_rows",
        "process_activate_version_messages",
        "default_target_schema",
        "hard_delete",
        "stream_maps.__else__",
    }
    own = {name for name in settings if name not in sdk_builtins}
    declared = {s["name"]: s for s in meltano_plugin(plugin)["settings"]}
    assert own <= set(declared), f"missing in meltano.yml: {sorted(own - set(declared))}"
    assert set(declared) <= set(settings), (
        f"not settings of {plugin}: {sorted(set(declared) - set(settings))}"
    )
    for name, schema in settings.items():
        if name in declared and (schema.get("secret") or schema.get("writeOnly")):
            assert declared[name].get("sensitive") is True, f"{plugin}.{name} must be sensitive"
    assert any(s.get("secret") or s.get("writeOnly") for s in settings.values())


def test_inherited_extractors_keep_their_own_selection() -> None:
    for name in ("tap-welkin-patients", "tap-welkin-clinical"):
        plugin = meltano_plugin(name)
        assert plugin["inherit_from"] == "tap-welkin"
        assert plugin["select"]


def _hub() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "hub_definitions", ROOT / "scripts" / "hub_definitions.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub = _hub()
meltano_kind = hub.meltano_kind


@pytest.mark.parametrize("plugin", ["tap-welkin", "target-welkin"])
def test_meltano_yml_definition_matches_about_output(plugin: str) -> None:
    """Capabilities, kinds, descriptions and required settings as the plugin reports them."""
    reported: dict[str, Any] = about(plugin)
    declared: dict[str, Any] = meltano_plugin(plugin)
    assert sorted(declared["capabilities"]) == sorted(reported["capabilities"])
    properties = reported["settings"]["properties"]
    for setting in declared["settings"]:
        schema = properties[setting["name"]]
        assert setting.get("kind") == meltano_kind(schema), setting["name"]
        assert setting.get("description") == schema["description"], setting["name"]
        assert bool(setting.get("sensitive")) == (setting["kind"] == "password"), setting["name"]
        if "enum" in schema:
            values = [option["value"] for option in setting["options"]]
            assert values == schema["enum"], setting["name"]
    required = reported["settings"].get("required", [])
    assert declared["settings_group_validation"] == [required]


def test_hub_definitions_are_generated_from_about() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hub_definitions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("plugin", ["tap-welkin", "target-welkin"])
def test_meltano_yml_agrees_with_the_hub_definition(plugin: str) -> None:
    """A user's meltano.yml from the hub and ours describe each setting the same way."""
    definition = yaml.safe_load(hub.path_of(plugin).read_text())
    published = {s["name"]: s for s in definition["settings"]}
    declared: dict[str, Any] = meltano_plugin(plugin)
    assert sorted(declared["capabilities"]) == definition["capabilities"]
    assert [sorted(group) for group in declared["settings_group_validation"]] == definition[
        "settings_group_validation"
    ]
    for setting in declared["settings"]:
        ours = published[setting["name"]]
        for key in ("kind", "description"):
            assert setting.get(key) == ours.get(key), (setting["name"], key)
        assert bool(setting.get("sensitive")) == bool(ours.get("sensitive")), setting["name"]
        if "options" in ours:
            assert [o["value"] for o in setting["options"]] == [o["value"] for o in ours["options"]]
    assert {"secret_key"} <= {n for n, s in published.items() if s.get("sensitive")}


def test_meltano_yml_gives_each_plugin_a_test_command() -> None:
    for plugin in ("tap-welkin", "target-welkin"):
        assert meltano_plugin(plugin)["commands"]["test"]["args"] == "--config ENV --test"
