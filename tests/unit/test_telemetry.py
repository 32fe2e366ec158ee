"""dlt's anonymous telemetry is off for supportlake's own runs unless the user opts in."""

from __future__ import annotations

import os

import pytest

from warehouse.cli import quiet_dlt_telemetry


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNTIME__DLTHUB_TELEMETRY", raising=False)
    monkeypatch.delenv("SUPPORTLAKE_DLT_TELEMETRY", raising=False)
    quiet_dlt_telemetry()
    assert os.environ["RUNTIME__DLTHUB_TELEMETRY"] == "false"


def test_a_setting_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNTIME__DLTHUB_TELEMETRY", raising=False)
    monkeypatch.setenv("SUPPORTLAKE_DLT_TELEMETRY", "true")
    quiet_dlt_telemetry()
    assert os.environ["RUNTIME__DLTHUB_TELEMETRY"] == "true"


def test_dlt_own_setting_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "true")
    monkeypatch.delenv("SUPPORTLAKE_DLT_TELEMETRY", raising=False)
    quiet_dlt_telemetry()
    assert os.environ["RUNTIME__DLTHUB_TELEMETRY"] == "true"
