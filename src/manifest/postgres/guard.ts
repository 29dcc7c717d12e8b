// --exclusive guards: take one (or learn who holds it), renew it, release it.
import type { Guard, GuardResult, Owner } from '../types.js';
import { runtime } from '../../errors.js';
import type { Db } from './db.js';
import { interval, ms } from './fragments.js';

// $1 name, $2 host, $3 pid, $4 lease ms. Takes the guard when it is free or its lease expired; the
// token keeps counting up across holders, so an old holder's renew can never match again. (Release
// expires the row rather than deleting it, for the same reason: a deleted row would restart at 1.)
export const GUARD_TAKE = `
insert into bigproc_guards as g (name, token, owner_host, owner_pid, lease_until, since)
values ($1, 1, $2, $3::int, now() + ${interval('$4')}, now())
on conflict (name) do update
  set token = g.token + 1, owner_host = excluded.owner_host, owner_pid = excluded.owner_pid,
      lease_until = excluded.lease_until, since = excluded.since
  where g.lease_until < now()
returning token::float8 as token`;

export const GUARD_HOLDER = `
select owner_host, owner_pid, ${ms('since')} as since from bigproc_guards where name = $1 and lease_until >= now()`;

// $1 name, $2 token, $3 lease ms. A released guard (lease -infinity) is not renewed back to life.
export const GUARD_RENEW = `
update bigproc_guards set lease_until = now() + ${interval('$3')}
where name = $1 and token = $2::bigint and lease_until > '-infinity'
returning token`;

export const GUARD_RELEASE = `
update bigproc_guards set lease_until = '-infinity' where name = $1 and token = $2::bigint`;

class PgGuard implements Guard {
  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly token: number,
    private readonly leaseMs: number,
  ) {}

  async renew(): Promise<boolean> {
    return (
      (await this.db.query('bigproc_guard_renew', GUARD_RENEW, [this.name, this.token, this.leaseMs])).length === 1
    );
  }

  async release(): Promise<void> {
    await this.db.query('bigproc_guard_release', GUARD_RELEASE, [this.name, this.token]);
  }
}

export async function takeGuard(db: Db, name: string, owner: Owner, leaseMs: number): Promise<GuardResult> {
  // take it, or read who has it; if the holder lets go in between, the next round takes it
  for (let tries = 0; tries < 5; tries++) {
    const took = await db.query('bigproc_guard_take', GUARD_TAKE, [name, owner.host, owner.pid, leaseMs]);
    if (took.length) return { kind: 'held', guard: new PgGuard(db, name, took[0]!.token as number, leaseMs) };
    const held = await db.query('bigproc_guard_holder', GUARD_HOLDER, [name]);
    if (held.length) {
      const h = held[0]!;
      return {
        kind: 'busy',
        holder: { host: h.owner_host as string, pid: h.owner_pid as number },
        since: h.since as number,
      };
    }
  }
  throw runtime(`the guard ${JSON.stringify(name)} changed hands too fast to take or report`);
}
