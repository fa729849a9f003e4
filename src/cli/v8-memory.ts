// V8 settings that trade start-up work for memory, set from inside the process so that `node bin/isthmus.js ...`
// gets them however it is started (no command-line flag to forget, no re-exec, no second process).
//
// - Young generation: start-up allocates many long-lived objects (modules, proto types, the first config), so V8 grows
//   the semi-spaces towards their 16 MB maximum and keeps them committed until its memory reducer runs ≈ 15 s later.
//   A growth factor of 1 keeps them at their initial 1 MB. (`--max-semi-space-size=1` on the command line would too,
//   but costs ≈ 10% CPU per request under load if it stays; and only the command-line form is clamped to ≥ 2.)
// - TurboFan and Sparkplug: compiling start-up code (decoding the first config) maps the compilers' code and zones and
//   keeps the compiled code.
// V8 reads these flags whenever it grows the new space or tiers a function up, so run-time changes take effect (the
// test next to this file checks the young generation part on the running Node.js).
//
// Measured on the bench config (proxy sidecar, concurrency 1, 2-core machine), idle RSS 1.5 s after `ready`: 70.4 MB
// without these settings, 59.7 MB with them; CPU µs per request under wrk unchanged (43 vs 42, medians of 4 runs),
// since the proxy releases them once ready. The `isthmus up`/`demo` runner keeps them (69 → 61 MB): it only supervises.
// A flag the user gave on the command line or in NODE_OPTIONS is left alone.
//
// Once ready, one compacting full GC (compactHeap) gives back what start-up left behind: decoding the first config
// and compiling start-up code leave old-space pages partly empty, which V8 returns to the system only once its memory
// reducer runs, ≈ 8-15 s later, or never while the proxy stays idle. Measured the same way: 62.1 → 60.0 MB RSS, for
// one GC of ≈ 10-20 ms, run synchronously as the proxy becomes ready (before it answers anything).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface Held {
  /** Flags that, given by the user, mean this setting is theirs (aliases, and flags that imply it). */
  flags: readonly string[];
  hold: string;
  /** V8's default (flag-definitions.h), restored on release. */
  release: string;
}

const SETTINGS: readonly Held[] = [
  { flags: ['semi-space-growth-factor'], hold: '--semi-space-growth-factor=1', release: '--semi-space-growth-factor=2' },
  { flags: ['turbofan', 'opt', 'max-opt', 'jitless'], hold: '--no-turbofan', release: '--turbofan' },
  { flags: ['sparkplug', 'max-opt', 'jitless'], hold: '--no-sparkplug', release: '--sparkplug' },
];

let held: readonly Held[] = [];

/** True when the user set `flag` (either spelling: dashes or underscores, with or without `no-`). */
export function userSet(flag: string, argv: readonly string[]): boolean {
  const norm = (s: string): string => s.replaceAll('_', '-');
  const f = norm(flag);
  return argv.some((a) => {
    const n = norm(a.split('=')[0] ?? '');
    return n === `--${f}` || n === `--no-${f}`;
  });
}

/** Start-up settings (call before the heavy modules load). */
export function holdV8ForStartup(argv: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]): void {
  held = SETTINGS.filter((s) => !s.flags.some((f) => userSet(f, argv)));
  for (const s of held) setFlagsFromString(s.hold);
}

/** V8's defaults again (a proxy once ready: load wants larger semi-spaces and optimized code), then compactHeap. */
export function releaseV8AfterStartup(): void {
  for (const s of held) setFlagsFromString(s.release);
  held = [];
  compactHeap();
}

/**
 * One full GC that also compacts (moves live objects out of sparse pages, so that the emptied pages go back to the
 * system). V8 has no API for it in Node.js other than its `gc` function: exposed for a new context only (the flag is
 * read when a context is created), never on this process's global object. Skipped when the user set either flag.
 */
export function compactHeap(argv: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]): boolean {
  if (userSet('compact-on-every-full-gc', argv)) return false;
  const exposed = userSet('expose-gc', argv);
  if (!exposed) setFlagsFromString('--expose-gc');
  let gc: unknown;
  try {
    gc = runInNewContext('typeof gc === "function" ? gc : undefined');
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') return false;
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    (gc as () => void)();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return true;
}

