"""A local simulator of the Zendesk Support API (and Talk's incremental calls export).

See :class:`ZendeskSimulator`. Data comes from the shared :mod:`simulators.world`.
"""

from simulators.shared import Stats

from .simulator import DEFAULT_NOW, FAULT_KINDS, RECORD_KINDS, ZendeskSimulator

__all__ = ["DEFAULT_NOW", "FAULT_KINDS", "RECORD_KINDS", "Stats", "ZendeskSimulator"]
