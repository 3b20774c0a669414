// One run's data feed: history from GET /samples, then the live stream (SSE), or polling with
// the token where the service needs it for reads (EventSource cannot send a header).

import { api, readsNeedAuth } from "./api.js";
import { HISTORY_POINTS, RunSeries, TAIL_LIMIT } from "./series.js";

const FINISHED = ["completed", "aborted", "failed"];
const POLL_MS = 2000;
const REFETCH_PAUSE = 3;

export function isFinished(run) {
  return FINISHED.includes(run.state);
}

/**
 * Follows run `runId` and calls `onChange(what)` with what changed: "run", "series",
 * "progress", "events", "link". State lives on the instance: run, series, progress, live,
 * linkState ("stream", "polling", "reconnecting", "ended").
 */
export class RunFeed {
  constructor(runId, onChange) {
    this.runId = runId;
    this.onChange = onChange;
    this.series = new RunSeries();
    this.run = null;
    this.progress = {};
    this.live = { l0_cd_m2: null }; // what only the live messages tell (L0 while running)
    this.linkState = "loading";
    this.source = null;
    this.pollTimer = null;
    this.fetching = null;
    this.fetchAgain = false;
    this.stopped = false;
    this.historyFetches = 0;
    this.fetchedAt = 0;
    this.lastFetchMs = 0;
    this.urgent = false;
    this.wake = null;
  }

  async start() {
    this.run = await api(`/api/runs/${this.runId}`);
    this.onChange("run");
    if (isFinished(this.run)) {
      this.setLink("ended");
      return this.refetchHistory(true);
    }
    // Subscribe first, then read the history: rows stored meanwhile are in one or the other.
    if (readsNeedAuth()) this.startPolling();
    else this.openStream();
    return this.refetchHistory(true);
  }

  stop() {
    this.stopped = true;
    if (this.source) this.source.close();
    clearTimeout(this.pollTimer);
  }

  setLink(state) {
    this.linkState = state;
    this.onChange("link");
  }

  /**
   * Fetch the downsampled history again; one request at a time, one more if asked meanwhile.
   * On a long run the server reads every stored sample to downsample them, so a routine
   * refetch leaves it idle REFETCH_PAUSE times as long as the last one took; an urgent one
   * (first load, run ended) goes at once.
   */
  async refetchHistory(urgent = false) {
    if (urgent) {
      this.urgent = true;
      if (this.wake) this.wake();
    }
    if (this.fetching) {
      this.fetchAgain = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      do {
        const wait = this.urgent ? 0
          : this.lastFetchMs * REFETCH_PAUSE - (performance.now() - this.fetchedAt);
        if (wait > 0) {
          await new Promise((done) => {
            this.wake = done;
            setTimeout(done, wait);
          });
        }
        this.wake = null;
        this.urgent = false;
        this.fetchAgain = false;
        const began = performance.now();
        const payload = await api(`/api/runs/${this.runId}/samples?max_points=${HISTORY_POINTS}`);
        this.fetchedAt = performance.now();
        this.lastFetchMs = this.fetchedAt - began;
        if (this.stopped) return;
        this.series.setHistory(payload);
        this.historyFetches += 1;
        this.onChange("series");
      } while (this.fetchAgain && !this.stopped);
    })();
    try {
      await this.fetching;
    } finally {
      this.fetching = null;
    }
  }

  addRows(payload) {
    if (this.series.append(payload)) this.refetchHistory().catch(() => {});
    this.onChange("series");
  }

  setProgress(message) {
    this.progress = message;
    const lum = this.series.last("luminance_cd_m2");
    if (typeof message.l_over_l0 === "number" && message.l_over_l0 > 0 && typeof lum === "number") {
      this.live.l0_cd_m2 = lum / message.l_over_l0;
    }
    this.onChange("progress");
  }

  async finish(run) {
    this.run = { ...this.run, ...run };
    this.linkState = "ended";
    this.onChange("run"); // state and summary as the end message has them
    try {
      this.run = await api(`/api/runs/${this.runId}`); // with its events
      await this.refetchHistory(true);
    } finally {
      this.onChange("run");
    }
  }

  openStream() {
    const source = new EventSource(`/api/runs/${this.runId}/stream`);
    this.source = source;
    let first = true;
    const on = (kind, handler) => source.addEventListener(kind, (e) => {
      if (!this.stopped) handler(JSON.parse(e.data));
    });
    source.onopen = () => this.setLink("stream");
    source.onerror = () => {
      if (this.stopped || this.linkState === "ended") return;
      if (source.readyState === EventSource.CLOSED) {
        this.startPolling(); // the stream was refused: carry on by polling
      } else {
        this.setLink("reconnecting");
      }
    };
    on("run", (run) => {
      this.run = run;
      this.onChange("run");
      if (!first) this.refetchHistory().catch(() => {}); // reconnected: samples may be missed
      first = false;
    });
    on("samples", (payload) => this.addRows(payload));
    on("progress", (message) => this.setProgress(message));
    on("event", (event) => {
      this.run.events = (this.run.events || []).concat([event]);
      this.onChange("events");
    });
    on("state", (run) => {
      this.run = { ...this.run, ...run, events: this.run.events };
      this.onChange("run");
    });
    // Too far behind: the service closes the stream after this; the browser reconnects and
    // the `run` message that opens the new stream fetches the history again.
    on("resync", () => this.setLink("reconnecting"));
    on("end", (run) => {
      source.close();
      this.finish(run);
    });
  }

  /** Without a stream: the run and the samples since the last one held, every POLL_MS. */
  startPolling() {
    if (this.source) this.source.close();
    this.setLink("polling");
    const tick = async () => {
      if (this.stopped) return;
      try {
        const run = await api(`/api/runs/${this.runId}`);
        const lastT = this.series.last("t_s");
        const since = typeof lastT === "number" ? `&start_s=${lastT}` : "";
        this.addRows(await api(`/api/runs/${this.runId}/samples?max_points=${TAIL_LIMIT}${since}`));
        const t = this.series.last("t_s");
        const message = { progress: run.progress, t_s: t };
        if (run.progress > 0.02 && run.progress < 1 && t > 0) {
          message.eta_s = (t * (1 - run.progress)) / run.progress;
        }
        this.setProgress(message);
        if (isFinished(run)) return this.finish(run);
        this.run = { ...this.run, ...run };
        this.onChange("run");
      } catch (error) {
        this.setLink(`polling (${error.message})`);
      }
      this.pollTimer = setTimeout(tick, POLL_MS);
    };
    tick();
  }
}
