"""Confluence Cloud: a dlt source (:func:`confluence_source`) and its streams (:mod:`.endpoints`)."""

from connectors.confluence.source import confluence_source

__all__ = ["confluence_source"]
