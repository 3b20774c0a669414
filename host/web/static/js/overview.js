// The overview: every rig's state and link health, the start-a-run form, the runs list.

import { api } from "./api.js";
import { DASH, duration, el, fill, isNum, num, si, when } from "./dom.js";
import { renderRunForm } from "./runform.js";

const RIGS_MS = 2000;
const RUNS_MS = 3000;

function badge(text, tone) {
  return el("span", { class: `badge ${tone}` }, text);
}

function onOff(value, on = "on", off = "off", bad = false) {
  if (value === undefined || value === null) return badge("?", "muted");
  return value ? badge(on, bad ? "bad" : "good") : badge(off, bad ? "good" : "muted");
}

/** The latest reading in physical units: the device's raw last sample (names carry units). */
function reading(rig) {
  const raw = (rig.device || {}).last_sample;
  if (raw) {
    return { voltage_v: raw.voltage_mv / 1e3, current_a: raw.current_na * 1e-9,
      temperature_c: raw.temperature_cc / 100, humidity_pct: raw.humidity_cpct / 100,
      age_s: rig.device.last_sample_age_s };
  }
  return rig.last_sample || {};
}

function dl(pairs) {
  return el("dl", {}, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function rigCard(rig) {
  const device = rig.device || {};
  const flags = device.flags || {};
  const link = rig.link || {};
  const recovery = rig.recovery || {};
  const r = reading(rig);
  const interlock = flags.interlock_ok === undefined ? badge("?", "muted")
    : flags.interlock_ok ? badge("closed (safe)", "good") : badge("OPEN", "bad");
  const running = rig.active_run !== null && rig.active_run !== undefined;
  return el("article", { class: "card rig", dataset: { rig: rig.name } },
    el("header", {},
      el("h3", {}, rig.name),
      rig.connected ? badge("connected", "good") : badge("not connected", "bad"),
      running ? el("a", { class: "badge run", href: `#/runs/${rig.active_run}` },
        `running run ${rig.active_run}`) : badge(device.state || "unknown", "muted")),
    el("p", { class: "spec" }, rig.spec, rig.simulator ? ` (simulated ${rig.simulator.preset}, ×${rig.simulator.accel})` : "",
      device.firmware_version ? ` · firmware ${device.firmware_version}` : "",
      !rig.connected && device.detail ? ` · ${device.detail}` : ""),
    dl([
      ["state", `${device.state || DASH}${device.mode && device.mode !== "none" ? ` (${device.mode})` : ""}`],
      ["output", el("span", {}, onOff(flags.output_on), " ", si(r.voltage_v, "V"), " · ", si(r.current_a, "A"))],
      ["shutter", onOff(flags.shutter_open, "open", "closed")],
      ["laser", onOff(flags.laser_on, "on", "off", true)],
      ["interlock", interlock],
      ["ambient", `${num(r.temperature_c)} °C · ${num(r.humidity_pct)} %RH`],
      ["last sample", isNum(r.age_s) ? `${duration(r.age_s)} ago` : DASH],
    ]),
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

/** The one-line result of a finished run: from a list item's figures or a run's summary. */
export function headline(run) {
  const s = run.figures || run.summary || {};
  if (run.kind === "lifetime") {
    if (isNum(s.t50_s)) return `T50 ${duration(s.t50_s)}`;
    if (isNum(s.t50_fit_s)) return `T50 ≈ ${duration(s.t50_fit_s)} (fit)`;
  } else if (run.kind === "photostability" && isNum(s.final_fraction)) {
    return `PL ends at ${num(s.final_fraction)} (min ${num(s.min_fraction)})`;
  } else if (run.kind === "jvl" && isNum(s.ce_max_cd_a)) {
    return `CE max ${num(s.ce_max_cd_a)} cd/A${isNum(s.eqe_max_pct) ? ` · EQE max ${num(s.eqe_max_pct)} %` : ""}`;
  }
  return run.error || "";
}

export function stateBadge(state) {
  const tone = { completed: "good", running: "run", queued: "muted", interrupted: "warn",
    aborted: "warn", failed: "bad" };
  return badge(state, tone[state] || "muted");
}

function runsTable(runs) {
  if (!runs.length) return el("p", { class: "muted" }, "No runs yet: start one above.");
  return el("div", { class: "table-wrap" }, el("table", { class: "runs" },
    el("thead", {}, el("tr", {}, ["run", "kind", "rig", "state", "progress", "started", "result"]
      .map((h) => el("th", {}, h)))),
    el("tbody", {}, runs.map((run) => el("tr", { dataset: { run: run.id } },
      el("td", {}, el("a", { href: `#/runs/${run.id}` }, `#${run.id}`)),
      el("td", {}, run.kind), el("td", {}, run.rig), el("td", {}, stateBadge(run.state)),
      el("td", {}, `${Math.round((run.progress || 0) * 100)} %`),
      el("td", {}, when(run.started_at || run.created_at)),
      el("td", {}, headline(run)))))));
}

/** Render the overview into `root`; returns a function that stops its polling. */
export function showOverview(root, { navigate }) {
  const rigsBox = el("div", { class: "cards", id: "rigs" }, el("p", { class: "muted" }, "loading rigs…"));
  const formBox = el("div", { id: "run-form-box" }, el("p", { class: "muted" }, "loading the form…"));
  const runsBox = el("div", { id: "runs" }, el("p", { class: "muted" }, "loading runs…"));
  fill(root,
    el("section", {}, el("h2", {}, "Rigs"), rigsBox),
    el("section", { class: "card", id: "new-run" }, el("h2", {}, "Start a run"), formBox),
    el("section", {}, el("h2", {}, "Runs"), runsBox));
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
      fill(rigsBox, rigs.length ? rigs.map(rigCard) : el("p", { class: "muted" }, "This service serves no rigs."));
      return rigs;
    } catch (e) {
      fill(rigsBox, el("p", { class: "form-error" }, `rigs: ${e.message}`));
      return [];
    }
  };
  const loadRuns = async () => {
    try {
      fill(runsBox, runsTable((await api("/api/runs?limit=50")).runs));
    } catch (e) {
      fill(runsBox, el("p", { class: "form-error" }, `runs: ${e.message}`));
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
  every(RUNS_MS, loadRuns);
  return () => {
    stopped = true;
    timers.forEach(clearTimeout);
  };
}
