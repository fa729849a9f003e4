// Duration strings as Istio accepts them: protobuf JSON ("1.5s") and Go-style ("100ms", "1m30s", "1h").

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a duration into milliseconds (fractional allowed; negative when written with a leading '-').
 * Returns undefined when the text is not a duration. "0" alone is accepted (as Go does).
 */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  let i = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (s.slice(i) === '0') return 0;
  if (i === s.length) return undefined;
  let total = 0;
  GO_PART.lastIndex = i;
  while (GO_PART.lastIndex < s.length) {
    const m = GO_PART.exec(s);
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = UNIT_MS[m[2]];
    if (!Number.isFinite(n) || unit === undefined) return undefined;
    total += n * unit;
  }
  return sign * total;
}

/** Formats milliseconds as a protobuf JSON duration ("1.5s"). */
export function formatDuration(ms: number): string {
  return `${Number((ms / 1000).toFixed(9))}s`;
}
