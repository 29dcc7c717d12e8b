// --save: the recommendation per op into the settings file's per-op sections (run.ops.<op>), merged
// with whatever the file holds, written atomically (a temp file renamed into place).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { usage } from '../errors.js';
import { formatSize } from './recommend.js';
import type { Recommendation } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `parent[key]` when it holds an object; otherwise a new empty object put there in its place. */
function objectAt(parent: Json, key: string): Json {
  const found = parent[key];
  if (isObject(found)) return found;
  const made: Json = {};
  parent[key] = made;
  return made;
}

/** The per-op settings saved, by op name; the first recommendation of an op wins (ops swept twice with other options). */
export function savedSettings(
  recs: Recommendation[],
): Map<string, { workers: number; 'chunk-size': string; backend: string }> {
  const out = new Map<string, { workers: number; 'chunk-size': string; backend: string }>();
  for (const r of recs) {
    const op = r.op.split(':')[0]!.split(',')[0]!;
    if (!out.has(op)) out.set(op, { workers: r.workers, 'chunk-size': formatSize(r.chunk_size), backend: r.backend });
  }
  return out;
}

export function saveRecommendations(path: string, recs: Recommendation[]): string[] {
  let doc: Json = {};
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isObject(parsed)) throw usage(`--save: ${JSON.stringify(path)} does not hold a JSON object`);
    doc = parsed;
  }
  const ops = objectAt(objectAt(doc, 'run'), 'ops');
  const saved: string[] = [];
  for (const [op, settings] of savedSettings(recs)) {
    ops[op] = { ...(isObject(ops[op]) ? ops[op] : {}), ...settings };
    saved.push(
      `run.ops.${op}: --workers ${settings.workers} --chunk-size ${settings['chunk-size']} --backend ${settings.backend}`,
    );
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, path);
  return saved;
}
