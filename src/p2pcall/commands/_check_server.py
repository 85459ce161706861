"""`p2pcall check` on a practice server: its guards, and every finalized call's chain.

The server checks its own storage (PostgreSQL's checksums and its administrator's tools); what
p2pcall can check is that its guards are in place (`store.postgres.guards`) and that every
finalized call the person may read still matches the chain head stamped when it was finalized.
Fails closed: what could not be checked says NOT CHECKED and exits non-zero.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.store.readapi import ReadApi

EXIT_PROBLEM = 1


def run(database: str) -> int:
    from p2pcall.commands._records import error_line, shown
    from p2pcall.store import StoreError
    from p2pcall.store.integrity import schema_check
    from p2pcall.store.opening import open_server_reader

    try:
        store = open_server_reader(database)
        with store.reading() as db:
            ids = [row[0] for row in db.execute(_FINALIZED).fetchall()]
        _version, problems = schema_check(store)
        changed = [call_id for call_id in ids if not _chain_holds(store, call_id)]
    except StoreError as exc:
        print(error_line("p2pcall check", f"NOT CHECKED: {exc}"), file=sys.stderr)
        return EXIT_PROBLEM
    where = getattr(store, "where", database)
    store.close()
    problems += [
        f"call {call_id}: the record no longer matches its chain head" for call_id in changed
    ]
    if problems:
        print(f"PROBLEMS: {shown(where)}")
        for line in problems[:20]:
            print(f"  {shown(line)}")
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more")
        return EXIT_PROBLEM
    print(
        f"ok: {shown(where)}: the guards are p2pcall's own, and the {len(ids)} finalized "
        "call(s) you can read match their chain heads"
    )
    return 0


_FINALIZED = "SELECT id FROM call WHERE finalized_at IS NOT NULL ORDER BY id"


def _chain_holds(store: ReadApi, call_id: int) -> bool:
    inputs = store.chain_inputs(call_id)
    return bool(inputs.call.chain_head == inputs.head())
