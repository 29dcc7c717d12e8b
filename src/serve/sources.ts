// The manifests `bigproc serve` shows: each opened once through openStore (the same stores every other
// command reads), with a label that names it without its credentials, and the runs in it cached as
// RunManifest objects (a directory store keeps a watcher per object it hands out, so one per run).
import { basename, resolve } from 'node:path';
import { openStore } from '../manifest/open.js';
import type { ManifestStore, RunDescriptor, RunManifest } from '../manifest/types.js';
import { redact } from '../redact.js';

/** A run as the API names it: `id` is the run id, prefixed with its manifest's number when several are served. */
export interface RunRef {
  id: string;
  runId: string;
  source: Source;
  run: RunManifest;
}

export class Source {
  private readonly cache = new Map<string, RunManifest>();

  constructor(
    readonly index: number,
    readonly label: string,
    readonly store: ManifestStore,
    private readonly prefixed: boolean,
  ) {}

  idOf(runId: string): string {
    return this.prefixed ? `${this.index}~${runId}` : runId;
  }

  run(runId: string): RunManifest {
    let r = this.cache.get(runId);
    if (!r) {
      r = this.store.run(runId);
      this.cache.set(runId, r);
    }
    return r;
  }

  async refs(): Promise<RunRef[]> {
    return (await this.store.runs()).map((runId) => ({
      id: this.idOf(runId),
      runId,
      source: this,
      run: this.run(runId),
    }));
  }
}

/**
 * How a manifest is named in responses: a directory by its last component only (its full path says
 * more about the machine than a dashboard needs), a database as scheme://host/db with no user or
 * password.
 */
export function manifestLabel(url: string): string {
  const dir = /^file:(?:\/\/)?(.+)$/.exec(url);
  if (dir) return `file:${basename(resolve(dir[1]!))}`;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return redact(url).replace(/\/\/[^@/]*@/, '//');
  }
}

/** Every text that leaves the server goes through this: credentials masked, directory paths cut to their names. */
export class Scrubber {
  private readonly paths: [string, string][] = [];

  addDirectory(url: string): void {
    const dir = /^file:(?:\/\/)?(.+)$/.exec(url);
    if (!dir) return;
    const full = resolve(dir[1]!);
    // the longest first, so a path is never half-replaced by a shorter one it starts with
    for (const p of new Set([full, dir[1]!])) if (p.length > 1) this.paths.push([p, basename(full)]);
    this.paths.sort((a, b) => b[0].length - a[0].length);
  }

  scrub(text: string): string {
    let out = redact(text);
    for (const [p, name] of this.paths) if (out.includes(p)) out = out.split(p).join(name);
    return out;
  }
}

export interface Sources {
  list: Source[];
  scrubber: Scrubber;
  close(): Promise<void>;
}

/** Open every manifest given (each must exist already: serve creates nothing). */
export async function openSources(urls: string[]): Promise<Sources> {
  const scrubber = new Scrubber();
  const list: Source[] = [];
  try {
    for (const [i, url] of urls.entries()) {
      scrubber.addDirectory(url);
      const store = await openStore(url, { existing: true });
      list.push(new Source(i, manifestLabel(url), store, urls.length > 1));
    }
  } catch (e) {
    await Promise.all(list.map((s) => s.store.close().catch(() => {})));
    throw e;
  }
  return {
    list,
    scrubber,
    close: async () => void (await Promise.all(list.map((s) => s.store.close().catch(() => {})))),
  };
}

/** All runs of all manifests, in each manifest's order (oldest first). */
export async function allRuns(sources: Sources): Promise<RunRef[]> {
  return (await Promise.all(sources.list.map((s) => s.refs()))).flat();
}

/** The run an API id names, or null. */
export async function findRun(sources: Sources, id: string): Promise<{ ref: RunRef; desc: RunDescriptor } | null> {
  const m = /^(\d+)~(.+)$/.exec(id);
  const candidates =
    sources.list.length > 1 ? (m ? sources.list.filter((s) => s.index === Number(m[1])) : []) : sources.list;
  const runId = sources.list.length > 1 ? m?.[2] : id;
  if (!runId || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId)) return null;
  for (const source of candidates) {
    const run = source.run(runId);
    const desc = await run.descriptor();
    if (desc) return { ref: { id: source.idOf(runId), runId, source, run }, desc };
  }
  return null;
}
