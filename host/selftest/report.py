"""A self-test result as a person reads it, the one a rig keeps, and the runs it refuses.

The board tests a channel at a time (its card; the rig's own parts with the laser's
channel), and every check says the channel it was run on. A rig keeps its board's latest
result of every check of every channel: a quick test (at each handshake) replaces the checks
it repeats and keeps the full test's others (the shutter, the dark current), so a shutter
found broken stays refused until a full test finds it working. A failed check refuses runs
on its channel; one of the rig's own parts (checks.RIG_PARTS) refuses them on every channel.
"""

from typing import Any

from host.runkey import board_text
from host.selftest.checks import (
    ANY_RUN_PARTS,
    DETAILS,
    RIG_PARTS,
    check_for,
    missing_chips,
    missing_parts,
)
from protocol import schema
from protocol.names import CHECK_STATE_NAMES, FAULT_NAMES

SCOPES = ("quick", "full")


def _state_name(state: int) -> str:
    names = CHECK_STATE_NAMES
    return names[state] if 0 <= state < len(names) else "unknown (%d)" % state


def check_dict(record: Any, scope: str, at: str, rig: str = "RIG",
               channel: int = 0) -> dict[str, Any]:
    """One record of SELF_TEST_RESULT in words: name, state, value, unit, limit, advice,
    and the channel it was run on."""
    check = check_for(record.check)
    state = _state_name(record.state)
    passed = {"pass": True, "fail": False}.get(state)
    value: Any = check.value(record.value)
    detail = DETAILS.get(record.detail)
    if record.detail == schema.DETAIL_NO_ANSWER:
        value = None
        detail = "%s (errno %d)" % (detail, record.value)
    elif record.detail == schema.DETAIL_CRC or state == "skipped":
        value = None
    parts = check.parts
    advice = None
    if state == "fail":
        advice = check.advice
        if record.check == schema.CHK_I2C_SCAN and record.detail != schema.DETAIL_NO_ANSWER:
            parts = missing_parts(record.value, record.high)
            detail = "no answer from %s" % missing_chips(record.value, record.high)
    elif state == "skipped" and record.detail == schema.DETAIL_INTERLOCK_OPEN:
        advice = "close the interlock loop, then run `lumenrig selftest RIG` again"
    if advice is not None:
        advice = advice.replace("lumenrig selftest RIG", "lumenrig selftest " + rig)
    return {"id": check.key, "check": record.check, "name": check.name, "state": state,
            "passed": passed, "value": value, "unit": check.unit,
            "limit": check.limit(record.low, record.high), "detail": detail,
            "advice": advice, "parts": list(parts), "scope": scope, "at": at,
            "channel": channel}


def result_dict(rig: str, board_id: int | None, message: Any, at: str) -> dict[str, Any]:
    """The rig's view of one SELF_TEST_RESULT (a SelfTestResult wire model)."""
    scope = SCOPES[message.scope] if message.scope < len(SCOPES) else str(message.scope)
    channel = message.channel
    checks = [check_dict(record, scope, at, rig, channel) for record in message.records]
    if message.fault:
        names = FAULT_NAMES
        fault = names[message.fault] if message.fault < len(names) else str(message.fault)
        checks.append({
            "id": "self_test", "check": 0, "name": "the self-test itself", "state": "fail",
            "passed": False, "value": None, "unit": "", "limit": "runs to its end",
            "detail": "stopped early by a %s fault after %d checks" % (fault,
                                                                       len(message.records)),
            "advice": "the outputs were made safe and the checks after it did not run: run "
                      "the self-test again; a software fault that repeats is a firmware bug "
                      "to report, an i2c one a bus that stopped answering",
            "parts": [], "scope": scope, "at": at, "channel": channel})
    return _summary(rig, board_text(board_id), scope, at, checks)


def _summary(rig: str, board: str | None, scope: str, at: str,
             checks: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [_failed_name(c) for c in checks if c["state"] == "fail"]
    return {"rig": rig, "board_id": board, "passed": not failed, "failed": failed,
            "scope": scope, "at": at, "checks": checks}


def _key(check: dict[str, Any]) -> tuple[int, int]:
    """(channel, check id): a check is kept per channel (a result from before channels
    were tested apart names none: channel 0's)."""
    return check.get("channel", 0), check["check"]


def _failed_name(check: dict[str, Any]) -> str:
    """A failed check as `failed` lists it: its id, "ch2/ina226_die" on a channel past 0."""
    channel = check.get("channel", 0)
    return "ch%d/%s" % (channel, check["id"]) if channel else check["id"]


def merged(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """new, plus the checks of previous (the same board's) that new did not repeat on
    their channel."""
    if previous is None or previous.get("board_id") != new["board_id"]:
        return new
    repeated = {_key(c) for c in new["checks"] if c["check"]}
    kept = [c for c in previous["checks"] if c["check"] and _key(c) not in repeated]
    checks = sorted(new["checks"] + kept,
                    key=lambda c: (c.get("channel", 0), c["check"] == 0, c["check"]))
    scope = "full" if "full" in {c["scope"] for c in checks} else new["scope"]
    return _summary(new["rig"], new["board_id"], scope, new["at"], checks)


def refusal(selftest: dict[str, Any] | None, parts: tuple[str, ...], what: str,
            board_id: int | None, channel: int = 0) -> str | None:
    """Why a run needing parts cannot start on this board's channel, from its last
    self-test, or None (no failed check of a needed part there or of the rig's own, or no
    self-test of this board yet)."""
    if selftest is None or selftest.get("board_id") != board_text(board_id):
        return None
    wanted = tuple(parts) + ANY_RUN_PARTS
    for check in selftest["checks"]:
        if check["state"] != "fail":
            continue
        rig_wide = any(part in RIG_PARTS for part in check["parts"])
        if check.get("channel", 0) != channel and not rig_wide:
            continue
        needed = [part for part in check["parts"] if part in wanted]
        if check["check"] == 0 or needed:
            unit = " " + check["unit"] if check["unit"] else ""
            found = ("%s%s" % (check["value"], unit) if check["value"] is not None
                     else check["detail"])
            if check["value"] is not None and check["detail"]:
                found += " (%s)" % check["detail"]
            where = " on channel %d" % check["channel"] if check.get("channel") else ""
            return ("%s: its last self-test (%s, %s) failed %s%s: %s, limit %s%s. %s"
                    % (what, check["scope"], check["at"], check["name"], where, found,
                       check["limit"], unit, _sentence(check["advice"])))
    return None


def _sentence(text: str | None) -> str:
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
