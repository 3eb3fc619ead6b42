import { Transform } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';

/** Counts bytes as they pass; updates a bar on the terminal when there is one. */
export interface Progress {
  /** A pass-through stream that counts what flows through it. */
  readonly meter: Transform;
  stop(): void;
}

/** A progress bar on stderr with size, rate and ETA: only when stderr is a terminal and not --quiet. */
export function progress(stderr: NodeJS.WritableStream & { isTTY?: boolean }, total: number | null, label: string, enabled: boolean): Progress {
  const show = enabled && stderr.isTTY === true;
  const started = Date.now();
  let done = 0;
  const bar = show
    ? new SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {done}/{size} | {rate} | ETA {eta_formatted}`,
          stream: stderr, hideCursor: true, barsize: 24, etaBuffer: 40, fps: 8,
        },
        Presets.shades_classic,
      )
    : null;
  const payload = () => ({ done: humanBytes(done), size: total === null ? '?' : humanBytes(total), rate: `${humanBytes(done / Math.max(0.001, (Date.now() - started) / 1000))}/s` });
  bar?.start(total ?? 0, 0, payload());
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      bar?.update(total === null ? 0 : done, payload());
      callback(null, chunk);
    },
  });
  let stopped = false;
  return {
    meter,
    stop() {
      if (stopped) return;
      stopped = true;
      if (bar) {
        bar.update(total ?? done, payload());
        bar.stop();
      }
    },
  };
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
