"""The REST API: resources, describe, retrieve, SOQL query / queryAll with ``nextRecordsUrl``
pages, the deleted-records log, limits and versions."""

from __future__ import annotations

import re
from typing import Any

from simulators.shared import (
    Response,
    dumps,
)

from . import schema as S
from . import soql
from ._util import DAY, MINUTE, make_id, parse_iso, sf_datetime
from .bulk import BulkApi
from .core import NOT_FOUND, Cursor, errors
from .data import LIVE, PURGED, render_json
from .specs import ObjectSpec


class RestApi(BulkApi):
    """``/services/data/vXX.X/...``; the Bulk jobs under it are :class:`BulkApi`'s."""

    def _data(
        self, method: str, version: str, rest: str, params: dict[str, str], headers: Any, body: bytes
    ) -> Response:
        if rest == "" and method == "GET":
            names = ("sobjects", "query", "queryAll", "limits", "jobs")
            return Response(200, dumps({n: f"/services/data/{version}/{n}" for n in names}))
        if rest == "/limits" and method == "GET":
            return Response(200, dumps(self._limits()))
        if rest == "/sobjects" and method == "GET":
            return Response(
                200,
                dumps(
                    {
                        "encoding": "UTF-8",
                        "maxBatchSize": 200,
                        "sobjects": [
                            o.global_entry(version) for o in S.OBJECTS if o.name.lower() not in self.hidden_objects
                        ],
                    }
                ),
            )
        m = re.match(r"^/sobjects/([^/]+)(?:/([^/]+))?$", rest)
        if m and method == "GET":
            spec = self._visible(m.group(1))
            if spec is None:
                return errors(404, "NOT_FOUND", NOT_FOUND)
            sub = m.group(2)
            if sub is None:
                return Response(200, dumps({"objectDescribe": spec.global_entry(version), "recentItems": []}))
            if sub == "describe":
                return Response(200, dumps(spec.describe(version, S.child_relationships(spec.name))))
            if sub == "deleted":
                return self._get_deleted(spec, params)
            return self._retrieve(spec, sub, params, version)
        m = re.match(r"^/(query|queryAll)(?:/([^/]+))?$", rest)
        if m and method == "GET":
            if m.group(2):
                return self._query_more(m.group(2), version)
            return self._query(m.group(1), params, headers, version)
        if rest == "/jobs/query" or rest.startswith("/jobs/query/"):
            return self._bulk(method, version, rest[len("/jobs/query") :], params, body)
        return errors(404, "NOT_FOUND", NOT_FOUND)

    def _limits(self) -> dict[str, Any]:
        jobs = self.stats.bulk_jobs
        return {
            "DailyApiRequests": {"Max": self.daily_limit, "Remaining": max(0, self.daily_limit - self.stats.api_usage)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": max(0, 10000 - jobs)},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DataStorageMB": {"Max": 5120, "Remaining": 4096},
            "FileStorageMB": {"Max": 20480, "Remaining": 20000},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        }

    def _record_json(self, spec: ObjectSpec, idx: int, fields: list[str], version: str) -> dict[str, Any]:
        rec = self.org.build(spec.name, idx)
        out: dict[str, Any] = {
            "attributes": {"type": spec.name, "url": f"/services/data/{version}/sobjects/{spec.name}/{rec['Id']}"}
        }
        out.update(render_json(spec, rec, fields))
        return out

    def _retrieve(self, spec: ObjectSpec, record_id: str, params: dict[str, str], version: str) -> Response:
        table = self.org.tables[spec.name]
        idx = table.index(record_id)
        if idx is None or table.state[idx] != LIVE:
            return errors(404, "NOT_FOUND", NOT_FOUND)
        fields = spec.field_names()
        if params.get("fields"):
            fields = []
            for name in params["fields"].split(","):
                f = spec.by_lower.get(name.strip().lower())
                if f is None:
                    return errors(
                        400, "INVALID_FIELD", f"No such column '{name.strip()}' on sobject of type {spec.name}"
                    )
                fields.append(f.name)
        return Response(200, dumps(self._record_json(spec, idx, fields, version)))

    def _query(self, resource: str, params: dict[str, str], headers: Any, version: str) -> Response:
        text = params.get("q")
        if text is None:
            return errors(400, "MALFORMED_QUERY", "A query string has to be specified")
        q = soql.parse(text, self._visible)
        for n, (obj, error) in enumerate(self._query_failures):
            if obj is None or obj == q.object.name.lower():
                del self._query_failures[n]
                self.stats.count_fault(error)
                message = "Your query request was running for too long." if error == "QUERY_TIMEOUT" else error
                return errors(400, error, message)
        rows = self._run(q, include_deleted=resource == "queryAll")
        if q.count:
            self.stats.queries[f"count:{q.object.name}"] += 1
            return Response(200, dumps({"totalSize": len(rows), "done": True, "records": []}))
        self.stats.queries[f"{resource}:{q.object.name}"] += 1
        batch = self.batch_size
        m = re.search(r"batchSize\s*=\s*(\d+)", headers.get("Sforce-Query-Options") or "")
        if m:
            batch = max(200, min(2000, int(m.group(1))))
        cursor = Cursor(q.object.name, q.fields, rows, batch)
        return self._page(cursor, None, 0, version)

    def _page(self, cursor: Cursor, locator: str | None, start: int, version: str) -> Response:
        spec = S.BY_NAME[cursor.object]
        table = self.org.tables[spec.name]
        chunk = [i for i in cursor.rows[start : start + cursor.batch] if table.state[i] != PURGED]
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": start + cursor.batch >= len(cursor.rows)}
        if not body["done"]:
            if locator is None:
                self._n_cursors += 1
                locator = make_id("01g", self._n_cursors)
                self._cursors[locator] = cursor
                while len(self._cursors) > 100:
                    self._cursors.popitem(last=False)
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{start + cursor.batch}"
        body["records"] = [self._record_json(spec, i, cursor.fields, version) for i in chunk]
        return Response(200, dumps(body))

    def _query_more(self, token: str, version: str) -> Response:
        locator, _, offset = token.rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            return errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        self._cursors.move_to_end(locator)
        self.stats.queries[f"more:{cursor.object}"] += 1
        return self._page(cursor, locator, int(offset), version)

    def _get_deleted(self, spec: ObjectSpec, params: dict[str, str]) -> Response:
        if "start" not in params or "end" not in params:
            missing = "start" if "start" not in params else "end"
            return errors(400, "MISSING_ARGUMENT", f"Missing required parameter: {missing}")
        start, end = parse_iso(params["start"]), parse_iso(params["end"])
        if start is None or end is None:
            bad = params["start"] if start is None else params["end"]
            return errors(400, "INVALID_REPLICATION_DATE", f"Unable to parse date: {bad}")
        now = self._now()
        if start >= end:
            return errors(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        if start < now - self.replication_window_days * DAY:
            return errors(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {self.replication_window_days} days ago",
            )
        table = self.org.tables[spec.name]
        horizon = now - self.deleted_retention_days * DAY
        log = [(t, idx) for idx, t in table.deleted_at.items() if t >= horizon]
        hits = sorted((t, table.id(idx)) for t, idx in log if start <= t <= end)
        earliest = min((t for t, _ in log), default=horizon)
        return Response(
            200,
            dumps(
                {
                    "deletedRecords": [{"id": rid, "deletedDate": sf_datetime(t)} for t, rid in hits],
                    "earliestDateAvailable": sf_datetime(earliest - earliest % MINUTE),
                    "latestDateCovered": sf_datetime(int(min(end, now))),
                }
            ),
        )

    def _versions(self) -> list[dict[str, str]]:
        top = int(float(self.api_version[1:]))
        seasons = ("Winter", "Spring", "Summer")
        out = []
        for v in range(max(31, top - 5), top + 1):
            year = (v - 31) // 3 + 15
            out.append(
                {"label": f"{seasons[(v - 32) % 3]} '{year}", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            )
        return out
