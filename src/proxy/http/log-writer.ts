// Buffered access-log sinks: lines are appended to a buffer and written once per event-loop turn (or when large),
// never with a synchronous write per line. One writer per path, shared by every handler that logs there.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface LineSink {
  write(line: string): void;
}

const FLUSH_BYTES = 64 * 1024;

export class BufferedLogWriter implements LineSink {
  private buf = '';
  private scheduled = false;

  constructor(private readonly out: Pick<Writable, 'write'>) {}

  write(line: string): void {
    this.buf += line;
    if (this.buf.length >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf === '') return;
    const b = this.buf;
    this.buf = '';
    this.out.write(b);
  }
}

function flushWriter(w: BufferedLogWriter): void {
  w.flush();
}

/** Opens (and caches) one buffered writer per log path: /dev/stdout, /dev/stderr or an append-mode file. */
export class AccessLogSinks {
  private readonly writers = new Map<string, BufferedLogWriter>();
  private readonly files: Writable[] = [];

  constructor(private readonly open: (path: string) => Pick<Writable, 'write'> = defaultOpen) {}

  get(path: string): LineSink {
    let w = this.writers.get(path);
    if (!w) {
      const out = path === '/dev/stdout' ? process.stdout : path === '/dev/stderr' ? process.stderr : this.track(this.open(path));
      this.writers.set(path, (w = new BufferedLogWriter(out)));
    }
    return w;
  }

  /** Flushes pending lines and closes files this registry opened. */
  close(): void {
    for (const w of this.writers.values()) w.flush();
    for (const f of this.files) f.end();
    this.writers.clear();
    this.files.length = 0;
  }

  private track(out: Pick<Writable, 'write'>): Pick<Writable, 'write'> {
    if ('end' in out && typeof out.end === 'function') this.files.push(out as Writable);
    return out;
  }
}

function defaultOpen(path: string): Writable {
  const s = createWriteStream(path, { flags: 'a' });
  // A log file that cannot be written must not take the proxy down; lines are dropped.
  s.on('error', () => {});
  return s;
}
