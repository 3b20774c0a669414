"""A self-test result as a person reads it, the one a rig keeps, and the runs it refuses.

A rig keeps its board's latest result of every check: a quick test (at each handshake)
replaces the checks it repeats and keeps the full test's others (the shutter, the dark
current), so a shutter found broken stays refused until a full test finds it working.
"""

from typing import Any

from host.runkey import board_text
from host.selftest.checks import DETAILS, check_for, missing_chips, missing_parts
from protocol import schema
from protocol.names import CHECK_STATE_NAMES, FAULT_NAMES

SCOPES = ("quick", "full")


def _state_name(state: int) -> str:
    names = CHECK_STATE_NAMES
    return names[state] if 0 <= state < len(names) else "unknown (%d)" % state


def check_dict(record: Any, scope: str, at: str, rig: str = "RIG") -> dict[str, Any]:
    """One record of SELF_TEST_RESULT in words: name, state, value, unit, limit, advice."""
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
            "advice": advice, "parts": list(parts), "scope": scope, "at": at}


def result_dict(rig: str, board_id: int | None, message: Any, at: str) -> dict[str, Any]:
    """The rig's view of one SELF_TEST_RESULT (a SelfTestResult wire model)."""
    scope = SCOPES[message.scope] if message.scope < len(SCOPES) else str(message.scope)
    checks = [check_dict(record, scope, at, rig) for record in message.records]
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
            "parts": [], "scope": scope, "at": at})
    return _summary(rig, board_text(board_id), scope, at, checks)


def _summary(rig: str, board: str | None, scope: str, at: str,
             checks: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [c["id"] for c in checks if c["state"] == "fail"]
    return {"rig": rig, "board_id": board, "passed": not failed, "failed": failed,
            "scope": scope, "at": at, "checks": checks}


def merged(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """new, plus the checks of previous (the same board's) that new did not repeat."""
    if previous is None or previous.get("board_id") != new["board_id"]:
        return new
    repeated = {c["check"] for c in new["checks"] if c["check"]}
    kept = [c for c in previous["checks"] if c["check"] and c["check"] not in repeated]
    checks = sorted(new["checks"] + kept, key=lambda c: (c["check"] == 0, c["check"]))
    scope = "full" if "full" in {c["scope"] for c in checks} else new["scope"]
    return _summary(new["rig"], new["board_id"], scope, new["at"], checks)


def refusal(selftest: dict[str, Any] | None, parts: tuple[str, ...], what: str,
            board_id: int | None) -> str | None:
    """Why a run needing parts cannot start on this board, from its last self-test, or
    None (no failed check of a needed part, or no self-test of this board yet)."""
    if selftest is None or selftest.get("board_id") != board_text(board_id):
        return None
    for check in selftest["checks"]:
        if check["state"] != "fail":
            continue
        needed = [part for part in check["parts"] if part in parts]
        if check["check"] == 0 or needed:
            unit = " " + check["unit"] if check["unit"] else ""
            found = ("%s%s" % (check["value"], unit) if check["value"] is not None
                     else check["detail"])
            if check["value"] is not None and check["detail"]:
                found += " (%s)" % check["detail"]
            return ("%s: its last self-test (%s, %s) failed %s: %s, limit %s%s. %s"
                    % (what, check["scope"], check["at"], check["name"], found,
                       check["limit"], unit, _sentence(check["advice"])))
    return None


def _sentence(text: str | None) -> str:
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
