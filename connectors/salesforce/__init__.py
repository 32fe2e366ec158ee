"""Salesforce Service Cloud: a dlt source (:func:`salesforce_source`) and its objects (:mod:`.objects`)."""

from connectors.salesforce.objects import OBJECTS, TABLES
from connectors.salesforce.source import configured_tables, salesforce_source

__all__ = ["OBJECTS", "TABLES", "configured_tables", "salesforce_source"]
