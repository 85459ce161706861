"""`p2pcall reviewers`: the reviewers met across calls; merge two entries that are one
person, undo a merge, or undo a call's link. Links and merges are kept beside the record,
never in it: no call's fields or hash chain change.

    p2pcall reviewers                  # id, name, degree, specialty, vendor, calls
    p2pcall reviewers merge 12 7       # entry 12 is the same person as entry 7
    p2pcall reviewers unmerge 12       # undo that merge
    p2pcall reviewers unlink 345       # call 345 is not linked to any reviewer any more
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from p2pcall.domain.reviewers import Reviewer


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "reviewers",
        parents=parents,
        help="reviewers across calls: list, merge, unmerge, unlink a call",
        description="Reviewers met across calls. Merging keeps each call's own link, so a "
        "merge can be undone; nothing in any call's record changes.",
    )
    parser.add_argument(
        "action", nargs="?", default="list", choices=("list", "merge", "unmerge", "unlink")
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="reviewer or call numbers")
    parser.add_argument("--json", action="store_true", help="machine-readable list")


def _fail(message: str, status: int = 2) -> int:
    print(f"p2pcall reviewers: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace, data_dir: Path) -> int:
    wanted = {"list": 0, "merge": 2, "unmerge": 1, "unlink": 1}[args.action]
    if len(args.ids) != wanted:
        return _fail(f"{args.action} takes {wanted} number(s), not {len(args.ids)}")
    try:
        ids = [int(value) for value in args.ids]
    except ValueError:
        return _fail("reviewer and call numbers are whole numbers")
    from p2pcall.paths import database_path

    if args.database is None and not database_path(data_dir).exists():
        return _fail(f"no calls recorded in {data_dir}", 1)
    from p2pcall.store import StoreError
    from p2pcall.store.opening import open_store

    try:
        store = open_store(data_dir, args.database)
    except StoreError as exc:
        return _fail(str(exc), 1)
    try:
        if args.action == "list":
            _print(store.reviewers(), args.json)
        elif args.action == "merge":
            merged = store.merge_reviewers(ids[0], ids[1])
            print(f"Reviewer {ids[0]} merged into {merged.id}: {merged.summary()}")
        elif args.action == "unmerge":
            back = store.unmerge_reviewer(ids[0])
            print(f"Reviewer {back.id} stands on its own again: {back.summary()}")
        else:
            was = store.unlink_call(ids[0])
            print(
                f"Call {ids[0]} was not linked to a reviewer."
                if was is None
                else f"Call {ids[0]} is no longer linked to reviewer {was}."
            )
    except StoreError as exc:
        return _fail(str(exc), 1)
    finally:
        store.close()
    return 0


def _print(reviewers: list[Reviewer], as_json: bool) -> None:
    from p2pcall.domain.text import one_line

    if as_json:
        import json

        rows = [
            {"id": r.id, **r.details.__dict__, "calls": r.calls, "merged_into": r.merged_into}
            for r in reviewers
        ]
        json.dump({"reviewers": rows}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if not reviewers:
        print("No reviewers recorded yet (link one in section B of a call).")
        return
    for r in reviewers:
        merged = f"  (merged into {r.merged_into})" if r.merged_into else ""
        print(f"{r.id:>6}  {one_line(r.summary(), 100)}{merged}")
