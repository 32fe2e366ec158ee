"""Bulk API 2.0 query jobs: create, poll (UploadComplete → InProgress → JobComplete or Failed),
abort, delete, and CSV results paged by ``maxRecords`` and ``locator``."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from typing import Any

from simulators.shared import (
    Response,
    dumps,
)

from . import soql
from ._util import csv_datetime, make_id, sf_datetime
from .core import NOT_FOUND, BulkJob, Core, errors
from .data import PURGED
from .oauth import b64url_decode

_MAX_JOBS = 500


class BulkApi(Core):
    """``/services/data/vXX.X/jobs/query``."""

    def _job_info(self, job: BulkJob, full: bool = True) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.query.object.name,
            "createdById": self.user_id,
            "createdDate": sf_datetime(job.created),
            "systemModstamp": sf_datetime(max(job.created, job.finished)),
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(job.version[1:]),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if full:
            info.update(
                {
                    "jobType": "V2Query",
                    "numberRecordsProcessed": len(job.rows) if job.rows is not None else 0,
                    "retries": 0,
                    "totalProcessingTime": 0 if job.rows is None else 250 + len(job.rows) // 20,
                    "isPkChunkingSupported": True,
                }
            )
        if job.error is not None:
            info["errorMessage"] = job.error
        return info

    def _bulk(self, method: str, version: str, rest: str, params: dict[str, str], body: bytes) -> Response:
        if rest == "" and method == "POST":
            return self._bulk_create(version, body)
        if rest == "" and method == "GET":
            jobs = [self._job_info(j, full=False) for j in self._jobs.values()]
            return Response(200, dumps({"done": True, "records": jobs, "nextRecordsUrl": None}))
        m = re.match(r"^/([^/]+)(/results)?$", rest)
        job = self._jobs.get(m.group(1)) if m else None
        if m is None or job is None:
            return errors(404, "NOT_FOUND", NOT_FOUND)
        if m.group(2):
            if method != "GET":
                return errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET")
            return self._bulk_results(job, params, version)
        if method == "GET":
            self._advance(job)
            return Response(200, dumps(self._job_info(job)))
        if method == "PATCH":
            try:
                wanted = json.loads(body or b"{}").get("state")
            except (ValueError, AttributeError):
                wanted = None
            if wanted != "Aborted":
                return errors(400, "INVALIDJOBSTATE", "Only state Aborted can be set on a query job")
            if job.state in ("JobComplete", "Failed", "Aborted"):
                return errors(400, "INVALIDJOBSTATE", f"Job {job.id} is already in state {job.state}")
            job.state = "Aborted"
            return Response(200, dumps(self._job_info(job, full=False)))
        if method == "DELETE":
            del self._jobs[job.id]
            return Response(204)
        return errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE")

    def _bulk_create(self, version: str, body: bytes) -> Response:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return errors(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if not isinstance(spec, dict):
            return errors(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        operation = spec.get("operation")
        if operation not in ("query", "queryAll"):
            return errors(400, "INVALIDJOB", f"Invalid operation for a query job: {operation}")
        if spec.get("contentType", "CSV") != "CSV" or spec.get("columnDelimiter", "COMMA") != "COMMA":
            return errors(400, "INVALIDJOB", "The simulator writes CSV with COMMA delimiters only")
        text = spec.get("query")
        if not isinstance(text, str) or not text.strip():
            return errors(400, "INVALIDJOB", "A query is required for a query job")
        q = soql.parse(text, self._visible)
        if q.object.name.lower() in self.bulk_unsupported_objects:
            return errors(400, "INVALIDENTITY", f"Entity '{q.object.name}' is not supported by the Bulk API.")
        if q.count:
            return errors(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0 query jobs")
        if q.offset:
            return errors(400, "API_ERROR", "OFFSET is not supported by Bulk API 2.0 query jobs")
        if q.compound_fields:
            return errors(400, "API_ERROR", "Selecting compound data not supported in Bulk Query")
        self._n_jobs += 1
        job = BulkJob(make_id("750", self._n_jobs), operation, q, self._now(), version)
        self._jobs[job.id] = job
        while len(self._jobs) > _MAX_JOBS:  # Salesforce keeps results for days; a simulator keeps the latest jobs
            del self._jobs[next(iter(self._jobs))]
        self.stats.bulk_jobs += 1
        self.stats.queries[f"bulk:{q.object.name}"] += 1
        return Response(200, dumps(self._job_info(job, full=False)))

    def _advance(self, job: BulkJob) -> None:
        if job.state not in ("UploadComplete", "InProgress"):
            return
        job.polls += 1
        if job.polls < self.bulk_polls_to_complete:
            job.state = "InProgress"
            return
        job.finished = self._now()
        for n, (obj, message) in enumerate(self._bulk_failures):
            if obj is None or obj == job.query.object.name.lower():
                del self._bulk_failures[n]
                job.state, job.error = "Failed", message
                self.stats.bulk_jobs_failed += 1
                self.stats.count_fault("bulk_failed")
                return
        job.rows = self._run(job.query, include_deleted=job.operation == "queryAll")
        job.state = "JobComplete"

    def _bulk_results(self, job: BulkJob, params: dict[str, str], version: str) -> Response:
        if version != job.version:
            return errors(409, "API_ERROR", "Use the same API version to get results that created the job")
        if job.state != "JobComplete" or job.rows is None:
            return errors(
                400, "API_ERROR", f"Job {job.id} is in state {job.state}; results are available in state JobComplete"
            )
        start = 0
        if params.get("locator"):
            try:
                start = int(b64url_decode(params["locator"]).decode())
            except (ValueError, binascii.Error, UnicodeDecodeError):
                return errors(400, "INVALIDLOCATOR", f"Invalid locator: {params['locator']}")
        size = self.bulk_page_size
        if params.get("maxRecords"):
            if not params["maxRecords"].isdigit() or int(params["maxRecords"]) < 1:
                return errors(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer")
            size = int(params["maxRecords"])
        rows = job.rows[start : start + size]
        end = start + len(rows)
        locator = "null" if end >= len(job.rows) else base64.b64encode(str(end).encode()).decode().rstrip("=")
        spec = job.query.object
        fields = job.query.fields
        types = [spec.by_name[f].type for f in fields]
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(fields)
        build = self.org.build
        table = self.org.tables[spec.name]
        n = 0
        for idx in rows:
            if table.state[idx] == PURGED:
                continue
            rec = build(spec.name, idx)
            writer.writerow([_csv_value(t, rec[f]) for f, t in zip(fields, types, strict=True)])
            n += 1
        self.stats.bulk_result_pages += 1
        return Response(
            200, out.getvalue().encode(), "text/csv", [("Sforce-Locator", locator), ("Sforce-NumberOfRecords", str(n))]
        )


def _csv_value(field_type: str, value: Any) -> Any:
    if value is None:
        return None
    if field_type == "datetime":
        return csv_datetime(value)
    if field_type == "boolean":
        return "true" if value else "false"
    return value
