"""Recordings the emulator does not serve, each with the reason (none left since issue 13).

test_contract_recordings checks that every recording has a scenario or a reason here, never
both, and that this stays empty.
"""

from __future__ import annotations

NOT_SERVED: dict[str, str] = {}
