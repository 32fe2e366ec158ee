"""A local Confluence Cloud: REST API v2 (and a little of v1) on a loopback port.

The data is the company of :func:`simulators.world.build_world`: the Confluence
articles of the world (the pages Zendesk comments link to) are pages here, with the same ids,
titles and space keys, so ``_links.base + _links.webui`` of such a page is exactly the URL the
comment contains. Around them: space homepages, one section page per product area, generated
knowledge-base articles, runbooks, team meeting notes, an archived legacy space, blog posts,
labels, and storage-format (XHTML) bodies generated on demand from ``(id, version)``.

Served under ``/wiki`` (the simulator's base URL is the *site*, as ``https://acme.atlassian.net``):

- ``GET /wiki/api/v2/spaces``, ``/spaces/{id}``, ``/spaces/{id}/pages``, ``/spaces/{id}/blogposts``
- ``GET /wiki/api/v2/pages``, ``/pages/{id}``, ``/pages/{id}/labels``
- ``GET /wiki/api/v2/blogposts``, ``/blogposts/{id}``, ``/blogposts/{id}/labels``
- ``GET /wiki/api/v2/labels``, ``/labels/{id}/pages``, ``/labels/{id}/blogposts``
- ``GET /wiki/rest/api/search?cql=…`` (v1 CQL, a small subset) and ``/wiki/rest/api/user?accountId=…``

As Atlassian documents them: cursor pagination (``limit`` default 25, at most 250; an opaque
``cursor``; the next page as a site-relative ``_links.next`` **and** a ``Link: <…>; rel="next"``
header), ``sort``, ``status`` (pages default to ``current`` + ``archived``, blog posts to
``current``), ``body-format``, ``space-id``, ``title``, ``id``; errors as
``{"errors": [{"status", "code", "title", "detail"}]}``; Basic (email + API token) or Bearer
(OAuth) auth; 429 with ``Retry-After`` and ``X-RateLimit-*`` past a configurable budget.

Behaviour worth knowing when writing a connector against it (each as Confluence does it, as far as
the documentation tells):

- changing a page's *status* (trash, delete, archive) or its *labels* does not create a version, so
  ``sort=-modified-date`` (ordered by ``version.createdAt``) does not bring those pages forward;
  list ``status=trashed`` / ``deleted`` / ``archived`` to see them;
- a purged page is gone: absent from every listing and 404 by id (:meth:`ConfluenceSimulator.purged`);
- cursors are keyset positions, so a page edited between two requests of a listing sorted by
  modified date can be seen twice or not at all, as with the real API.

Scopes: ``without_scopes=("read:label",)`` plays a scoped API token (or an OAuth app) granted
everything but those scopes (``read:label`` and ``read:label:confluence`` name the same one). An
endpoint that needs a missing scope answers 401 with the body Atlassian's gateway sends,
``{"code": 401, "message": "Unauthorized; scope does not match"}`` (as quoted in Atlassian's
CONFCLOUD-83234 and the KB article "oAuth app throwing error Unauthorized; scope does not match").
The scope of each v2 route is the one Atlassian's OpenAPI document of the v2 API declares
(``openapi-v2.v3.json``): ``read:label`` guards only the site-wide ``GET /labels``; pages, blog
posts, each content's own labels (``/pages/{id}/labels``) and the content of a label
(``/labels/{id}/pages``) need ``read:page``; spaces need ``read:space``. So without ``read:label``
everything answers but the label catalogue. The v1 routes are not scope-checked.

Faults: :meth:`ConfluenceSimulator.inject` queues faults per path prefix (an HTTP status, ``"drop"``,
``"truncate"``, ``"bad_json"``, ``"ok"``, or a float of seconds of delay); ``error_rate`` fails that
share of requests with a 5xx; ``latency_ms`` slows every request.

Modules: :mod:`.model` (records, constants, small helpers), :mod:`.query` (query parameters,
cursors, keyset pages), :mod:`.text` (generated bodies), :mod:`.generate` (the site's initial
content), :mod:`.site` (the content store), :mod:`.mutate` (changes over time), :mod:`.views`
(JSON forms), :mod:`.routes` (v2 and v1 endpoints), :mod:`.cql` (the CQL subset),
:mod:`.simulator` (HTTP, auth, scopes, rate limit, faults, command line).
"""

from .model import SCOPE_MISMATCH, Fault, MutationSummary, SimulatorStats
from .simulator import ConfluenceSimulator, main

__all__ = ["SCOPE_MISMATCH", "ConfluenceSimulator", "Fault", "MutationSummary", "SimulatorStats", "main"]
