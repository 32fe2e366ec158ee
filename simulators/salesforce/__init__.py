"""A local Salesforce org: OAuth, REST (describe, SOQL query/queryAll, deleted records, limits) and
Bulk API 2.0 query jobs, serving the seeded company world shared with the Zendesk and Confluence
simulators. See :class:`SalesforceSimulator`."""

from .core import SalesforceStats
from .server import SalesforceSimulator

__all__ = ["SalesforceSimulator", "SalesforceStats"]
