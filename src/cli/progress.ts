/**
 * Progress for long work, on stderr: a redrawn bar on a terminal, plain periodic lines otherwise (CI logs,
 * pipes). The library reports through `onProgress(done, total, extra)` callbacks; only the CLI prints.
 */
export interface ProgressBar {
  /** `done` of `total` items; `extra` is appended (e.g. "12.3k blocks/s"). */
  update(done: number, extra?: string): void;
  /** Final line. */
  finish(extra?: string): void;
}

export interface ProgressOptions {
  /** Unit shown in the rate, e.g. "pairs" or "images". */
  unit?: string;
  /** Plain-line interval when not a TTY, ms. Default 10 s. */
  lineIntervalMs?: number;
  /** Force or suppress the TTY bar (default: process.stderr.isTTY). Tests pass `false`. */
  tty?: boolean;
  /** Silence everything (--json modes keep stdout clean; the bar is on stderr anyway). */
  quiet?: boolean;
  stream?: NodeJS.WritableStream & { columns?: number };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean((process.stderr as NodeJS.WriteStream).isTTY);
  const unit = options.unit ?? 'items';
  const interval = options.lineIntervalMs ?? 10_000;
  const start = performance.now();
  let lastLine = 0;
  let lastDone = 0;

  const text = (done: number, extra?: string): string => {
    const elapsed = (performance.now() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    return `${label} ${done}/${total} (${pct}%) ${rate.toFixed(rate < 10 ? 2 : 1)} ${unit}/s ETA ${formatDuration(eta)}${extra ? ' ' + extra : ''}`;
  };

  return {
    update(done, extra) {
      lastDone = done;
      if (options.quiet) return;
      const now = performance.now();
      if (tty) {
        const width = Math.max(10, Math.min(30, ((stream as { columns?: number }).columns ?? 80) - 70));
        const filled = total > 0 ? Math.round((width * done) / total) : width;
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text(done, extra)}\x1b[K`);
      } else if (now - lastLine >= interval) {
        lastLine = now;
        stream.write(text(done, extra) + '\n');
      }
    },
    finish(extra) {
      if (options.quiet) return;
      const elapsed = (performance.now() - start) / 1000;
      const line = `${label} ${lastDone}/${total} done in ${formatDuration(elapsed)}${extra ? ' ' + extra : ''}`;
      stream.write(tty ? `\r${line}\x1b[K\n` : line + '\n');
    },
  };
}
