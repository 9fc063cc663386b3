"""The backend contract (backend_conformance.py), run against the JSON directory backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.register_assert_rewrite("backend_conformance")

from backend_conformance import BackendConformance  # after the rewrite hook

from accessplan.jsonstate import JsonBackend
from accessplan.state import Backend, open_backend


class JsonHarness:
    """A fresh state directory, inspected through the file system."""

    def __init__(self, root: Path) -> None:
        self.root = root / "state"
        self.location = str(self.root)
        self.state_label = os.path.join(self.location, "state.json")

    def open(self) -> Backend:
        backend = open_backend(self.location)
        assert isinstance(backend, JsonBackend)
        return backend

    def _raw(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.exists() else None

    def raw_state(self) -> bytes | None:
        return self._raw("state.json")

    def raw_backup(self) -> bytes | None:
        return self._raw("state.json.backup")

    def put_raw_state(self, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "state.json").write_bytes(data)

    def snapshot(self) -> dict[str, bytes]:
        """Every file but the lock file, which is empty and only ever locked."""
        if not self.root.exists():
            return {}
        return {p.name: p.read_bytes() for p in sorted(self.root.iterdir()) if p.name != "state.lock"}

    def leftovers(self) -> list[str]:
        """Temporary files, a journal, or holder info that outlived its writer."""
        names = sorted(p.name for p in self.root.iterdir())
        return [n for n in names if n.startswith(".") or n in {"state.json.journal", "state.lock.info"}]


class TestJsonBackend(BackendConformance):
    @pytest.fixture()
    def harness(self, tmp_path: Path) -> JsonHarness:
        return JsonHarness(tmp_path)
