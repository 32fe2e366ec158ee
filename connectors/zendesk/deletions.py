"""How deletions show in the Zendesk Support tables (see :mod:`connectors.deletions`).

- ``tickets``: the incremental ticket export keeps deleted tickets in the stream with
  ``status: "deleted"`` unless ``exclude_deleted=true`` is sent (Zendesk's Incremental Exports
  docs, "exclude_deleted"); deleting a ticket updates it, so ``updated_at`` is the time.
- ``users``: ``active`` is "false if the user has been deleted" (Zendesk Users API, JSON format:
  https://developer.zendesk.com/api-reference/ticketing/users/users/#json-format). Zendesk has
  no other inactive state for users (agents are downgraded, end users suspended: ``suspended``),
  and permanently deleted users stay ``active: false``, their personal fields scrubbed.
- ``organizations``: ``deleted_at`` is set on deleted organizations (and is the time).
- ``groups``: ``deleted: true`` (Groups API, JSON format); ``updated_at`` is the time.
- Children of a ticket are flagged with their deleted ticket: its metric set, comments, metric
  events and satisfaction ratings describe the ticket and are gone from Zendesk with it (the
  ticket's comments and audits are unavailable once it is deleted). Talk ``calls`` are not: a
  call happened whatever became of the ticket it was logged on, and Talk keeps it in its own
  statistics.
"""

from __future__ import annotations

from connectors.deletions import Deletion, Parent, RecordDeleted, SourceDeletions

_TICKET_CHILD = Deletion(parents=(Parent(parent="tickets", column="ticket_id"),))

DELETIONS = SourceDeletions(
    tables={
        "tickets": Deletion(record=RecordDeleted(column="status", values=("deleted",), at=("updated_at",))),
        "users": Deletion(record=RecordDeleted(column="active", values=(False,), at=("updated_at",))),
        "organizations": Deletion(record=RecordDeleted(column="deleted_at", values=(), at=("deleted_at",))),
        "groups": Deletion(record=RecordDeleted(column="deleted", values=(True,), at=("updated_at",))),
        "ticket_metrics": _TICKET_CHILD,
        "ticket_comments": _TICKET_CHILD,
        "ticket_metric_events": _TICKET_CHILD,
        "satisfaction_ratings": _TICKET_CHILD,
    }
)
