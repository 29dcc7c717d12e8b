// Keeping one claimed shard's lease: renew it every lease/3 and declare it lost — so work on the
// shard stops at once — when the manifest says so, when a renewal fails, or when the lease has run out
// without a renewal getting through (a renewal stuck retrying an unreachable manifest). The lease runs
// out a lease period after the last successful renewal was *sent*: the manifest extended it later than
// that, never earlier, so stopping then is never late.
import type { RenewResult } from '../manifest/types.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LeaseKeeper {
  /** stop renewing (the shard was committed, failed or given back) */
  end(): void;
}

export function keepLease(opts: {
  leaseMs: number;
  /** when the claim was sent (the lease began later than that, never earlier); default now */
  since?: number;
  renew: () => Promise<RenewResult>;
  /** the lease is lost: called at most once, never after end() */
  onLost: () => void;
  /** a renewal went through after the lease had expired */
  onLate?: () => void;
  /**
   * A renewal failed (the manifest could not be reached): true to keep holding until the lease runs
   * out (a later renewal may get through), false to declare it lost now. Default: lost now — a shard's
   * work stops at once; --exclusive warns and keeps its guard while the lease lasts.
   */
  onRenewError?: (e: unknown) => boolean;
}): LeaseKeeper {
  let ended = false;
  let lost = false;
  let deadline: NodeJS.Timeout | undefined;
  const lose = () => {
    if (ended || lost) return;
    lost = true;
    stop();
    opts.onLost();
  };
  const expireAt = (from: number) => {
    clearTimeout(deadline);
    // (capped: a longer delay would overflow Node's timer and fire at once; --lease is at most 24 h)
    if (!ended && !lost)
      deadline = setTimeout(lose, Math.min(MAX_TIMER_MS, Math.max(0, from + opts.leaseMs - Date.now())));
  };
  const heartbeat = setInterval(
    () => {
      const sent = Date.now();
      opts.renew().then(
        (r) => {
          if (r === 'lost') return lose();
          expireAt(sent);
          if (r === 'late' && !ended) opts.onLate?.();
        },
        // cannot reach the manifest: the lease may be expiring, so stop working on the shard now
        (e) => {
          if (!ended && !lost && opts.onRenewError?.(e) !== true) lose();
        },
      );
    },
    Math.max(10, Math.floor(opts.leaseMs / 3)),
  );
  const stop = () => {
    clearInterval(heartbeat);
    clearTimeout(deadline);
  };
  expireAt(opts.since ?? Date.now());
  return {
    end() {
      ended = true;
      stop();
    },
  };
}
