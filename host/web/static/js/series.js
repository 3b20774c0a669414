// A run's plotted samples: downsampled history from GET /samples plus the live tail, bounded.
//
// The history is at most `max_points` rows (LTTB on the server). Live rows append to the tail
// until it holds `tailLimit` rows; then the owner fetches the history again, which absorbs the
// tail. So the page holds at most max_points + tailLimit points however long the run is.

export const HISTORY_POINTS = 2000;
export const TAIL_LIMIT = 2000;

function emptyColumns(names) {
  return Object.fromEntries(names.map((name) => [name, []]));
}

export class RunSeries {
  constructor(tailLimit = TAIL_LIMIT) {
    this.tailLimit = tailLimit;
    this.names = [];
    this.history = {};
    this.tail = {};
    this.historySeq = -1; // highest seq in the history
    this.tailSeq = -1; // highest seq in the tail
    this.total = 0; // samples the run has (history's total plus live rows since)
    this.stale = false; // rows were missed or came out of order: the history has them
  }

  /** Replace the history with a GET /samples answer ({columns, rows, total}). */
  setHistory({ columns, rows, total }) {
    this.names = columns.slice();
    this.history = emptyColumns(columns);
    for (const row of rows) columns.forEach((name, i) => this.history[name].push(row[i]));
    const seqs = this.history.seq;
    this.historySeq = seqs.length ? seqs[seqs.length - 1] : -1;
    // Keep live rows the history does not have yet.
    const kept = emptyColumns(this.names);
    const tailSeqs = this.tail.seq || [];
    for (let i = 0; i < tailSeqs.length; i += 1) {
      if (tailSeqs[i] <= this.historySeq) continue;
      for (const name of this.names) kept[name].push((this.tail[name] || [])[i] ?? null);
    }
    this.tail = kept;
    this.tailSeq = kept.seq.length ? kept.seq[kept.seq.length - 1] : -1;
    this.total = (total ?? rows.length) + kept.seq.length;
    this.stale = false;
  }

  /**
   * Append live rows ({columns, rows}); rows at or behind what is held are skipped (a resend
   * fills them into the stored history instead). Returns true when the history should be
   * fetched again: the tail is full, or rows were skipped over or came out of order.
   */
  append({ columns, rows }) {
    if (!this.names.length) this.names = columns.slice();
    const index = Object.fromEntries(columns.map((name, i) => [name, i]));
    for (const name of this.names) if (!this.tail[name]) this.tail[name] = [];
    const seqAt = index.seq;
    for (const row of rows) {
      const seq = row[seqAt];
      const held = Math.max(this.historySeq, this.tailSeq);
      if (seq <= held) {
        if (seq > this.historySeq) this.stale = true;
        continue;
      }
      if (seq > held + 1) this.stale = true;
      for (const name of this.names) this.tail[name].push(name in index ? row[index[name]] : null);
      this.tailSeq = seq;
      this.total += 1;
    }
    return this.needsHistory();
  }

  needsHistory() {
    return this.stale || (this.tail.seq || []).length >= this.tailLimit;
  }

  /** Number of points held (and plotted). */
  get length() {
    return (this.history.seq || []).length + (this.tail.seq || []).length;
  }

  /** One column, history then tail (nulls where a row has no value). */
  column(name) {
    return (this.history[name] || []).concat(this.tail[name] || []);
  }

  /** The last value of a column, or null. */
  last(name) {
    const tail = this.tail[name] || [];
    if (tail.length) return tail[tail.length - 1];
    const history = this.history[name] || [];
    return history.length ? history[history.length - 1] : null;
  }
}
