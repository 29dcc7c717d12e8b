// Who may talk to `bigproc serve`. With a token (--token or BIGPROC_TOKEN), every request — the page,
// the API, the stream, /metrics — must carry it: `Authorization: Bearer T`, or the cookie that
// `/login?token=T` sets for a browser. Compared in constant time. Without a token the server only
// listens on loopback, and then refuses requests whose Host header is not a loopback name: a web page
// elsewhere cannot reach it through DNS rebinding.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export const COOKIE = 'bigproc_token';

/** 127.0.0.0/8, ::1 and localhost: the addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Equal strings, in time that depends on neither's content (both are hashed to 32 bytes first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The token a request carries, from its Authorization header or its cookie. */
export function presentedToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    return m ? m[1]!.trim() : null;
  }
  return cookieValue(req.headers.cookie, COOKIE);
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 421; message: string };

/** Whether a request may proceed (see the top of this file). */
export function admit(req: IncomingMessage, token: string | null): Verdict {
  if (token !== null) {
    const given = presentedToken(req);
    if (given === null)
      return {
        ok: false,
        status: 401,
        message: 'this server needs its token: send Authorization: Bearer <token>, or open /login?token=<token>',
      };
    if (!sameSecret(given, token))
      return { ok: false, status: 401, message: "the token sent is not this server's token" };
    return { ok: true };
  }
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!isLoopback(host))
    return {
      ok: false,
      status: 421,
      message: 'without --token this server answers only requests addressed to localhost or 127.0.0.1',
    };
  return { ok: true };
}

/** The Set-Cookie header for a browser that signed in with the token: not readable by scripts, never sent cross-site. */
export function loginCookie(token: string, secure: boolean): string {
  return `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
