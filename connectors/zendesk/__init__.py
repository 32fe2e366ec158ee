"""Zendesk Support: a dlt source (:func:`zendesk_source`) and its streams (:mod:`.endpoints`)."""

from connectors.zendesk.source import zendesk_source

__all__ = ["zendesk_source"]
