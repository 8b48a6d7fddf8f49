"""Process-wide state shared by the ASGI app, the handlers and the control API."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .auth import TokenService
from .config import EmulatorConfig
from .faults import FaultEngine, FaultSettings, RequestCounter
from .routes import webhook_audit
from .storage import Database
from .webhooks import WebhookDispatcher, hooks_from_config


@dataclass
class AppState:
    """Configuration, storage, token service, faults and counters of one server."""

    config: EmulatorConfig
    db: Database
    initial_faults: FaultSettings
    tokens: TokenService = field(init=False)
    faults: FaultEngine = field(init=False)
    counter: RequestCounter = field(default_factory=RequestCounter)
    webhooks: WebhookDispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenService(self.db, self.config)
        self.faults = FaultEngine(copy.deepcopy(self.initial_faults))
        db = self.db
        self.webhooks = WebhookDispatcher(
            lambda tenant, sent_at, item: webhook_audit.store_delivery(db, tenant, sent_at, item),
            hooks_from_config(self.config.webhooks),
        )

    def reset(self) -> None:
        """Back to start-up state: CLI fault settings, no script, counters and throttle cleared."""
        self.faults.replace(copy.deepcopy(self.initial_faults))
        self.faults.script = []
        self.counter.reset()
        self.tokens.reset_throttle()
        self.webhooks.reset(hooks_from_config(self.config.webhooks))
