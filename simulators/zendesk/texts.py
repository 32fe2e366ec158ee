"""What people write: ticket subjects and descriptions, replies, knowledge-article links.

Comments link to the world's Confluence pages (``.../wiki/spaces/SUP/pages/<id>/<Title>``) and
Zendesk Guide articles (``.../hc/en-us/articles/<id>-<slug>``) of the ticket's product area.
"""

from __future__ import annotations

import html

from simulators.world import PRODUCT_AREAS, Article

PROBLEMS = {
    "billing": ("Invoice shows a duplicate charge", "we were charged twice this month"),
    "login_access": ("Users cannot sign in", "several users get an error when they sign in"),
    "integrations": ("Salesforce sync stopped", "records stopped syncing from Salesforce yesterday"),
    "reporting": ("Report totals look wrong", "the monthly report totals do not match our numbers"),
    "api": ("API returns 429 errors", "our integration keeps getting rate limit errors"),
    "mobile_app": ("Mobile app crashes", "the mobile app closes right after it opens"),
    "data_import": ("CSV import fails", "the CSV import stops halfway with an error"),
    "notifications": ("Email notifications delayed", "notification emails arrive hours late"),
    "performance": ("Dashboard is very slow", "dashboards take more than a minute to load"),
    "user_management": ("Cannot change user roles", "admins cannot change the role of a user"),
}
CLOSINGS = ("Best regards", "Kind regards", "Thanks", "Cheers")


def by_area(articles: tuple[Article, ...]) -> dict[str, tuple[Article, ...]]:
    """Articles per product area (all of them for an area without its own)."""
    return {area: tuple(a for a in articles if a.product_area == area) or articles for area in PRODUCT_AREAS}


def article(rng_u: float, articles: dict[str, tuple[Article, ...]], area: str) -> Article:
    same = articles[area]
    return same[int(rng_u * len(same)) % len(same)]


_LINKS: dict[tuple[str, int], tuple[str, str]] = {}


def link(article: Article) -> tuple[str, str]:
    """The article's URL, and an HTML anchor to it."""
    key = (article.system, article.id)
    hit = _LINKS.get(key)
    if hit is None:
        url = article.url
        hit = (url, f'<a href="{html.escape(url)}" rel="noreferrer">{html.escape(article.title)}</a>')
        _LINKS[key] = hit
    return hit


def render_html(parts: list[str | Article]) -> str:
    """The HTML body of a comment made of text and article links."""
    markup = "".join(link(p)[1] if isinstance(p, Article) else html.escape(p, quote=False) for p in parts)
    paragraphs = "".join(f'<p dir="auto">{p}</p>' for p in markup.split("\n\n"))
    return f'<div class="zd-comment" dir="auto">{paragraphs}</div>'


GOOD_COMMENTS = ("Great support, thank you!", "Quick and helpful.", "Solved on the first call.")
BAD_COMMENTS = ("Took too long to get an answer.", "The problem came back.", "Had to explain it three times.")
BAD_REASONS = (
    ("The issue took too long to resolve", 5),
    ("The issue was not resolved", 7),
    ("The agent's knowledge is unsatisfactory", 6),
)

PROBLEM_KEYS = tuple(PROBLEMS)
