"""How deletions show in the Confluence tables (see :mod:`connectors.deletions`).

- ``pages``, ``blogposts``: ``status`` ``trashed`` (in the space's trash) or ``deleted``
  (:data:`schemas.confluence.DELETED_STATUSES`); Confluence records no time of trashing, so the
  time is the last version's ``version.createdAt`` (the latest time known before the deletion).
  Purged content (gone from every listing, recorded in ``deleted_content`` by the inventory of
  :mod:`connectors.confluence.walk`) keeps its last row, flagged, with the time the purge was
  detected (``detected_at``).
- ``labels``: deleted with their page or blog post.
- ``spaces``, ``deleted_content``: never deleted (an archived space is not a deleted one).
"""

from __future__ import annotations

from connectors.deletions import Deletion, Parent, Purged, RecordDeleted, SourceDeletions
from schemas.confluence import DELETED_STATUSES


def _content(content_type: str) -> Deletion:
    return Deletion(
        record=RecordDeleted(column="status", values=tuple(sorted(DELETED_STATUSES)), at=("version__created_at",)),
        purged=(Purged(log="deleted_content", log_at="detected_at", log_match={"content_type": content_type}),),
    )


DELETIONS = SourceDeletions(
    tables={
        "pages": _content("page"),
        "blogposts": _content("blogpost"),
        "labels": Deletion(
            parents=(
                Parent(parent="pages", column="content_id", match={"content_type": "page"}),
                Parent(parent="blogposts", column="content_id", match={"content_type": "blogpost"}),
            ),
            key=("content_id", "label_id"),
        ),
    }
)
