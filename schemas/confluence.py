"""Confluence Cloud payloads: the fields supportlake depends on, per raw table.

Field names and types follow Atlassian's REST API v2 reference (developer.atlassian.com/cloud/
confluence/rest/v2): ``SpaceBulk``, ``PageBulk``, ``BlogPostBulk`` and ``Label``. The API writes
camelCase (``spaceId``, ``version.createdAt``); the warehouse columns are the snake_case of the
flattened names (``space_id``, ``version__created_at``), so each field is declared under its column
name with the API's name as its alias. Ids are strings in v2 and stay text.

Required fields are the ones without which a row is useless: the key, the status and, for pages
and blog posts, the version (its number and time are the change marker and the watermark).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field

from schemas.payload import Payload

DELETED_STATUSES = frozenset({"trashed", "deleted"})
"""Statuses of content that is gone from the site (in the trash, or deleted); ``archived`` content
is still there and readable."""

_LINKS = {"_links__webui": "text", "_links__tinyui": "text", "_links__editui": "text"}


class Version(Payload):
    number: int
    created_at: dt.datetime = Field(alias="createdAt")
    author_id: str | None = Field(default=None, alias="authorId")
    message: str | None = None
    minor_edit: bool | None = Field(default=None, alias="minorEdit")


class Space(Payload):
    id: str
    key: str
    name: str | None = None
    type: str | None = None
    status: str | None = None
    author_id: str | None = Field(default=None, alias="authorId")
    created_at: dt.datetime | None = Field(default=None, alias="createdAt")
    homepage_id: str | None = Field(default=None, alias="homepageId")

    nested_columns: ClassVar[dict[str, str]] = {
        **_LINKS,
        "web_url": "text",
        "description__plain__value": "text",
    }


class Content(Payload):
    """What pages and blog posts share."""

    id: str
    status: str
    version: Version
    title: str | None = None
    space_id: str | None = Field(default=None, alias="spaceId")
    author_id: str | None = Field(default=None, alias="authorId")
    created_at: dt.datetime | None = Field(default=None, alias="createdAt")

    nested_columns: ClassVar[dict[str, str]] = {
        "version__number": "bigint",
        "version__created_at": "timestamp",
        "version__author_id": "text",
        "version__message": "text",
        "version__minor_edit": "bool",
        "body__storage__value": "text",
        "body__storage__representation": "text",
        **_LINKS,
        # Added by the connector: the space's key, the absolute web link, and whether it is gone.
        "space_key": "text",
        "web_url": "text",
        "is_deleted": "bool",
    }


class Page(Content):
    parent_id: str | None = Field(default=None, alias="parentId")
    parent_type: str | None = Field(default=None, alias="parentType")
    position: int | None = None
    owner_id: str | None = Field(default=None, alias="ownerId")
    last_owner_id: str | None = Field(default=None, alias="lastOwnerId")
    subtype: str | None = None


class BlogPost(Content):
    pass


class Label(Payload):
    """A label of a page or blog post; the row adds which content carries it."""

    label_id: str = Field(alias="id")
    name: str
    prefix: str | None = None

    nested_columns: ClassVar[dict[str, str]] = {"content_id": "text", "content_type": "text"}


class DeletedContent(Payload):
    """A page or blog post that was purged: listed by an earlier run, listed nowhere now."""

    id: str
    content_type: str
    detected_at: dt.datetime
    last_status: str | None = None
    last_version: int | None = None
