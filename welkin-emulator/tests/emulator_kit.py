"""Helpers of the emulator's tests (imported by name; pytest's pythonpath lists this folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from welkin_emulator.testing import EmulatorProcess

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Api:
    """A tiny authenticated client for one emulator (requests over real sockets)."""

    def __init__(
        self, emu: EmulatorProcess, client: str = "DEMOCLIENT", secret: str = "demo-secret"
    ):
        self.emu = emu
        self.session = requests.Session()
        self.client, self.secret = client, secret
        self.token = emu.token(client, secret)
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def url(self, path: str) -> str:
        if path.startswith("/"):
            return self.emu.url + path
        if path.startswith("admin/"):
            return f"{self.emu.url}/{self.emu.tenant}/{path}"
        return f"{self.emu.api_url}/{path}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.session.request(method, self.url(path), **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    # conveniences used by many tests
    def new_patient(self, **values: Any) -> dict[str, Any]:
        body = {"firstName": "Test", "lastName": "Patient", **values}
        r = self.post("patients", body)
        assert r.status_code == 201, r.text
        return r.json()

    def active_user(self) -> dict[str, Any]:
        users = self.get("admin/users", params={"size": 1000}).json()["data"]
        return next(u for u in users if u["userState"] == "ACTIVE")
