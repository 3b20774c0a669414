// The overview: every rig's state and link health, the start-a-run form, the runs list
// (runstable.js).

import { api } from "./api.js";
import { DASH, duration, el, fill, isNum, num, si } from "./dom.js";
import { badge } from "./runfacts.js";
import { renderRunForm } from "./runform.js";
import { runsList } from "./runstable.js";
import { selftestBlock } from "./selftestcard.js";
import { sparkline } from "./sparkline.js";

const RIGS_MS = 2000;
const RUNS_MS = 3000;
// A reading older than this is shown greyed, with its age: the device samples a run at least
// every few seconds, and the service asks an idle rig for its ambient every 5 s.
const READING_STALE_S = 30;
const AMBIENT_STALE_S = 20;

function onOff(value, on = "on", off = "off", bad = false) {
  if (value === undefined || value === null) return badge("?", "muted");
  return value ? badge(on, bad ? "bad" : "good") : badge(off, bad ? "good" : "muted");
}

/** The output's latest reading in physical units, from the device's raw last sample. */
function reading(rig) {
  const raw = (rig.device || {}).last_sample;
  if (!raw) return {};
  return { voltage_v: raw.voltage_mv / 1e3, current_a: raw.current_na * 1e-9,
    age_s: rig.device.last_sample_age_s };
}

/** value, greyed and marked with its age when stale (why: say what it is, not just that). */
function aged(value, ageS, stale, why) {
  const age = isNum(ageS) ? ` (${duration(ageS)} ago)` : "";
  return el("span", { class: stale ? "reading stale" : "reading", title: stale ? why + age : "" },
    value, stale ? age : "");
}

function ambientText(device) {
  const ambient = device.ambient;
  if (!ambient) return (device.capabilities || []).includes("ambient") ? DASH : "no sensor";
  return aged(`${num(ambient.temperature_c)} °C · ${num(ambient.humidity_pct)} %RH`,
    ambient.age_s, !(ambient.age_s < AMBIENT_STALE_S), "not read lately");
}

/** A channel's last stored reading: "10.0 V · 3.2 mA · 48.1 cd/m²" (the last run's). */
function channelReading(sample) {
  if (!sample) return "";
  const light = isNum(sample.luminance_cd_m2) ? ` · ${num(sample.luminance_cd_m2)} cd/m²` : "";
  return `${si(sample.voltage_v, "V")} · ${si(sample.current_a, "A")}${light}`;
}

/** The T-values a run has passed, highest fraction first: "T95 61 s · T80 130 s". */
function tValuesText(tValues) {
  const passed = Object.entries(tValues || {})
    .map(([key, t]) => [Number((/^t(\d+)_s$/.exec(key) || [])[1]), t])
    .filter(([fraction, t]) => isNum(fraction) && isNum(t))
    .sort((a, b) => b[0] - a[0]);
  return passed.map(([fraction, t]) => `T${fraction} ${duration(t)}`).join(" · ");
}

/** One channel's cell: "ch0 running" and its run (a link), the device under test, the
 * run's L/L0 (PL/PL0) so far with the T-values it has passed, the last stored reading. */
function channelCell(c) {
  const trend = c.trend || [];
  const tValues = tValuesText(c.t_values);
  return el("div", { class: "channel", title: `channel ${c.channel}: ${c.can.join(", ")}` },
    el("div", { class: "channel-head" }, `ch${c.channel} ${c.state}`,
      isNum(c.run) ? el("a", { class: "channel-run", href: `#/runs/${c.run}` }, ` run ${c.run}`)
        : ""),
    c.device ? el("div", { class: "channel-device" }, c.device) : null,
    trend.length ? sparkline(trend, "L/L0 (PL/PL0 of a film) on time under stress; the faint "
      + "line is 0.5", "channel-spark") : null,
    tValues ? el("div", { class: "channel-tvalues" }, tValues) : null,
    c.last_sample ? el("div", { class: "channel-reading" }, channelReading(c.last_sample))
      : null);
}

/** The board's channels (pixels) as its last heartbeat told, a grid of cells. */
function channelsGrid(device) {
  const channels = device.channels || [];
  return el("div", { class: "channels-box" }, el("span", { class: "channels-label" }, "channels"),
    channels.length ? el("div", { class: "channels" }, channels.map(channelCell)) : ` ${DASH}`);
}

function dl(pairs) {
  return el("dl", {}, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function rigCard(rig, redraw) {
  const device = rig.device || {};
  const flags = device.flags || {};
  const link = rig.link || {};
  const recovery = rig.recovery || {};
  const r = reading(rig);
  const interlock = flags.interlock_ok === undefined ? badge("?", "muted")
    : flags.interlock_ok ? badge("closed (safe)", "good") : badge("OPEN", "bad");
  const running = rig.active_run !== null && rig.active_run !== undefined;
  const outputStale = !running || !(r.age_s < READING_STALE_S);
  return el("article", { class: "card rig", dataset: { rig: rig.name } },
    el("header", {},
      el("h3", {}, rig.name),
      rig.remote ? badge(`site ${rig.site}${rig.online ? "" : " offline"}`,
        rig.online ? "muted" : "bad") : null,
      rig.connected ? badge("connected", "good") : badge("not connected", "bad"),
      running ? el("a", { class: "badge run", href: `#/runs/${rig.active_run}` },
        `running run ${rig.active_run}`) : badge(device.state || "unknown", "muted"),
      Object.keys(rig.active_runs || {}).length > 1
        ? badge(`${Object.keys(rig.active_runs).length} channels running`, "good") : null),
    el("p", { class: "spec" }, rig.spec, rig.simulator ? ` (simulated ${rig.simulator.preset}, ×${rig.simulator.accel ?? "max"})` : "",
      device.firmware_version ? ` · firmware ${device.firmware_version}` : "",
      !rig.connected && device.detail ? ` · ${device.detail}` : ""),
    dl([
      ["state", `${device.state || DASH}${device.mode && device.mode !== "none" ? ` (${device.mode})` : ""}`],
      ["output", el("span", {}, onOff(flags.output_on), " ",
        aged(`${si(r.voltage_v, "V")} · ${si(r.current_a, "A")}`, r.age_s, outputStale,
          running ? "no sample lately" : "the last run's last reading"))],
      ["shutter", onOff(flags.shutter_open, "open", "closed")],
      ["laser", onOff(flags.laser_on, "on", "off", true)],
      ["interlock", interlock],
      ["ambient", ambientText(device)],
      ["last sample", isNum(r.age_s) ? `${duration(r.age_s)} ago` : DASH],
    ]),
    channelsGrid(device),
    rig.remote ? null : selftestBlock(rig, running, redraw),
    el("details", { class: "link", open: true },
      el("summary", {}, "link health"),
      dl([
        ["frames", num(link.frames, 9)],
        ["CRC errors", num(link.crc_errors, 9)],
        ["framing errors", num(link.framing_errors, 9)],
        ["gaps", num(link.gaps_detected, 9)],
        ["missing / lost", `${num(recovery.samples_missing, 9)} / ${num(recovery.samples_lost, 9)}`],
        ["resends", `${num(recovery.resend_requests, 9)} asked · ${num(link.samples_resent, 9)} samples`],
        ["retries", num(link.retries, 9)],
        ["reconnects", num(link.reconnects, 9)],
        ["last frame", isNum(link.last_frame_age_s) ? `${duration(link.last_frame_age_s)} ago` : DASH],
      ])));
}

/** Render the overview into `root`; returns a function that stops its polling. */
export function showOverview(root, { navigate }) {
  const rigsBox = el("div", { class: "cards", id: "rigs" }, el("p", { class: "muted" }, "loading rigs…"));
  const formBox = el("div", { id: "run-form-box" }, el("p", { class: "muted" }, "loading the form…"));
  const runs = runsList({ navigate });
  fill(root,
    el("section", {}, el("h2", {}, "Rigs"), rigsBox),
    el("section", { class: "card", id: "new-run" }, el("h2", {}, "Start a run"), formBox),
    el("section", {}, el("h2", {}, "Runs"), runs.node));
  let stopped = false;
  const timers = [];
  const every = (ms, job) => {
    const tick = async () => {
      if (stopped) return;
      await job();
      if (!stopped) timers.push(setTimeout(tick, ms));
    };
    return tick();
  };
  const loadRigs = async () => {
    try {
      const rigs = await api("/api/rigs");
      fill(rigsBox, rigs.length ? rigs.map((rig) => rigCard(rig, loadRigs))
        : el("p", { class: "muted" }, "This service serves no rigs."));
      return rigs;
    } catch (e) {
      fill(rigsBox, el("p", { class: "form-error" }, `rigs: ${e.message}`));
      return [];
    }
  };
  (async () => {
    const rigs = await loadRigs();
    try {
      await renderRunForm(formBox, rigs.map((r) => r.name), (run) => navigate(`#/runs/${run.id}`));
    } catch (e) {
      fill(formBox, el("p", { class: "form-error" }, `the form needs /openapi.json: ${e.message}`));
    }
    timers.push(setTimeout(() => every(RIGS_MS, loadRigs), RIGS_MS));
  })();
  every(RUNS_MS, runs.load);
  return () => {
    stopped = true;
    timers.forEach(clearTimeout);
  };
}
