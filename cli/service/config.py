"""The service's settings: given to `careledger serve`, passed to each worker through the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

PREFIX = "CARELEDGER_SERVE_"


@dataclass(frozen=True)
class ServiceConfig:
    """What a worker needs to know: the store, the limits, whether to follow the event log."""

    db: str
    follow: bool = False
    max_body: int = 1_000_000  # bytes of a request body
    timeout: float = 30.0  # seconds a request may take before 503
    ready_lag: int = 1000  # /readyz fails when the read models are this many events behind
    retry_after: int = 5  # seconds a client is told to wait after a 503

    def to_env(self) -> dict[str, str]:
        """Return the settings as environment variables for the worker processes."""
        return {PREFIX + key.upper(): str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_env(cls) -> ServiceConfig:
        """Read the settings a `careledger serve` process left in the environment."""

        def get(name: str, default: str) -> str:
            return os.environ.get(PREFIX + name.upper(), default)

        return cls(
            db=get("db", "careledger.db"),
            follow=get("follow", "False") == "True",
            max_body=int(get("max_body", "1000000")),
            timeout=float(get("timeout", "30")),
            ready_lag=int(get("ready_lag", "1000")),
            retry_after=int(get("retry_after", "5")),
        )
