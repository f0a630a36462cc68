"""The interviewer's personal page link outside a web request: in the mail a coordinator
sends with one click, and in every interview invite an interviewer gets.

The link is ``<public url>/i/<signed token>`` (:data:`INTERVIEWER_PATH` is the page's
route prefix; a test pins it to the route), signed as :func:`services.interviewer_token`
signs it, so it stops working when the interviewer is deactivated or their nonce changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from integrations.mail import html_paragraphs
from web.domain.services import interviewer_token
from web.store.models import Interviewer, OutboxMail

INTERVIEWER_PATH = "/i/"
LINK_MAIL_KIND = "interviewer_link"


@dataclass(frozen=True)
class PersonalLinks:
    """Where personal links point and what signs them (the secret is never shown)."""

    base_url: str
    secret: str = field(repr=False)

    def page(self, who: Interviewer, now: datetime) -> str:
        token = interviewer_token(self.secret, who, now=now)
        return self.base_url.rstrip("/") + INTERVIEWER_PATH + token


def page_line(link: str) -> str:
    """The invite's line pointing the interviewer at their page."""
    return (
        f"\n\nYour interviewer page (upcoming interviews, your calendars and working hours): {link}"
    )


def invite_page_line(
    links: PersonalLinks | None, people: Iterable[Interviewer], addr: str, now: datetime
) -> str:
    """:func:`page_line` for the interviewer of ``addr`` among ``people`` ("" without links)."""
    if links is None:
        return ""
    who = next((p for p in people if p.email.lower() == addr.lower()), None)
    if who is None or not who.active:
        return ""
    return page_line(links.page(who, now))


def link_mail(who: Interviewer, link: str, sender: str, now: datetime) -> OutboxMail:
    """The outbox row that mails ``who`` their personal page link."""
    body = (
        f"Hello {who.name},\n\n{sender} sent you the link to your personal panelslot page. "
        "There you see your upcoming interviews, connect your calendars and set your "
        f"working hours:\n{link}\n\nThe link is personal: do not forward it."
    )
    return OutboxMail(
        kind=LINK_MAIL_KIND,
        request_id=None,
        to_addr=who.email,
        subject="Your interviewer page",
        text_body=body,
        html_body=html_paragraphs(body),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
