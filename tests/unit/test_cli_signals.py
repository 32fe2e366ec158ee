"""How ``supportlake`` takes SIGTERM and Ctrl-C (end to end: ``tests/e2e/test_exit_codes.py``, 130)."""

from __future__ import annotations

import encodings.utf_8
import os
import signal
import sys
import threading
import time
from types import FrameType

import pytest

from warehouse import cli


def test_a_signal_that_lands_in_a_codec_is_sent_again_and_then_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg2 drops what a codec it calls raises: the handler does not raise there; it sends
    the signal again, and raises where the run's own code is."""
    sent: list[int] = []
    monkeypatch.setattr(cli, "RESEND_SECONDS", 0.0)
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append(sig))
    codec_frame: list[FrameType] = []

    def fake_decode(data: bytes) -> str:  # a frame whose code lives in Python's codecs
        frame = sys._getframe()
        codec_frame.append(frame)
        return data.decode()

    fake_decode.__code__ = fake_decode.__code__.replace(co_filename=encodings.utf_8.__file__)
    fake_decode(b"x")
    with cli._sigterm_interrupts():
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, codec_frame[0])  # in the codec: no exception, sent again
        deadline = time.monotonic() + 5
        while not sent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sent == [signal.SIGTERM]
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            handler(signal.SIGTERM, sys._getframe())  # in our code: raised


def test_a_signal_sent_again_after_the_command_ended_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the command's handlers gone, the default one would kill a run that finished."""
    sent: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append(sig))
    armed = threading.Event()
    cli._resend(signal.SIGTERM, armed)
    assert sent == []
    armed.set()
    cli._resend(signal.SIGTERM, armed)
    assert sent == [signal.SIGTERM]


def test_ctrl_c_stays_ignored_where_it_was_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with cli._sigterm_interrupts():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
