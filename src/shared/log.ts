// Scoped structured logger: one JSON or text line per event, level filtered globally.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 100 };

export interface LogSink {
  write(line: string): void;
}

const state: { level: number; json: boolean; sink: LogSink } = {
  level: ORDER.info,
  json: false,
  sink: { write: (l) => process.stderr.write(l) },
};

export function configureLogging(opts: { level?: LogLevel; json?: boolean; sink?: LogSink }): void {
  if (opts.level) state.level = ORDER[opts.level];
  if (opts.json !== undefined) state.json = opts.json;
  if (opts.sink) state.sink = opts.sink;
}

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(ORDER, s);
}

export type Fields = Record<string, unknown>;

export class Logger {
  constructor(readonly scope: string) {}

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= state.level;
  }
  debug(msg: string, fields?: Fields): void {
    if (ORDER.debug >= state.level) this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    if (ORDER.info >= state.level) this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    if (ORDER.warn >= state.level) this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    if (ORDER.error >= state.level) this.emit('error', msg, fields);
  }

  private emit(level: LogLevel, msg: string, fields?: Fields): void {
    const time = new Date().toISOString();
    if (state.json) {
      state.sink.write(JSON.stringify({ time, level, scope: this.scope, msg, ...fields }) + '\n');
      return;
    }
    let line = `${time}\t${level}\t${this.scope}\t${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line += `\t${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    state.sink.write(line + '\n');
  }
}

export function logger(scope: string): Logger {
  return new Logger(scope);
}
