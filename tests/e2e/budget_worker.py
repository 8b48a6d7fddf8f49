"""One worker process of the shared-budget tests.

``python budget_worker.py CONFIG_JSON N OUT`` sends ``N`` ``GET patients`` requests through a
``WelkinClient`` built from ``CONFIG_JSON`` and writes to ``OUT`` the wall-clock time at which
the request budget admitted each request (token requests included), one per line. With
``N`` < 0 it instead asks for ``-N`` new tokens, each as if Welkin had refused the last one.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from welkin_client import WelkinClient


def main() -> None:
    config = json.loads(sys.argv[1])
    count = int(sys.argv[2])
    client = WelkinClient(config)
    with Path(sys.argv[3]).open("w") as sink:
        spend = client.budget.spend

        def recorded_spend() -> None:
            spend()
            sink.write(f"{time.time()}\n")
            sink.flush()

        # The session spends this very budget object on every request it sends.
        client.budget.spend = recorded_spend  # type: ignore[method-assign]
        for _ in range(abs(count)):
            if count < 0:
                client.tokens.on_rejected(None)
            else:
                client.request("GET", "patients", params={"pageSize": 1})
    client.close()


if __name__ == "__main__":
    main()
