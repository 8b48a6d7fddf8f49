"""Process-wide state shared by the ASGI app, the handlers and the control API."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .auth import TokenService
from .config import EmulatorConfig
from .faults import FaultEngine, FaultSettings, RequestCounter
from .storage import Database


@dataclass
class AppState:
    """Configuration, storage, token service, faults and counters of one server."""

    config: EmulatorConfig
    db: Database
    initial_faults: FaultSettings
    tokens: TokenService = field(init=False)
    faults: FaultEngine = field(init=False)
    counter: RequestCounter = field(default_factory=RequestCounter)

    def __post_init__(self) -> None:
        self.tokens = TokenService(self.db, self.config)
        self.faults = FaultEngine(copy.deepcopy(self.initial_faults))

    def reset(self) -> None:
        """Back to start-up state: CLI fault settings, no script, counters and throttle cleared."""
        self.faults.replace(copy.deepcopy(self.initial_faults))
        self.faults.script = []
        self.counter.reset()
        self.tokens.reset_throttle()
