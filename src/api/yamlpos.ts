// Maps a field path (`spec.http[0].route[1].weight`) back to its line in the YAML source, for error messages.
import { isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

const TOKEN = /([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;

/** Splits a path built by joinPath/sub into map keys and list indexes. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(TOKEN)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

/**
 * The 1-based line of the deepest node on `path` that exists under `root` (a missing field resolves to its parent).
 * Returns undefined when not even the first segment exists.
 */
export function lineOf(root: Node | null | undefined, path: string, lc: LineCounter): number | undefined {
  let node: unknown = root;
  let offset: number | undefined = root?.range?.[0];
  for (const seg of parsePath(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      node = item;
      offset = (item as Node | null)?.range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lc.linePos(offset).line;
}
