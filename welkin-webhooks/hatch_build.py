"""Ship the shared Welkin client inside this package's wheel (one pip install, nothing else).

The receiver imports only ``welkin_client.eventlog`` (standard library only).

welkin_client has one home, ../welkin-client/src. A wheel built from the repository takes it
from there; a wheel built from this plugin's sdist finds the copy the sdist carries
(./welkin_client, listed in `packages`). Editable installs take neither: the dev venv installs
welkin-client itself in editable mode, so edits there are live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SharedClientHook(BuildHookInterface):  # type: ignore[type-arg]
    """Force-include ../welkin-client/src/welkin_client when building from the repository."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Add the shared client to a regular (not editable) wheel built from the repository."""
        shared = Path(self.root).parent / "welkin-client" / "src" / "welkin_client"
        if version != "editable" and shared.is_dir():
            build_data["force_include"][str(shared)] = "welkin_client"
