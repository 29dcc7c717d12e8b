// Credentials never reach a terminal, a log or a JSON document: every line bigproc prints that can
// hold a user-given value (errors, warnings, log lines, `config`, the manifest commands) goes through
// redact(). A URL's password is masked wherever it appears in the text, whatever put it there (a
// flag echoed in a message, a driver's error, a stored value), so no call site has to remember it.

const MASK = '****';

/** scheme://user:PASSWORD@host — the password runs to the last '@' of the URL (pg accepts a raw '@' in it). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"]*:)((?:[^\s"\\]|\\.)*)@/gi;
/** libpq keyword/value strings and URL query parameters: password=…, sslpassword='…' */
const KEYWORD_PASSWORD = /\b(\w*password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'"]+)/gi;
/** a JSON member named like a password: "password": "…" */
const JSON_PASSWORD = /("\w*password"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** Passwords seen as plain values (PGPASSWORD, a --manifest URL's password decoded), masked wherever they appear. */
const secrets = new Set<string>();

/**
 * A secret too short would mask ordinary words of every message; such a password is still masked
 * where it sits in a URL or a password= pair, the only places bigproc ever shows one.
 */
const MIN_LITERAL = 4;

/** Mask this value wherever it appears in what redact() sees from now on. */
export function addSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_LITERAL) secrets.add(value);
}

/** The password in a postgres://user:password@… URL or its ?password= parameter (decoded as the driver decodes it), if any. */
export function urlPassword(url: string): string | null {
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:(.*)@[^@]*$/i.exec(url)?.[1] ?? /[?&]password=([^&#]*)/i.exec(url)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** text with every credential in it masked. */
export function redact(text: string): string {
  addSecret(process.env.PGPASSWORD);
  let out = text
    .replace(URL_PASSWORD, `$1${MASK}@`)
    .replace(KEYWORD_PASSWORD, `$1${MASK}`)
    .replace(JSON_PASSWORD, `$1"${MASK}"`);
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(MASK);
    // as it appears inside a JSON string
    const quoted = JSON.stringify(s).slice(1, -1);
    if (quoted !== s && out.includes(quoted)) out = out.split(quoted).join(MASK);
  }
  return out;
}
