"""Follow-through on promises, from the Due screen: a promised document or commitment came
(received, the chase is done) or has not (not received, the chase stays planned), dated today
in this computer's time zone. The track record and the insights count from these."""

from __future__ import annotations

from typing import Any

from p2pcall.domain.followups import DueItem, followup_title
from p2pcall.domain.reviewers import PROMISE_ACTIONS


def mark_received(screen: Any, item: DueItem, received: bool) -> None:
    followup = item.followup
    if followup.action.value not in PROMISE_ACTIONS:
        screen.notify(
            "Received / not received is for documents or commitments the reviewer promised.",
            timeout=4,
        )
        return
    followup_id = followup.id

    def change(store: Any) -> None:
        import pendulum

        from p2pcall.domain.timefmt import local_tz_name

        today = pendulum.now(local_tz_name()).date()
        store.set_followup_received(followup_id, received, today)
        if received:
            store.mark_followup_done(followup_id)

    def done(_: object) -> None:
        word = "Received" if received else "Not received (noted today)"
        screen.notify(f"{word}: {followup_title(followup)}", timeout=3)
        screen.reload()
        screen.app.refresh_home()

    screen.app.db.submit(change, done, lambda error: screen.notify(error, severity="error"))
