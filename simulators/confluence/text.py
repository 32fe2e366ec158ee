"""Generated text: titles, words and storage-format / ADF bodies made on demand from ``(id, version)``."""

from __future__ import annotations

import hashlib
import html
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Content

# --------------------------------------------------------------------------------------------
# generated text

AREA_WORDS: dict[str, tuple[str, ...]] = {
    "billing": ("invoice", "payment method", "credit note", "subscription plan", "billing contact", "tax ID"),
    "login_access": ("SSO configuration", "password reset link", "session timeout", "SAML certificate", "2FA device"),
    "integrations": ("Salesforce connector", "Slack app", "webhook endpoint", "Zapier trigger", "OAuth client"),
    "reporting": ("scheduled report", "dashboard widget", "CSV export", "custom metric", "report filter"),
    "api": ("API key", "rate limit", "pagination cursor", "REST endpoint", "bulk job"),
    "mobile_app": ("iOS app", "Android app", "push notification", "offline cache", "app version"),
    "data_import": ("CSV import", "field mapping", "duplicate check", "import job", "spreadsheet template"),
    "notifications": ("email digest", "notification rule", "SMS alert", "in-app banner", "mention alert"),
    "performance": ("dashboard load time", "search index", "query timeout", "background job", "page cache"),
    "user_management": ("user role", "permission set", "team membership", "seat license", "SCIM provisioning"),
}
AREA_TITLES = {
    "billing": "Billing",
    "login_access": "Login and access",
    "integrations": "Integrations",
    "reporting": "Reporting",
    "api": "API",
    "mobile_app": "Mobile app",
    "data_import": "Data import",
    "notifications": "Notifications",
    "performance": "Performance",
    "user_management": "User management",
}
KB_TEMPLATES = (
    "How to configure the {w}",
    "Troubleshooting the {w}",
    "{W} not updating",
    "FAQ: {w}",
    "Known issue: {w} errors after upgrade",
    "Best practices for the {w}",
    "Changing the {w} for a workspace",
    "Why is the {w} missing?",
)
RUNBOOK_TEMPLATES = (
    "Runbook: {w} outage",
    "Runbook: degraded {w}",
    "Rolling back a bad {w} change",
    "Escalation path for {w} incidents",
    "Customer comms template: {w} incident",
)
ONBOARDING_TITLES = (
    "Onboarding: first week in Tier {t}",
    "Onboarding: shadowing checklist for Tier {t}",
    "Onboarding: tools and access for Tier {t}",
)
_SYMPTOMS = (
    "Customers report that the {w} shows stale values.",
    "The {w} returns an error for some users but not others.",
    "Admins cannot find the {w} in the settings menu.",
    "The {w} works on desktop but fails on mobile.",
    "After the last release the {w} takes minutes to respond.",
    "Saving changes to the {w} silently does nothing.",
)
_CAUSES = (
    "The workspace still uses the legacy {w}, which was retired in the spring release.",
    "A browser extension blocks the request that loads the {w}.",
    "The customer's identity provider sends an expired certificate along with the {w} request.",
    "The {w} is cached for fifteen minutes; changes appear after the cache expires.",
    "The account is on a plan that does not include the {w}.",
)
_STEPS = (
    "Open Settings and select the {w}.",
    "Confirm the customer is an admin of the workspace.",
    "Ask for a screenshot of the error, including the request ID.",
    "Clear the cached {w} from the admin console.",
    "Check the audit log for recent changes to the {w}.",
    "Re-run the sync and watch the job status page.",
    "If the problem persists, escalate to Tier 3 with the request ID and the workspace URL.",
    "Link the ticket to this article so the resolution is tracked.",
)
_CODE = (
    "curl -s -H 'Authorization: Bearer $TOKEN' https://api.example.com/v2/workspaces/$WS/status",
    "SELECT id, status, updated_at FROM jobs WHERE workspace_id = :ws ORDER BY updated_at DESC LIMIT 20;",
    "kubectl -n support logs deploy/sync-worker --since=1h | grep $REQUEST_ID",
    "supportctl cache purge --workspace $WS --scope reports",
)
MEETING = "\0meeting:"
EDIT_MESSAGES = (
    "",
    "",
    "",
    "Fixed typo",
    "Updated screenshots",
    "Clarified the resolution steps",
    "Reviewed by Tier 3",
)


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str
    """h2, p, ul, ol, code, info, table, links, tasks, users."""
    text: str = ""
    items: tuple[str, ...] = ()


def make_blocks(c: Content, author_ids: Sequence[str], titles: Sequence[str]) -> list[_Block]:
    """The body of ``c`` at its current version, as neutral blocks (rendered to storage or ADF)."""
    rng = random.Random(f"confluence-body:{c.id}:{c.version}")
    words = AREA_WORDS.get(c.area, AREA_WORDS["billing"])

    def fill(s: str) -> str:
        w = rng.choice(words)
        return s.format(w=w, W=w[:1].upper() + w[1:])

    blocks: list[_Block] = []
    if c.kind in ("home", "section"):
        blocks.append(_Block("p", f"Welcome to {c.title}. Start here, or search the space."))
        blocks.append(_Block("info", "Articles are reviewed every quarter by the Tier 3 team."))
        blocks.append(_Block("h2", "Popular articles"))
        blocks.append(_Block("links", items=tuple(rng.sample(list(titles), min(len(titles), 8)))))
        return blocks
    if c.kind == "meeting":
        blocks.append(_Block("h2", "Attendees"))
        blocks.append(_Block("users", items=tuple(rng.sample(list(author_ids), min(len(author_ids), 5)))))
        blocks.append(_Block("h2", "Discussion"))
        for _ in range(rng.randint(4, 9)):
            blocks.append(_Block("p", fill(rng.choice(_SYMPTOMS)) + " " + fill(rng.choice(_CAUSES))))
        blocks.append(_Block("h2", "Action items"))
        blocks.append(_Block("tasks", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 5)))))
        return blocks
    if c.kind in ("release", "digest"):
        blocks.append(_Block("p", f"{c.title}: what changed and what support should know."))
        for _ in range(rng.randint(3, 6)):
            blocks.append(_Block("h2", fill("Changes to the {w}")))
            blocks.append(_Block("p", fill(rng.choice(_CAUSES))))
            blocks.append(_Block("ul", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 4)))))
        return blocks
    blocks.append(
        _Block("info", f"Applies to: {rng.choice(('all plans', 'Enterprise', 'Professional and Enterprise'))}.")
    )
    blocks.append(_Block("p", " ".join(fill(rng.choice(_SYMPTOMS)) for _ in range(rng.randint(2, 4)))))
    blocks.append(_Block("h2", "Symptoms"))
    blocks.append(_Block("ul", items=tuple(fill(rng.choice(_SYMPTOMS)) for _ in range(rng.randint(3, 7)))))
    blocks.append(_Block("h2", "Cause"))
    for _ in range(rng.randint(2, 5)):
        blocks.append(_Block("p", " ".join(fill(rng.choice(_CAUSES)) for _ in range(rng.randint(2, 5)))))
    blocks.append(_Block("h2", "Resolution" if c.kind != "runbook" else "Procedure"))
    blocks.append(_Block("ol", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(4, 10)))))
    if rng.random() < 0.5:
        blocks.append(_Block("h2", "Workaround"))
        blocks.append(_Block("p", " ".join(fill(rng.choice(_CAUSES)) for _ in range(rng.randint(1, 3)))))
        blocks.append(_Block("ul", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 5)))))
    if rng.random() < 0.6:
        blocks.append(_Block("code", rng.choice(_CODE)))
    if rng.random() < 0.5:
        blocks.append(
            _Block(
                "table",
                items=tuple(
                    fill("{W}") + "|" + rng.choice(("on", "off", "15 min", "per workspace"))
                    for _ in range(rng.randint(2, 5))
                ),
            )
        )
    blocks.append(_Block("h2", "Related articles"))
    blocks.append(_Block("links", items=tuple(rng.sample(list(titles), min(len(titles), rng.randint(2, 4))))))
    return blocks


def storage_body(blocks: Iterable[_Block], macro_seed: int) -> str:
    e = html.escape
    out: list[str] = []
    for n, b in enumerate(blocks):
        macro_id = hashlib.sha256(f"{macro_seed}:{n}".encode()).hexdigest()
        macro_id = f"{macro_id[:8]}-{macro_id[8:12]}-{macro_id[12:16]}-{macro_id[16:20]}-{macro_id[20:32]}"
        if b.kind == "h2":
            out.append(f"<h2>{e(b.text)}</h2>")
        elif b.kind == "p":
            out.append(f"<p>{e(b.text)}</p>")
        elif b.kind in ("ul", "ol"):
            out.append(f"<{b.kind}>" + "".join(f"<li><p>{e(i)}</p></li>" for i in b.items) + f"</{b.kind}>")
        elif b.kind == "info":
            out.append(
                f'<ac:structured-macro ac:name="info" ac:schema-version="1" ac:macro-id="{macro_id}">'
                f"<ac:rich-text-body><p>{e(b.text)}</p></ac:rich-text-body></ac:structured-macro>"
            )
        elif b.kind == "code":
            out.append(
                f'<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="{macro_id}">'
                '<ac:parameter ac:name="language">bash</ac:parameter>'
                f"<ac:plain-text-body><![CDATA[{b.text}]]></ac:plain-text-body></ac:structured-macro>"
            )
        elif b.kind == "table":
            rows = "".join(
                "<tr>" + "".join(f"<td><p>{e(cell)}</p></td>" for cell in item.split("|")) + "</tr>" for item in b.items
            )
            out.append(
                '<table data-layout="default"><tbody><tr><th><p>Setting</p></th><th><p>Value</p></th></tr>'
                f"{rows}</tbody></table>"
            )
        elif b.kind == "links":
            out.append(
                "<ul>"
                + "".join(f'<li><ac:link><ri:page ri:content-title="{e(t)}" /></ac:link></li>' for t in b.items)
                + "</ul>"
            )
        elif b.kind == "users":
            out.append(
                "<p>" + ", ".join(f'<ac:link><ri:user ri:account-id="{u}" /></ac:link>' for u in b.items) + "</p>"
            )
        elif b.kind == "tasks":
            out.append(
                "<ac:task-list>"
                + "".join(
                    f"<ac:task><ac:task-id>{k + 1}</ac:task-id><ac:task-status>incomplete</ac:task-status>"
                    f"<ac:task-body>{e(t)}</ac:task-body></ac:task>"
                    for k, t in enumerate(b.items)
                )
                + "</ac:task-list>"
            )
    return "".join(out)


def adf_body(blocks: Iterable[_Block]) -> str:
    def text(s: str) -> dict[str, Any]:
        return {"type": "paragraph", "content": [{"type": "text", "text": s}]}

    content: list[dict[str, Any]] = []
    for b in blocks:
        if b.kind == "h2":
            content.append({"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": b.text}]})
        elif b.kind in ("p", "info"):
            content.append(text(b.text))
        elif b.kind == "code":
            content.append(
                {"type": "codeBlock", "attrs": {"language": "bash"}, "content": [{"type": "text", "text": b.text}]}
            )
        else:
            kind = "orderedList" if b.kind == "ol" else "bulletList"
            items = [{"type": "listItem", "content": [text(i.replace("|", ": "))]} for i in b.items]
            content.append({"type": kind, "content": items})
    return json.dumps({"type": "doc", "version": 1, "content": content}, separators=(",", ":"))
