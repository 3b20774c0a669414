// When a run started and ended, how long it took, and when a running one should end as a
// local time of day.

import { duration, isNum, when } from "./dom.js";

function ms(iso) {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? null : t;
}

/** Local time of day, to the second. */
export function clock(msSinceEpoch) {
  return new Date(msSinceEpoch).toLocaleTimeString();
}

/**
 * The wall-clock time a running run should end: now plus its ETA (device seconds) at the
 * pace its device clock has kept against the wall since it started (1 on a real rig, the
 * factor of a simulated rig run faster). Null without an ETA.
 */
export function endsAtMs(etaS, deviceS, startedIso, nowMs) {
  if (!isNum(etaS)) return null;
  const wallS = (nowMs - (ms(startedIso) ?? nowMs)) / 1000;
  const pace = isNum(deviceS) && deviceS > 0 && wallS > 0 ? deviceS / wallS : 1;
  return nowMs + (etaS / pace) * 1000;
}

/** "started … · ended … · took …" (or "running for …"). */
export function timesLine(run, nowMs = Date.now()) {
  const started = ms(run.started_at);
  const ended = ms(run.finished_at);
  const parts = [started === null ? `created ${when(run.created_at)}` : `started ${when(run.started_at)}`];
  if (ended !== null) parts.push(`ended ${when(run.finished_at)}`);
  if (started !== null) {
    const tookS = ((ended ?? nowMs) - started) / 1000;
    parts.push(ended !== null ? `took ${duration(tookS)}` : `running for ${duration(tookS)}`);
  }
  return parts.join(" · ");
}
