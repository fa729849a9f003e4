// How the runner starts programs: `isthmus` itself (compiled JS, or TypeScript through tsx when running from source)
// and workload commands, where `node some/app.ts` runs the compiled `dist/…/app.js` when it is up to date, else tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Program {
  file: string;
  args: string[];
}

/** tsx's ESM loader as an absolute URL, so `--import` works whatever the child's working directory. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

/** The `isthmus` CLI as run by this process: dist/cli/main.js when compiled, src/cli/main.ts through tsx otherwise. */
export function isthmusProgram(execPath: string = process.execPath): Program {
  const self = fileURLToPath(import.meta.url);
  const main = fileURLToPath(new URL(self.endsWith('.ts') ? '../cli/main.ts' : '../cli/main.js', import.meta.url));
  return main.endsWith('.ts') ? { file: execPath, args: ['--import', tsxLoader(), main] } : { file: execPath, args: [main] };
}

function packageRoot(from: string): string | undefined {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Newest mtime of the .ts files under `dir` (a few levels deep): what the compiled entry must not be older than. */
function newestSource(dir: string, depth = 3): number {
  let newest = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory() && depth > 0) newest = Math.max(newest, newestSource(p, depth - 1));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `<pkg>/dist/<path>.js` for `<pkg>/<path>.ts` when it exists and is at least as new as every TypeScript file in the
 * script's directory (so an edited module is not silently run from stale output).
 */
export function compiledFor(script: string): string | undefined {
  const root = packageRoot(dirname(script));
  if (!root) return undefined;
  const rel = relative(root, script);
  if (rel.startsWith('..') || rel.startsWith(`dist${sep}`)) return undefined;
  const candidates = [join(root, 'dist', rel.replace(/\.ts$/, '.js'))];
  // tsconfig.build.json compiles src/ with rootDir src: src/cli/main.ts → dist/cli/main.js.
  if (rel.startsWith(`src${sep}`)) candidates.push(join(root, 'dist', rel.slice(4).replace(/\.ts$/, '.js')));
  const source = Math.max(newestSource(dirname(script)), statSync(script, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  for (const c of candidates) {
    const st = statSync(c, { throwIfNoEntry: false });
    if (st && st.mtimeMs >= source) return c;
  }
  return undefined;
}

/**
 * A workload command → the program to spawn. `node` means this Node.js; a `.ts` script given to node runs compiled
 * when an up-to-date `dist/` copy exists (npm run build), else through tsx. Anything else runs as written (PATH lookup).
 */
export function workloadProgram(argv: readonly string[], cwd: string, execPath: string = process.execPath): Program {
  const [cmd = '', ...rest] = argv;
  if (cmd !== 'node') return { file: cmd, args: [...rest] };
  const scriptAt = rest.findIndex((a) => !a.startsWith('-'));
  const script = scriptAt >= 0 ? rest[scriptAt] : undefined;
  if (script === undefined || !script.endsWith('.ts')) return { file: execPath, args: [...rest] };
  const abs = resolve(cwd, script);
  const compiled = compiledFor(abs);
  const before = rest.slice(0, scriptAt);
  const after = rest.slice(scriptAt + 1);
  if (compiled) return { file: execPath, args: [...before, compiled, ...after] };
  return { file: execPath, args: [...before, '--import', tsxLoader(), abs, ...after] };
}
