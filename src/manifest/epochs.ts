// Leases in a shared directory, safe on NFS: no flock, no delete-then-recreate. A key (a shard, a
// guard name) goes through epochs numbered by a fencing token t = 1, 2, …:
//   lease/<key>.<t>  — created once, atomically with its content, by the one claimant that wins the
//                      token (link(2) of a private temp file fails with EEXIST for everyone else);
//                      its mtime is the last renewal.
//   end/<key>.<t>    — how epoch t ended: committed, expired (written by the next claimant), released
//                      or failed. Created the same way, so for each token exactly one ending wins:
//                      a stale holder's commit and a takeover of its expired lease race for the same
//                      name, and only one of them can succeed — that is the fence.
// Files are immutable once linked (only a lease's mtime changes), so their contents are cached.
import { linkSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeDirs } from '../make-dirs.js';

export interface LeaseBody {
  host: string;
  pid: number;
  lease_ms: number;
  /** ms since epoch */
  claimed_at: number;
  /** failed attempts before this epoch (carried so a later failure can count on) */
  attempts: number;
}

export type EndKind = 'committed' | 'expired' | 'released' | 'failed';

export interface EndBody {
  kind: EndKind;
  host: string;
  pid: number;
  time: number;
  /** failed: attempts including this one; others: attempts carried */
  attempts: number;
  error?: string;
  permanent?: boolean;
  /** failed: true when out of attempts (or permanent) */
  final?: boolean;
  retry_at?: number;
  /** committed: the shard's partial, when small enough to ride along (see file.ts) */
  partial?: string;
}

/** The latest epoch of one key. */
export interface EpochState {
  token: number;
  lease: LeaseBody | null;
  /** the lease file's mtime (last renewal), ms */
  renewedAt: number;
  end: EndBody | null;
}

/**
 * Temp names: unique within this process by the counter, and across processes and hosts by the pid
 * and a random part drawn once (drawing random bytes for every file cost more than the rest of a
 * name).
 */
let tmpPrefix = '';
let tmpSeq = 0;

/**
 * Publish `content` at `target` only if nothing is there: write a private temp file and link it to
 * the target. A link that reports EEXIST is judged by whether the target is our temp file's inode —
 * the NFS-safe test, since a retransmitted link can report EEXIST although it succeeded.
 */
export function publishOnce(tmpDir: string, target: string, content: string, mtimeMs?: number): boolean {
  return publishFirst(tmpDir, [target], content, mtimeMs) === 0;
}

/**
 * publishOnce to the first of `targets` where nothing is there yet, trying them in order with the
 * same temp file (one file creation however many are taken). Returns the index published, or -1.
 */
export function publishFirst(tmpDir: string, targets: string[], content: string, mtimeMs?: number): number {
  tmpPrefix ||= `${process.pid}-${randomBytes(6).toString('hex')}`;
  const tmp = join(tmpDir, `${tmpPrefix}-${tmpSeq++}.tmp`);
  writeFileSync(tmp, content);
  // A lease's mtime is its last renewal, judged by the hosts' clocks: set it from ours, not the file server's.
  if (mtimeMs !== undefined) utimesSync(tmp, mtimeMs / 1000, mtimeMs / 1000);
  try {
    for (const [i, target] of targets.entries()) {
      try {
        linkSync(tmp, target);
        return i;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      // EEXIST: someone else's file, or our own link whose reply was lost and retransmitted (NFS).
      // The name is ours if it is our inode (a link count would not say which of several names).
      const mine = statSync(tmp);
      const there = statSync(target, { throwIfNoEntry: false });
      if (there && there.ino === mine.ino && there.dev === mine.dev) return i;
    }
    return -1;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

export class EpochDir {
  private readonly leaseDir: string;
  readonly endDir: string;
  readonly tmpDir: string;
  private readonly cache = new Map<string, unknown>();

  constructor(root: string) {
    this.leaseDir = join(root, 'lease');
    this.endDir = join(root, 'end');
    this.tmpDir = join(root, 'tmp');
  }

  ensure(): void {
    for (const d of [this.leaseDir, this.endDir, this.tmpDir]) makeDirs(d);
  }

  private read<T>(dir: string, name: string): T | null {
    const hit = this.cache.get(`${dir}/${name}`);
    if (hit !== undefined) return hit as T;
    try {
      const v = JSON.parse(readFileSync(join(dir, name), 'utf8')) as T & { partial?: string };
      // A committed end record may carry its shard's partial. Every host scans every end record, but
      // only the merging host needs partials (committedPartial reads them): the cache leaves it out.
      delete v.partial;
      this.cache.set(`${dir}/${name}`, v);
      return v;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Latest token per key, from one listing of each directory. */
  scan(): Map<string, EpochState> {
    const out = new Map<string, EpochState>();
    for (const name of listing(this.leaseDir)) {
      const epoch = parseEpoch(name);
      if (!epoch) continue;
      const [key, token] = epoch;
      const cur = out.get(key);
      if (!cur || token > cur.token) out.set(key, { token, lease: null, renewedAt: 0, end: null });
    }
    const ends = new Set(listing(this.endDir));
    for (const [key, st] of out) {
      const name = `${key}.${st.token}`;
      st.lease = this.read<LeaseBody>(this.leaseDir, name);
      if (ends.has(name)) st.end = this.read<EndBody>(this.endDir, name);
      else st.renewedAt = this.mtime(name);
    }
    return out;
  }

  /** Every epoch's lease: [key, token, body], in no particular order. */
  leases(): [string, number, LeaseBody][] {
    return this.every<LeaseBody>(this.leaseDir);
  }

  /** Every epoch's ending: [key, token, body], in no particular order. */
  ends(): [string, number, EndBody][] {
    return this.every<EndBody>(this.endDir);
  }

  private every<T>(dir: string): [string, number, T][] {
    const out: [string, number, T][] = [];
    for (const name of listing(dir)) {
      const epoch = parseEpoch(name);
      const body = epoch && this.read<T>(dir, name);
      if (body) out.push([epoch[0], epoch[1], body]);
    }
    return out;
  }

  /** The latest epoch of one key (token 0 when it was never claimed). */
  state(key: string): EpochState {
    let token = 0;
    const prefix = `${key}.`;
    for (const name of listing(this.leaseDir)) {
      if (!name.startsWith(prefix)) continue;
      const t = Number(name.slice(prefix.length));
      if (Number.isInteger(t) && t > token) token = t;
    }
    if (token === 0) return { token: 0, lease: null, renewedAt: 0, end: null };
    return this.epoch(key, token);
  }

  epoch(key: string, token: number): EpochState {
    const name = `${key}.${token}`;
    const lease = this.read<LeaseBody>(this.leaseDir, name);
    const end = this.read<EndBody>(this.endDir, name);
    return { token, lease, end, renewedAt: end ? 0 : this.mtime(name) };
  }

  private mtime(name: string): number {
    try {
      return statSync(join(this.leaseDir, name)).mtimeMs;
    } catch (e) {
      // Only a missing file reads as "never renewed"; a transient ESTALE/EIO must not make a live
      // lease look expired.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
  }

  /** The partial a committed end record carries, read afresh (null: it has none, or no record). */
  committedPartial(key: string, token: number): string | null {
    try {
      const body = JSON.parse(readFileSync(join(this.endDir, `${key}.${token}`), 'utf8')) as EndBody;
      return body.kind === 'committed' && typeof body.partial === 'string' ? body.partial : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Try to open epoch `token` of key (the previous one must have ended). */
  claim(key: string, token: number, body: LeaseBody): boolean {
    const won = publishOnce(this.tmpDir, join(this.leaseDir, `${key}.${token}`), JSON.stringify(body), body.claimed_at);
    if (won) this.cache.set(`${this.leaseDir}/${key}.${token}`, body);
    return won;
  }

  /**
   * Open epoch 1 of the first of `keys` never claimed. It has no epoch before it to end, so nothing
   * needs to be looked up first: the create itself decides, and a key another host took (EEXIST) is
   * passed over. Returns the index in `keys` claimed, or -1 when all were taken.
   */
  claimFresh(keys: string[], body: LeaseBody): number {
    const won = publishFirst(
      this.tmpDir,
      keys.map((k) => join(this.leaseDir, `${k}.1`)),
      JSON.stringify(body),
      body.claimed_at,
    );
    if (won >= 0) this.cache.set(`${this.leaseDir}/${keys[won]}.1`, body);
    return won;
  }

  /** The lease body of epoch `token` of key (cached: it never changes). */
  lease(key: string, token: number): LeaseBody | null {
    return this.read<LeaseBody>(this.leaseDir, `${key}.${token}`);
  }

  /** Try to end epoch `token`; false when it had already ended (another ending won). */
  end(key: string, token: number, body: EndBody): boolean {
    return publishOnce(this.tmpDir, join(this.endDir, `${key}.${token}`), JSON.stringify(body));
  }

  /** Renew: touch the lease file. Returns the previous renewal time, or null if the epoch has ended. */
  touch(key: string, token: number, now: number): number | null {
    const name = `${key}.${token}`;
    const before = this.mtime(name);
    utimesSync(join(this.leaseDir, name), now / 1000, now / 1000);
    if (this.read<EndBody>(this.endDir, name)) return null;
    return before;
  }
}

/** "<key>.<token>" → [key, token]; null for any other name. */
function parseEpoch(name: string): [string, number] | null {
  const dot = name.lastIndexOf('.');
  const token = Number(name.slice(dot + 1));
  return dot > 0 && Number.isInteger(token) ? [name.slice(0, dot), token] : null;
}

/** A directory's entries; a directory not created yet has none. */
export function listing(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
