"""The practice's time zone, found the way the operating system finds it.

Every call stores the zone it was taken in, and every time is shown in it, so the zone must be a
name that pendulum and zoneinfo can load again years later. pendulum alone is not enough:
`TZ=":/etc/localtime"` (a valid setting: a zone file) came back with no name at all, and a POSIX
setting such as `TZ=UTC+3` silently became the system's zone. This module follows the C
library's order instead:

1. `TZ` unset: the system zone (pendulum's answer, else /etc/localtime's link target, else
   /etc/timezone, else the zone file whose bytes match /etc/localtime).
2. `TZ` empty: UTC, as the C library reads it.
3. `TZ` naming a file (`:/etc/localtime`, `/usr/share/zoneinfo/Europe/Paris`): the zone that
   file is, by its place under the zoneinfo folder or by its content.
4. `TZ` naming a zone (`America/New_York`, `EST5EDT`): that zone.
5. `TZ` written as a POSIX rule (`UTC+3`, `<+03>-3`): its standard offset, as an `Etc/GMT`
   zone. POSIX counts the other way round from ISO 8601: `UTC+3` is 3 hours *west* of UTC,
   that is -03:00. The user is told so in plain words, and told that a daylight-saving part
   of the rule is not followed.

Anything else is what the C library makes of it (UTC), said plainly too.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ZONEINFO_DIRS = ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo")
LOCALTIME = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")
ADVICE = "Set TZ to a zone name such as America/New_York to change this."

# std name, then the offset: hours (0-24), optional :minutes and :seconds. Anything after it
# is the daylight-saving part (a name, an optional offset and the dates it applies).
_POSIX = re.compile(
    r"(?P<std><[A-Za-z0-9+\-]{3,}>|[A-Za-z]{3,})"
    r"(?P<sign>[+-]?)(?P<h>\d{1,2})(?::(?P<m>\d{1,2})(?::(?P<s>\d{1,2}))?)?"
    r"(?P<dst>.*)"
)


@dataclass(frozen=True)
class LocalZone:
    name: str  # an IANA zone name: stored with each call, every time is shown in it
    notice: str | None = None  # said to the user when TZ was not simply a zone name


def resolve_local_zone(
    environ: Mapping[str, str] | None = None,
    localtime: Path = LOCALTIME,
    timezone_file: Path = TIMEZONE_FILE,
    zoneinfo_dirs: tuple[str, ...] = ZONEINFO_DIRS,
) -> LocalZone:
    if environ is None:
        mocked = _zone_set_in_pendulum()
        if mocked:
            return LocalZone(mocked)
    env = os.environ if environ is None else environ
    setting = env.get("TZ")
    if setting is None:
        return _system_zone(localtime, timezone_file, zoneinfo_dirs)
    if setting == "":
        return LocalZone("UTC", "TZ is set but empty, which means UTC: times are shown in UTC.")
    spec = setting[1:] if setting.startswith(":") else setting
    if spec.startswith("/"):
        return _zone_of_file(Path(spec), setting, localtime, timezone_file, zoneinfo_dirs)
    for prefix in ("posix/", "right/"):  # the same zone ("right/" also counts leap seconds)
        spec = spec.removeprefix(prefix)
    if spec in ("localtime", "posixrules"):
        # Links to another zone file, not zones: store the zone they stand for.
        for folder in zoneinfo_dirs:
            found = _name_of_zone_file(Path(folder, spec), zoneinfo_dirs)
            if found and found not in ("localtime", "posixrules"):
                return LocalZone(found)
        if spec == "localtime":
            return _system_zone(localtime, timezone_file, zoneinfo_dirs)
    if is_zone_name(spec):
        return LocalZone(spec)
    return posix_zone(setting)


def _zone_set_in_pendulum() -> str | None:
    """A zone set with pendulum.set_local_timezone() (tests freezing time and zone) wins.

    Time travel also rewrites TZ (time-machine sets it to the travel destination's zone), so
    without this a test's chosen zone would give way to TZ=UTC.
    """
    import importlib

    module = importlib.import_module("pendulum.tz.local_timezone")
    mock = getattr(module, "_mock_local_timezone", None)
    name = getattr(mock, "name", None)
    return name if isinstance(name, str) and is_zone_name(name) else None


def is_zone_name(name: str) -> bool:
    """A zone that zoneinfo can load by name (never a path)."""
    from zoneinfo import ZoneInfo

    if not name or name.startswith("/") or ".." in name.split("/"):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError; see below
        return False
    except KeyError:
        return False
    return True


def posix_zone(setting: str) -> LocalZone:
    """A POSIX TZ rule (`UTC+3`) as the fixed offset it means, said plainly."""
    spec = setting[1:] if setting.startswith(":") else setting
    match = _POSIX.fullmatch(spec)
    hours = int(match["h"]) if match else 99
    minutes = int(match["m"] or 0) if match else 0
    seconds = int(match["s"] or 0) if match else 0
    if match is None or hours > 24 or minutes > 59 or seconds > 59:
        return LocalZone(
            "UTC",
            f"TZ={setting} is not a time zone this computer understands: like the system, "
            f"p2pcall shows times in UTC. {ADVICE}",
        )
    west = hours * 3600 + minutes * 60 + seconds
    if match["sign"] == "-":
        west = -west
    shown = offset_text(-west)
    dst = match["dst"]
    span = f"{hours} hour{'s' if hours != 1 else ''}"
    direction = (
        f"TZ rules count westward, so this is {span} west of UTC"
        if west > 0
        else f"TZ rules count westward, so this is {span} east of UTC"
        if west < 0
        else "no offset from UTC"
    )
    fits_etc_zone = (west >= 0 and hours <= 12) or (west < 0 and hours <= 14)
    if minutes or seconds or not fits_etc_zone:
        # No IANA zone holds this fixed offset, and a stored zone must be loadable by name.
        return LocalZone(
            "UTC",
            f"TZ={setting} means UTC{shown}, which has no zone name p2pcall can store with "
            f"the record: times are shown in UTC. {ADVICE}",
        )
    if west == 0 and not dst:
        return LocalZone("UTC")  # UTC0, GMT+0: plain UTC, nothing to explain
    name = "UTC" if west == 0 else f"Etc/GMT{'+' if west > 0 else '-'}{abs(west) // 3600}"
    dst_note = (
        " Its daylight-saving part is not followed: times stay at that offset all year."
        if dst
        else ""
    )
    return LocalZone(
        name,
        f"TZ={setting} is not a zone name: times are shown at UTC{shown} "
        f"({direction}).{dst_note} {ADVICE}",
    )


def zone_label(name: str) -> str:
    """A zone as a person reads it. Etc/GMT+3 is -03:00 (POSIX signs): never shown bare."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", name)
    if match is None:
        return name
    hours = int(match[2])
    east = -hours * 3600 if match[1] == "+" else hours * 3600
    return f"UTC{offset_text(east)} (fixed offset, no daylight saving)"


def offset_text(east_seconds: int) -> str:
    """+05:30, -03:00."""
    sign = "-" if east_seconds < 0 else "+"
    minutes = abs(east_seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _system_zone(localtime: Path, timezone_file: Path, zoneinfo_dirs: tuple[str, ...]) -> LocalZone:
    import pendulum

    if localtime == LOCALTIME:  # pendulum only knows the real system files
        name = pendulum.local_timezone().name
        if name and is_zone_name(name):
            return LocalZone(name)
    found = _name_from_files(localtime, timezone_file, zoneinfo_dirs)
    if found:
        return LocalZone(found)
    if not localtime.exists():
        return LocalZone("UTC")  # no zone set on this computer: the C library uses UTC
    return LocalZone(
        "UTC",
        f"This computer's time zone ({localtime}) has no name p2pcall can find: times are "
        f"shown in UTC. {ADVICE}",
    )


def _zone_of_file(
    path: Path,
    setting: str,
    localtime: Path,
    timezone_file: Path,
    zoneinfo_dirs: tuple[str, ...],
) -> LocalZone:
    found = _name_of_zone_file(path, zoneinfo_dirs)
    if found is None and _same_file(path, localtime):
        found = _name_from_files(localtime, timezone_file, zoneinfo_dirs)
    if found:
        return LocalZone(found)
    return LocalZone(
        "UTC",
        f"TZ={setting} names a file that is not a time zone p2pcall can name: times are "
        f"shown in UTC. {ADVICE}",
    )


def _name_from_files(
    localtime: Path, timezone_file: Path, zoneinfo_dirs: tuple[str, ...]
) -> str | None:
    found = _name_of_zone_file(localtime, zoneinfo_dirs, by_content=False)
    if found:
        return found
    try:
        written = timezone_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        written = ""
    if written and is_zone_name(written):
        return written
    return _name_of_zone_file(localtime, zoneinfo_dirs)


def _name_of_zone_file(
    path: Path, zoneinfo_dirs: tuple[str, ...], by_content: bool = True
) -> str | None:
    """The zone a file is: where it sits (or links to) under zoneinfo, else by its bytes."""
    try:
        real = Path(os.path.realpath(path))
        if not real.is_file():
            return None
    except OSError:
        return None
    for folder in zoneinfo_dirs:
        root = Path(os.path.realpath(folder))
        try:
            key = real.relative_to(root).as_posix()
        except ValueError:
            continue
        for prefix in ("posix/", "right/"):
            key = key.removeprefix(prefix)
        if is_zone_name(key):
            return key
    if not by_content:
        return None
    try:
        content = real.read_bytes()
        stat = real.stat()
    except OSError:
        return None
    return _zone_with_content(content, stat.st_size, zoneinfo_dirs)


@functools.lru_cache(maxsize=8)
def _zone_with_content(content: bytes, size: int, zoneinfo_dirs: tuple[str, ...]) -> str | None:
    # A copied /etc/localtime: the first zone file (by name) with the same bytes. Region
    # names come before the legacy and Etc aliases that hold the same rules.
    for folder in zoneinfo_dirs:
        root = Path(folder)
        if not root.is_dir():
            continue
        candidates: list[str] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in ("posix", "right")]
            for filename in filenames:
                full = Path(dirpath, filename)
                try:
                    if full.stat().st_size == size and full.read_bytes() == content:
                        candidates.append(full.relative_to(root).as_posix())
                except OSError:
                    continue
        candidates.sort(key=lambda key: ("/" not in key, key.startswith("Etc/"), key))
        for key in candidates:
            if is_zone_name(key):
                return key
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
