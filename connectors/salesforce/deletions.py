"""How deletions show in the Salesforce tables (see :mod:`connectors.deletions`).

- Every object: ``IsDeleted = true`` (soft-deleted, in the Recycle Bin: ``queryAll`` returns it,
  REST API Developer Guide, "QueryAll"); the time is ``SystemModstamp`` (a delete is a write),
  else ``LastModifiedDate``. Objects without ``IsDeleted`` (``MilestoneType``) are never flagged
  by it.
- Every object: purged, i.e. listed by ``/sobjects/{object}/deleted`` and kept in
  ``deleted_records`` (object, id, deleted_date); the time is ``deletedDate``. Ids are unique
  across an org (their first three characters name the object), so the id alone identifies
  the row. A purged Knowledge article (``KnowledgeArticleId``) purges its versions too.
- Children of a Case are deleted with it (CaseComment by ``ParentId``; CaseHistory,
  CaseMilestone and CaseArticle by ``CaseId``). History objects have no ``SystemModstamp`` and
  are read by ``CreatedDate``, so they are never read again after the deletion; the others may
  or may not be. All of them take the Case's flag and time.
- ``deleted_records`` itself: never deleted.
"""

from __future__ import annotations

from connectors.deletions import NEVER, Deletion, Parent, Purged, RecordDeleted, SourceDeletions
from connectors.salesforce.objects import DELETED_RECORDS

SOFT_DELETED = RecordDeleted(column="is_deleted", values=(True,), at=("system_modstamp", "last_modified_date"))
PURGED = Purged(log=DELETED_RECORDS, log_at="deleted_date")

ARTICLE = "knowledge_article_id"
"""Knowledge article versions are purged with their article (``KnowledgeArticleId``)."""

OBJECT = Deletion(record=SOFT_DELETED, purged=(PURGED,))
"""Any object, custom ones included."""


def _child_of_case(column: str) -> Deletion:
    return OBJECT.but(parents=(Parent(parent="case", column=column),))


DELETIONS = SourceDeletions(
    default=OBJECT,
    tables={
        DELETED_RECORDS: NEVER,
        "case_comment": _child_of_case("parent_id"),
        "case_history": _child_of_case("case_id"),
        "case_milestone": _child_of_case("case_id"),
        "case_article": _child_of_case("case_id"),
        "knowledge_kav": OBJECT.but(
            purged=(PURGED, Purged(log=DELETED_RECORDS, log_at="deleted_date", key="knowledge_article_id"))
        ),
    },
)
