"""Each ticket's outline, cheap enough to compute for a million tickets at construction.

:func:`plan_ticket` turns four uniform numbers into a ticket's outcome kind, channel,
resolution offset and last-update offset; the store keeps them in ``array`` columns and they
fix the export order. :func:`~.history.build_history` later fills in the timeline inside that
outline, so both always agree on when the ticket was last updated.
"""

from __future__ import annotations

import math

from simulators.world import weighted

from ._util import DAY, HOUR

# Outcome kinds (low nibble of the kind byte) and rating flags (high bits).
NEW, OPEN, PENDING, HOLD, SOLVED, CLOSED, REOPENED, MERGED, CLOSED_UNSOLVED, DELETED = range(10)
KIND_MASK = 0x0F
FLAG_OFFERED = 0x10
FLAG_RATED = 0x20
FLAG_RERATED = 0x40

CHANNELS = ("voice", "email", "chat", "web", "api", "twitter", "facebook", "whatsapp", "help_center")
"""Channel codes; ``help_center`` (web form) is served as via channel ``web``."""
VOICE = 0
_pick_channel = weighted(
    (
        (0, 0.60),  # voice: the primary channel
        (1, 0.14),  # email
        (2, 0.10),  # chat
        (3, 0.03),  # web (agent-created)
        (4, 0.03),  # api
        (5, 0.02),  # twitter
        (6, 0.015),  # facebook
        (7, 0.015),  # whatsapp
        (8, 0.05),  # help center web form
    )
)
_pick_old_kind = weighted(
    (
        (CLOSED, 0.80),
        (REOPENED, 0.08),
        (MERGED, 0.03),
        (CLOSED_UNSOLVED, 0.02),
        (DELETED, 0.01),
        (OPEN, 0.02),
        (PENDING, 0.025),
        (HOLD, 0.015),
    )
)
_pick_young_kind = weighted(((NEW, 0.15), (OPEN, 0.45), (PENDING, 0.25), (HOLD, 0.15)))
_MEAN_RESOLUTION = (15 * 60, 3 * HOUR, 40 * 60, 3 * HOUR, 3 * HOUR, 90 * 60, 90 * 60, 90 * 60, 3 * HOUR)
_MIN_RESOLUTION = (60, 300, 120, 300, 300, 300, 300, 300, 300)


def offer_delay(ticket_id: int) -> int:
    """Seconds from the solve to the satisfaction survey being offered."""
    return HOUR + (ticket_id * 104_729) % 1800


def rate_delay(ticket_id: int) -> int:
    """Seconds from the solve to the requester's rating."""
    return offer_delay(ticket_id) + 600 + (ticket_id * 1_299_709) % 21_600


def rerate_delay(ticket_id: int) -> int:
    """Seconds from the solve to the requester changing the rating."""
    return rate_delay(ticket_id) + HOUR + (ticket_id * 15_485_863) % 43_200


def close_delay(ticket_id: int) -> int:
    """Seconds from the solve to the automatic close (about four days)."""
    return 4 * DAY + (ticket_id * 7919) % 7200


def _rating_end(ticket_id: int, flags: int) -> int:
    if flags & FLAG_RERATED:
        return rerate_delay(ticket_id)
    if flags & FLAG_RATED:
        return rate_delay(ticket_id)
    if flags & FLAG_OFFERED:
        return offer_delay(ticket_id)
    return 0


def _fit_rating(ticket_id: int, flags: int, room: int) -> int:
    """Drop the rating steps that would fall after ``room`` seconds past the solve."""
    if flags & FLAG_RERATED and rerate_delay(ticket_id) > room:
        flags &= ~FLAG_RERATED
    if flags & FLAG_RATED and rate_delay(ticket_id) > room:
        flags = (flags & ~FLAG_RATED) | FLAG_OFFERED
    if flags & FLAG_OFFERED and offer_delay(ticket_id) > room:
        flags &= ~FLAG_OFFERED
    return flags


def plan_ticket(
    ticket_id: int, created: int, limit: int, u_kind: float, u_chan: float, u_res: float, u_rate: float
) -> tuple[int, int, int, int]:
    """The ticket's outline: ``(kind byte, channel, resolution offset, last-update offset)``.

    Offsets are seconds after ``created``; nothing is planned after ``limit`` (the clock).
    """
    channel: int = _pick_channel(u_chan)
    kind: int = _pick_old_kind(u_kind)
    solve = _MIN_RESOLUTION[channel] + int(-_MEAN_RESOLUTION[channel] * log1m(u_res))
    flags = 0
    if kind in (CLOSED, REOPENED):
        if kind == REOPENED:
            solve = solve * 3 + DAY // 2
        if u_rate < 0.30:
            flags = FLAG_RATED | (FLAG_RERATED if u_rate < 0.012 else 0)
        elif u_rate < 0.45:
            flags = FLAG_OFFERED
        last = solve + close_delay(ticket_id)
    elif kind == MERGED:
        last = 600 + solve // 3
    elif kind == CLOSED_UNSOLVED:
        last = HOUR + solve
    elif kind == DELETED:
        last = 1800 + solve
    else:
        last = 2 * DAY + int(u_res * 38 * DAY)
    if created + last > limit:
        room = limit - created
        if kind in (CLOSED, REOPENED) and solve <= room:
            flags = _fit_rating(ticket_id, flags, room - solve)
            return SOLVED | flags, channel, solve, solve + _rating_end(ticket_id, flags)
        kind = _pick_young_kind((u_kind * 7.31) % 1.0)
        last = 0 if kind == NEW else int(room * (0.2 + 0.8 * u_res))
        return kind, channel, min(solve, last), max(last, 0)
    return kind | flags, channel, solve, last


def log1m(u: float) -> float:
    return math.log(1.0 - min(u, 0.999_999))
