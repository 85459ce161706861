"""Follow-through on promises, from the Due screen: a promised document or commitment came
(received, the chase is done) or has not (not received, the chase stays planned), dated today
in this computer's time zone. The track record and the insights count from these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from p2pcall import queries
from p2pcall.domain.followups import DueItem, followup_title
from p2pcall.domain.reviewers import PROMISE_ACTIONS
from p2pcall.host import host

if TYPE_CHECKING:
    from p2pcall.screens.due import DueScreen


def mark_received(screen: DueScreen, item: DueItem, received: bool) -> None:
    followup = item.followup
    if followup.action.value not in PROMISE_ACTIONS:
        screen.notify(
            "Received / not received is for documents or commitments the reviewer promised.",
            timeout=4,
        )
        return
    followup_id = followup.id

    def done(_: object) -> None:
        word = "Received" if received else "Not received (noted today)"
        screen.notify(f"{word}: {followup_title(followup)}", timeout=3)
        screen.reload()
        host(screen).refresh_home()

    host(screen).db.submit(
        lambda store: queries.mark_followup_received(store, followup_id, received),
        done,
        lambda error: screen.notify(error, severity="error"),
    )
