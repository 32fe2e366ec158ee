"""Salesforce Service Cloud payloads: the fields supportlake depends on, per object.

Field names and types follow Salesforce's Object Reference (API names, as ``describe`` and SOQL
return them). Every record needs its ``Id`` and its object's change cursor (``SystemModstamp``;
``CreatedDate`` for the history objects, which are never updated); everything else is optional:
the transforms read these fields, while the warehouse columns come from ``describe`` (every field
the integration user may read, custom ``__c`` fields included), not from these models.

Value formats as the REST API sends them: datetimes like ``2024-05-20T20:49:32.000+0000``, dates
``2024-05-20``, IDs as 18-character strings, numbers as JSON numbers, checkboxes as booleans.
"""

from __future__ import annotations

import datetime as dt

from schemas.payload import Payload


class SObjectRecord(Payload):
    """Any object (custom ``__c`` objects, extra standard objects): only its key is required."""

    Id: str


class ModstampedRecord(SObjectRecord):
    """An object whose changes are tracked by ``SystemModstamp`` (also set by automation)."""

    SystemModstamp: dt.datetime
    CreatedDate: dt.datetime | None = None
    CreatedById: str | None = None
    LastModifiedDate: dt.datetime | None = None
    LastModifiedById: str | None = None


class DeletableRecord(ModstampedRecord):
    """Soft-deleted rows arrive through ``queryAll`` with ``IsDeleted = true``."""

    IsDeleted: bool | None = None


class Case(DeletableRecord):
    CaseNumber: str | None = None
    AccountId: str | None = None
    ContactId: str | None = None
    OwnerId: str | None = None
    ParentId: str | None = None
    Subject: str | None = None
    Status: str | None = None
    Priority: str | None = None
    Origin: str | None = None
    Type: str | None = None
    Reason: str | None = None
    IsClosed: bool | None = None
    IsClosedOnCreate: bool | None = None
    ClosedDate: dt.datetime | None = None
    IsEscalated: bool | None = None
    EntitlementId: str | None = None
    BusinessHoursId: str | None = None
    SlaStartDate: dt.datetime | None = None
    SlaExitDate: dt.datetime | None = None
    IsStopped: bool | None = None
    MilestoneStatus: str | None = None
    SuppliedEmail: str | None = None
    ContactEmail: str | None = None


class CaseComment(DeletableRecord):
    ParentId: str | None = None
    IsPublished: bool | None = None
    CommentBody: str | None = None


class CaseHistory(SObjectRecord):
    """Field history of cases: rows are only ever inserted, so ``CreatedDate`` is the cursor."""

    CreatedDate: dt.datetime
    CaseId: str | None = None
    CreatedById: str | None = None
    Field: str | None = None
    DataType: str | None = None
    IsDeleted: bool | None = None
    # OldValue / NewValue are ``anyType``: text, numbers or booleans depending on the field.


class CaseMilestone(DeletableRecord):
    CaseId: str | None = None
    MilestoneTypeId: str | None = None
    StartDate: dt.datetime | None = None
    TargetDate: dt.datetime | None = None
    CompletionDate: dt.datetime | None = None
    IsCompleted: bool | None = None
    IsViolated: bool | None = None
    TargetResponseInMins: int | None = None
    ElapsedTimeInMins: int | None = None
    BusinessHoursId: str | None = None


class CaseArticle(SObjectRecord):
    """A link between a case and a knowledge article (Lightning Knowledge)."""

    SystemModstamp: dt.datetime
    CaseId: str | None = None
    KnowledgeArticleId: str | None = None
    KnowledgeArticleVersionId: str | None = None
    ArticleLanguage: str | None = None
    ArticleVersionNumber: int | None = None
    IsSharedByEmail: bool | None = None
    CreatedDate: dt.datetime | None = None
    CreatedById: str | None = None
    IsDeleted: bool | None = None


class Account(DeletableRecord):
    Name: str | None = None
    Type: str | None = None
    Industry: str | None = None
    ParentId: str | None = None
    OwnerId: str | None = None
    Website: str | None = None
    AccountNumber: str | None = None
    AnnualRevenue: float | None = None
    NumberOfEmployees: int | None = None
    BillingCountry: str | None = None


class Contact(DeletableRecord):
    AccountId: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    Name: str | None = None
    Email: str | None = None
    OwnerId: str | None = None


class User(ModstampedRecord):
    """Users are deactivated, never deleted: there is no ``IsDeleted``."""

    Username: str | None = None
    Name: str | None = None
    Email: str | None = None
    IsActive: bool | None = None
    UserType: str | None = None
    ProfileId: str | None = None
    UserRoleId: str | None = None
    ManagerId: str | None = None
    Department: str | None = None
    TimeZoneSidKey: str | None = None


class Group(ModstampedRecord):
    """Public groups and queues (``Type = 'Queue'``): cases are owned by users or queues."""

    Name: str | None = None
    DeveloperName: str | None = None
    Type: str | None = None
    Email: str | None = None
    RelatedId: str | None = None
    OwnerId: str | None = None


class Opportunity(DeletableRecord):
    AccountId: str | None = None
    Name: str | None = None
    Type: str | None = None
    StageName: str | None = None
    Amount: float | None = None
    CloseDate: dt.date | None = None
    Probability: float | None = None
    IsClosed: bool | None = None
    IsWon: bool | None = None
    OwnerId: str | None = None


class KnowledgeArticleVersion(DeletableRecord):
    """A version of a Lightning Knowledge article (``Knowledge__kav``)."""

    KnowledgeArticleId: str | None = None
    ArticleNumber: str | None = None
    Title: str | None = None
    UrlName: str | None = None
    Summary: str | None = None
    PublishStatus: str | None = None
    VersionNumber: int | None = None
    IsLatestVersion: bool | None = None
    Language: str | None = None
    FirstPublishedDate: dt.datetime | None = None
    LastPublishedDate: dt.datetime | None = None
    ArchivedDate: dt.datetime | None = None
    ArticleTotalViewCount: int | None = None
    IsVisibleInPkb: bool | None = None
    IsVisibleInCsp: bool | None = None


class AgentWork(DeletableRecord):
    """Omni-Channel work assigned to an agent: the source of handle time."""

    UserId: str | None = None
    WorkItemId: str | None = None
    ServiceChannelId: str | None = None
    OriginalQueueId: str | None = None
    Status: str | None = None
    RequestDateTime: dt.datetime | None = None
    AssignedDateTime: dt.datetime | None = None
    AcceptDateTime: dt.datetime | None = None
    CloseDateTime: dt.datetime | None = None
    DeclineDateTime: dt.datetime | None = None
    HandleTime: int | None = None
    ActiveTime: int | None = None
    SpeedToAnswer: int | None = None


class BusinessHours(ModstampedRecord):
    """Business hours (never deleted, only deactivated); start/end times are ``time`` values."""

    Name: str | None = None
    IsActive: bool | None = None
    IsDefault: bool | None = None
    TimeZoneSidKey: str | None = None
    MondayStartTime: str | None = None
    MondayEndTime: str | None = None
    TuesdayStartTime: str | None = None
    TuesdayEndTime: str | None = None
    WednesdayStartTime: str | None = None
    WednesdayEndTime: str | None = None
    ThursdayStartTime: str | None = None
    ThursdayEndTime: str | None = None
    FridayStartTime: str | None = None
    FridayEndTime: str | None = None
    SaturdayStartTime: str | None = None
    SaturdayEndTime: str | None = None
    SundayStartTime: str | None = None
    SundayEndTime: str | None = None


class MilestoneType(ModstampedRecord):
    """An entitlement milestone (``First Response``, ``Resolution Time``...): a setup object with
    no ``IsDeleted``; ``CaseMilestone.MilestoneTypeId`` refers to it."""

    Name: str | None = None
    Description: str | None = None
    RecurrenceType: str | None = None


class DeletedRecord(Payload):
    """A row of ``GET /sobjects/{object}/deleted/``: a record purged or deleted in the window."""

    id: str
    deletedDate: dt.datetime  # the API's camelCase name
