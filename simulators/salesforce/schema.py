"""The org's objects and fields, declared as data (the shapes are :mod:`simulators.salesforce.specs`).

The standard objects keep the system fields Salesforce gives them: ``User``, ``Group``,
``BusinessHours`` and ``MilestoneType`` have no ``IsDeleted``; ``CaseHistory`` has only
``CreatedDate`` (no ``LastModifiedDate``, no ``SystemModstamp``); ``CaseArticle`` has no
``LastModifiedDate``.
"""

from __future__ import annotations

from typing import Any

from simulators.world import PRODUCT_AREAS

from .specs import F, FieldSpec, ObjectSpec


def _created() -> tuple[FieldSpec, ...]:
    return (
        F("CreatedDate", "datetime", nillable=False),
        F("CreatedById", "reference", "Created By ID", nillable=False, ref=("User",), rel="CreatedBy"),
    )


def _modified() -> tuple[FieldSpec, ...]:
    return (
        F("LastModifiedDate", "datetime", nillable=False),
        F("LastModifiedById", "reference", "Last Modified By ID", nillable=False, ref=("User",), rel="LastModifiedBy"),
    )


def _audit() -> tuple[FieldSpec, ...]:
    return (*_created(), *_modified(), F("SystemModstamp", "datetime", "System Modstamp", nillable=False))


def _id() -> FieldSpec:
    return F("Id", "id", "Record ID", nillable=False)


def _is_deleted() -> FieldSpec:
    return F("IsDeleted", "boolean", "Deleted", nillable=False)


def _owner(*ref: str) -> FieldSpec:
    return F("OwnerId", "reference", "Owner ID", nillable=False, ref=ref or ("User",), rel="Owner")


def _address(prefix: str) -> tuple[FieldSpec, ...]:
    compound = f"{prefix}Address"
    return (
        F(f"{prefix}Street", "textarea", compound=compound),
        F(f"{prefix}City", "string", length=40, compound=compound),
        F(f"{prefix}State", "string", length=80, compound=compound),
        F(f"{prefix}PostalCode", "string", length=20, compound=compound),
        F(f"{prefix}Country", "string", length=80, compound=compound),
        F(f"{prefix}Latitude", "double", compound=compound),
        F(f"{prefix}Longitude", "double", compound=compound),
        F(
            f"{prefix}GeocodeAccuracy",
            "picklist",
            length=40,
            compound=compound,
            picklist=("Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "City", "State", "Unknown"),
        ),
        F(compound, "address", updateable=False),
    )


TIER_VALUES = ("Tier 1", "Tier 2", "Tier 3")
CASE_STATUSES = ("New", "Working", "Waiting on Customer", "Escalated", "Closed")
CASE_ORIGINS = ("Phone", "Email", "Web", "Chat", "Social")
CASE_PRIORITIES = ("Low", "Medium", "High", "Critical")
CASE_TYPES = ("Problem", "Question", "Feature Request", "Onboarding")
CASE_REASONS = (
    "User Education",
    "Existing Problem",
    "New Problem",
    "Instructions not clear",
    "Complex functionality",
    "Other",
)
OPP_STAGES = ("Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")
OPP_TYPES = ("New Business", "Renewal", "Expansion")
INDUSTRIES = (
    "Technology",
    "Healthcare",
    "Retail",
    "Energy",
    "Manufacturing",
    "Finance",
    "Insurance",
    "Media",
    "Transportation",
    "Education",
    "Telecommunications",
    "Hospitality",
    "Other",
)
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
)


ACCOUNT = ObjectSpec(
    "Account",
    "Account",
    "Accounts",
    "001",
    (
        _id(),
        _is_deleted(),
        F("MasterRecordId", "reference", "Master Record ID", ref=("Account",), rel="MasterRecord"),
        F("Name", "string", "Account Name", nillable=False, name_field=True),
        F(
            "Type",
            "picklist",
            "Account Type",
            picklist=("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Other"),
        ),
        F("ParentId", "reference", "Parent Account ID", ref=("Account",), rel="Parent"),
        *_address("Billing"),
        F("Phone", "phone", "Account Phone"),
        F("Website", "url"),
        F("Industry", "picklist", picklist=INDUSTRIES),
        F("AnnualRevenue", "currency"),
        F("NumberOfEmployees", "int", "Employees"),
        F("Description", "textarea", "Account Description", length=32000),
        _owner(),
        *_audit(),
        F("Segment__c", "picklist", "Segment", picklist=("Enterprise", "Mid-Market", "Commercial")),
        F("Customer_Since__c", "date", "Customer Since"),
        F("Health_Score__c", "percent", "Health Score"),
        F("HQ_Location__Latitude__s", "double", "HQ Location (Latitude)", compound="HQ_Location__c"),
        F("HQ_Location__Longitude__s", "double", "HQ Location (Longitude)", compound="HQ_Location__c"),
        F("HQ_Location__c", "location", "HQ Location", updateable=False),
    ),
)

CONTACT = ObjectSpec(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    (
        _id(),
        _is_deleted(),
        F("MasterRecordId", "reference", "Master Record ID", ref=("Contact",), rel="MasterRecord"),
        F("AccountId", "reference", "Account ID", ref=("Account",)),
        F("LastName", "string", nillable=False, length=80, compound="Name"),
        F("FirstName", "string", length=40, compound="Name"),
        F("Name", "string", "Full Name", nillable=False, length=121, name_field=True, updateable=False),
        *_address("Mailing"),
        F("Phone", "phone", "Business Phone"),
        F("Email", "email"),
        F("Title", "string", length=128),
        F("Department", "string", length=80),
        _owner(),
        *_audit(),
        F("Preferred_Channel__c", "picklist", "Preferred Channel", picklist=("Phone", "Email", "Chat", "Web")),
    ),
)

USER = ObjectSpec(
    "User",
    "User",
    "Users",
    "005",
    (
        _id(),
        F("Username", "string", nillable=False, length=80, unique=True),
        F("LastName", "string", nillable=False, length=80),
        F("FirstName", "string", length=40),
        F("Name", "string", "Full Name", nillable=False, length=121, name_field=True, updateable=False),
        F("CompanyName", "string", length=80),
        F("Department", "string", length=80),
        F("Title", "string", length=80),
        F("Email", "email", nillable=False, length=128),
        F("Alias", "string", nillable=False, length=8),
        F("IsActive", "boolean", "Active", nillable=False),
        F("TimeZoneSidKey", "picklist", "Time Zone", nillable=False, picklist=TIME_ZONES),
        F("UserType", "picklist", "User Type", picklist=("Standard", "AutomatedProcess")),
        F("ManagerId", "reference", "Manager ID", ref=("User",)),
        *_audit(),
        F("Tier__c", "picklist", "Support Tier", picklist=TIER_VALUES),
    ),
    deletable=False,
)

GROUP = ObjectSpec(
    "Group",
    "Group",
    "Groups",
    "00G",
    (
        _id(),
        F("Name", "string", nillable=False, length=40, name_field=True),
        F("DeveloperName", "string", "Developer Name", length=80),
        F("RelatedId", "reference", "Related ID", ref=("User", "UserRole")),
        F("Type", "picklist", nillable=False, picklist=("Queue", "Regular", "Role", "Organization")),
        F("Email", "email"),
        F("OwnerId", "reference", "Owner ID", nillable=False, ref=("Organization", "User"), rel="Owner"),
        F("DoesSendEmailToMembers", "boolean", "Send Email to Members", nillable=False),
        F("DoesIncludeBosses", "boolean", "Include Bosses", nillable=False),
        *_audit(),
    ),
)

_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
BUSINESS_HOURS = ObjectSpec(
    "BusinessHours",
    "Business Hours",
    "Business Hours",
    "01m",
    (
        _id(),
        F("Name", "string", "Business Hours Name", nillable=False, length=80, name_field=True),
        F("IsActive", "boolean", "Active", nillable=False),
        F("IsDefault", "boolean", "Default Business Hours", nillable=False),
        *(F(f"{day}{edge}Time", "time", f"{day} {edge} Time") for day in _DAYS for edge in ("Start", "End")),
        F("TimeZoneSidKey", "picklist", "Time Zone", nillable=False, picklist=TIME_ZONES),
        *_audit(),
    ),
    deletable=False,
)

MILESTONE_TYPE = ObjectSpec(
    "MilestoneType",
    "Milestone",
    "Milestones",
    "557",
    (
        _id(),
        F("Name", "string", nillable=False, length=80, name_field=True),
        F("Description", "textarea", length=255),
        F("RecurrenceType", "picklist", "Recurrence Type", picklist=("none", "recursIndependently", "recursChained")),
        *_audit(),
    ),
    # The Object Reference lists no getDeleted()/getUpdated() among MilestoneType's supported calls.
    replicateable=False,
)

CASE = ObjectSpec(
    "Case",
    "Case",
    "Cases",
    "500",
    (
        _id(),
        _is_deleted(),
        F("MasterRecordId", "reference", "Master Record ID", ref=("Case",), rel="MasterRecord"),
        F("CaseNumber", "string", "Case Number", nillable=False, length=30, name_field=True, auto_number=True),
        F("ContactId", "reference", "Contact ID", ref=("Contact",)),
        F("AccountId", "reference", "Account ID", ref=("Account",)),
        F("ParentId", "reference", "Parent Case ID", ref=("Case",), rel="Parent"),
        F("SuppliedName", "string", "Web Name", length=80),
        F("SuppliedEmail", "email", "Web Email"),
        F("SuppliedPhone", "string", "Web Phone", length=40),
        F("Type", "picklist", "Case Type", picklist=CASE_TYPES),
        F("Status", "picklist", picklist=CASE_STATUSES),
        F("Reason", "picklist", "Case Reason", picklist=CASE_REASONS),
        F("Origin", "picklist", "Case Origin", picklist=CASE_ORIGINS),
        F("Subject", "string"),
        F("Priority", "picklist", picklist=CASE_PRIORITIES),
        F("Description", "textarea", length=32000),
        F("IsClosed", "boolean", "Closed", nillable=False),
        F("ClosedDate", "datetime", "Closed Date"),
        F("IsEscalated", "boolean", "Escalated", nillable=False),
        F("OwnerId", "reference", "Owner ID", nillable=False, ref=("Group", "User"), rel="Owner"),
        F("IsClosedOnCreate", "boolean", "Closed When Created", nillable=False),
        F("BusinessHoursId", "reference", "Business Hours ID", ref=("BusinessHours",)),
        F("SlaStartDate", "datetime", "Entitlement Process Start Time"),
        F("IsStopped", "boolean", "Stopped", nillable=False),
        *_audit(),
        F("Product_Area__c", "picklist", "Product Area", picklist=PRODUCT_AREAS),
        F("Tier__c", "picklist", "Support Tier", picklist=TIER_VALUES),
        F("CSAT_Score__c", "double", "CSAT Score"),
        F("First_Contact_Resolution__c", "boolean", "First Contact Resolution", nillable=False),
    ),
)

CASE_COMMENT = ObjectSpec(
    "CaseComment",
    "Case Comment",
    "Case Comments",
    "00a",
    (
        _id(),
        F("ParentId", "reference", "Parent ID", nillable=False, ref=("Case",), rel="Parent"),
        F("IsPublished", "boolean", "Published", nillable=False),
        F("CommentBody", "textarea", "Body", length=4000),
        F("CreatedById", "reference", "Created By ID", nillable=False, ref=("User",), rel="CreatedBy"),
        F("CreatedDate", "datetime", nillable=False),
        F("SystemModstamp", "datetime", "System Modstamp", nillable=False),
        *_modified(),
        _is_deleted(),
    ),
)

CASE_HISTORY = ObjectSpec(
    "CaseHistory",
    "Case History",
    "Case History",
    "017",
    (
        _id(),
        _is_deleted(),
        F("CaseId", "reference", "Case ID", nillable=False, ref=("Case",)),
        *_created(),
        F(
            "Field",
            "picklist",
            "Changed Field",
            nillable=False,
            picklist=("created", "Status", "Owner", "ownerAssignment", "Priority", "closed"),
        ),
        F("DataType", "picklist", "Data Type", picklist=("Text", "EntityId", "Boolean", "DateTime")),
        F("OldValue", "anyType", "Old Value"),
        F("NewValue", "anyType", "New Value"),
    ),
)

CASE_MILESTONE = ObjectSpec(
    "CaseMilestone",
    "Case Milestone",
    "Case Milestones",
    "5Ms",
    (
        _id(),
        F("CaseId", "reference", "Case ID", nillable=False, ref=("Case",)),
        F("StartDate", "datetime", "Start Date"),
        F("TargetDate", "datetime", "Target Date"),
        F("CompletionDate", "datetime", "Completion Date"),
        F("MilestoneTypeId", "reference", "Milestone Type ID", ref=("MilestoneType",)),
        F("IsCompleted", "boolean", "Completed", nillable=False),
        F("IsViolated", "boolean", "Violation", nillable=False),
        F("TargetResponseInMins", "int", "Target Response (Mins)"),
        F("ElapsedTimeInMins", "int", "Elapsed Time (Mins)"),
        F("BusinessHoursId", "reference", "Business Hours ID", ref=("BusinessHours",)),
        *_audit(),
        _is_deleted(),
    ),
)

KNOWLEDGE = ObjectSpec(
    "Knowledge__kav",
    "Knowledge",
    "Knowledge",
    "ka0",
    (
        _id(),
        F("KnowledgeArticleId", "reference", "Knowledge Article ID", nillable=False, ref=("Knowledge__ka",)),
        _owner("Group", "User"),
        _is_deleted(),
        F("PublishStatus", "picklist", "Publication Status", nillable=False, picklist=("Draft", "Online", "Archived")),
        F("VersionNumber", "int", "Version Number", nillable=False),
        F("IsLatestVersion", "boolean", "Is Latest Version", nillable=False),
        F("IsVisibleInApp", "boolean", "Visible In Internal App", nillable=False),
        F("IsVisibleInPkb", "boolean", "Visible In Public Knowledge Base", nillable=False),
        F("IsVisibleInCsp", "boolean", "Visible to Customer", nillable=False),
        F("Language", "picklist", nillable=False, picklist=("en_US",)),
        F("Title", "string", nillable=False),
        F("UrlName", "string", "URL Name", nillable=False),
        F("ArticleNumber", "string", "Article Number", nillable=False, length=30, auto_number=True),
        F("FirstPublishedDate", "datetime", "First Published Date"),
        F("LastPublishedDate", "datetime", "Last Published Date"),
        F("ArticleCreatedDate", "datetime", "Article Created Date"),
        F("Summary", "textarea", length=1000),
        *_audit(),
        F("Product_Area__c", "picklist", "Product Area", picklist=PRODUCT_AREAS),
        F("Source_URL__c", "url", "Source URL"),
        F("Body__c", "textarea", "Body", length=131072),
    ),
)

CASE_ARTICLE = ObjectSpec(
    "CaseArticle",
    "Case Article",
    "Case Articles",
    "0Ha",
    (
        _id(),
        F("CaseId", "reference", "Case ID", nillable=False, ref=("Case",)),
        F("KnowledgeArticleId", "reference", "Knowledge Article ID", nillable=False, ref=("Knowledge__ka",)),
        F("KnowledgeArticleVersionId", "reference", "Knowledge Article Version ID", ref=("Knowledge__kav",)),
        F("ArticleLanguage", "picklist", "Article Language", picklist=("en_US",)),
        F("ArticleVersionNumber", "int", "Article Version Number"),
        F("IsSharedByEmail", "boolean", "Shared By Email", nillable=False),
        *_created(),
        F("SystemModstamp", "datetime", "System Modstamp", nillable=False),
        _is_deleted(),
    ),
)

OPPORTUNITY = ObjectSpec(
    "Opportunity",
    "Opportunity",
    "Opportunities",
    "006",
    (
        _id(),
        _is_deleted(),
        F("AccountId", "reference", "Account ID", ref=("Account",)),
        F("Name", "string", nillable=False, length=120, name_field=True),
        F("Description", "textarea", length=32000),
        F("StageName", "picklist", "Stage", nillable=False, picklist=OPP_STAGES),
        F("Amount", "currency"),
        F("Probability", "percent", "Probability (%)"),
        F("CloseDate", "date", "Close Date", nillable=False),
        F("Type", "picklist", "Opportunity Type", picklist=OPP_TYPES),
        F(
            "LeadSource",
            "picklist",
            "Lead Source",
            picklist=("Web", "Partner Referral", "Customer Success", "Sales Outreach", "Event"),
        ),
        F("IsClosed", "boolean", "Closed", nillable=False),
        F("IsWon", "boolean", "Won", nillable=False),
        F(
            "ForecastCategoryName",
            "picklist",
            "Forecast Category",
            picklist=("Pipeline", "Best Case", "Commit", "Closed", "Omitted"),
        ),
        _owner(),
        *_audit(),
        F("FiscalYear", "int", "Fiscal Year"),
        F("FiscalQuarter", "int", "Fiscal Quarter"),
    ),
)

AGENT_WORK = ObjectSpec(
    "AgentWork",
    "Agent Work",
    "Agent Work",
    "0Bz",
    (
        _id(),
        _owner("Group", "User"),
        _is_deleted(),
        F("Name", "string", "Agent Work Name", length=255, name_field=True),
        *_audit(),
        F("UserId", "reference", "User ID", nillable=False, ref=("User",)),
        F("WorkItemId", "reference", "Work Item ID", nillable=False, ref=("Case",), rel="WorkItem"),
        F("ServiceChannelId", "reference", "Service Channel ID", nillable=False, ref=("ServiceChannel",)),
        F(
            "Status",
            "picklist",
            nillable=False,
            picklist=("Assigned", "Opened", "Closed", "Declined", "Canceled", "Transferred", "Unavailable"),
        ),
        F("RequestDateTime", "datetime", "Request Date"),
        F("AssignedDateTime", "datetime", "Assigned Date"),
        F("AcceptDateTime", "datetime", "Accept Date"),
        F("CloseDateTime", "datetime", "Close Date"),
        F("HandleTime", "int", "Handle Time"),
        F("ActiveTime", "int", "Active Time"),
        F("SpeedToAnswer", "int", "Speed To Answer"),
        F("CapacityWeight", "double", "Capacity Weight"),
        F("OriginalQueueId", "reference", "Original Queue ID", ref=("Group",)),
    ),
)

SUPPORT_ESCALATION = ObjectSpec(
    "Support_Escalation__c",
    "Support Escalation",
    "Support Escalations",
    "a0E",
    (
        _id(),
        _owner("Group", "User"),
        _is_deleted(),
        F("Name", "string", "Escalation Number", length=80, name_field=True, auto_number=True),
        *_audit(),
        F("Case__c", "reference", "Case", nillable=False, ref=("Case",)),
        F("Account__c", "reference", "Account", ref=("Account",)),
        F("Severity__c", "picklist", "Severity", picklist=("Sev 1", "Sev 2", "Sev 3")),
        F("Status__c", "picklist", "Status", picklist=("Open", "In Engineering", "Resolved")),
        F("Escalated_To__c", "reference", "Escalated To", ref=("User",)),
        F("Resolved_Date__c", "datetime", "Resolved Date"),
        F("Root_Cause__c", "textarea", "Root Cause", length=32768),
        F("Jira_Key__c", "string", "Jira Key", length=20, external_id=True, unique=True),
    ),
    custom=True,
)

OBJECTS: tuple[ObjectSpec, ...] = (
    ACCOUNT,
    AGENT_WORK,
    BUSINESS_HOURS,
    CASE,
    CASE_ARTICLE,
    CASE_COMMENT,
    CASE_HISTORY,
    CASE_MILESTONE,
    CONTACT,
    GROUP,
    KNOWLEDGE,
    MILESTONE_TYPE,
    OPPORTUNITY,
    SUPPORT_ESCALATION,
    USER,
)
BY_NAME = {o.name: o for o in OBJECTS}
BY_LOWER = {o.name.lower(): o for o in OBJECTS}


def child_relationships(target: str) -> list[dict[str, Any]]:
    """describe's ``childRelationships`` of ``target``: every reference field pointing at it."""
    out: list[dict[str, Any]] = []
    for obj in OBJECTS:
        for f in obj.fields:
            if target in f.reference_to and f.name not in ("CreatedById", "LastModifiedById"):
                rel = None
                if f.name in ("ParentId", "CaseId", "Case__c", "WorkItemId", "AccountId", "Account__c"):
                    rel = obj.label_plural.replace(" ", "") if not obj.custom else obj.name.replace("__c", "s__r")
                out.append(
                    {
                        "cascadeDelete": obj.name
                        in ("CaseComment", "CaseHistory", "CaseMilestone", "CaseArticle", "Support_Escalation__c")
                        and target == "Case",
                        "childSObject": obj.name,
                        "deprecatedAndHidden": False,
                        "field": f.name,
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": rel,
                        "restrictedDelete": False,
                    }
                )
    return out
