// Small pieces shared by the layout parsers: type tokens (`i64`, `bytes<16>`, `pad<4>`), field names,
// the record-size ceiling and the `--json` rendering of a field's type. No I/O, no dependencies.
import { expected, usage } from '../errors.js';
import { NUMERIC_TYPES, TYPE_SIZE, type Field, type NumericType } from './types.js';

/** Largest record bigproc accepts (2 GiB − 1): a record must fit in one buffer. */
export const MAX_RECORD_SIZE = 2 ** 31 - 1;

/**
 * Field names: what `--field`, `--where` and `--schema` can spell. Letters of any script (a NumPy
 * field `température` keeps its name: renaming it would surprise every --field and --where), digits
 * and _, not starting with a digit. namePrefix finds a name at the start of a text, isName checks one.
 */
const NAME_PREFIX_SOURCE = '^[\\p{L}\\p{Nl}_][\\p{L}\\p{M}\\p{N}_]*';
// The Unicode patterns cost ~1.5 ms to build and first run at every start; an ASCII name (nearly
// every name) is decided by these, the Unicode ones are built only for a name that needs them.
const ASCII_PREFIX = /^[A-Za-z_][A-Za-z0-9_]*/;
let unicodePrefix: RegExp | undefined;
let unicodeName: RegExp | undefined;

/** The field name at the start of text ("" when there is none). */
export function namePrefix(text: string): string {
  const m = ASCII_PREFIX.exec(text);
  const next = text.charCodeAt(m ? m[0].length : 0);
  // an ASCII character (or the end) right after an ASCII match ends the name, as it would the Unicode one
  if (Number.isNaN(next) || next < 0x80) return m ? m[0] : '';
  unicodePrefix ??= new RegExp(NAME_PREFIX_SOURCE, 'u');
  return unicodePrefix.exec(text)?.[0] ?? '';
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Whether s is a whole field name. */
export function isName(s: string): boolean {
  if (isAscii(s)) return ASCII_PREFIX.exec(s)?.[0].length === s.length && s.length > 0;
  unicodeName ??= new RegExp(`${NAME_PREFIX_SOURCE}$`, 'u');
  return unicodeName.test(s);
}

/** The type tokens the inline grammar and the JSON form accept, for messages. */
export const TYPE_LIST = `${NUMERIC_TYPES.join(', ')}, bytes<N> or pad<N>`;

/** A parsed type token: a numeric type, opaque bytes, or padding (skipped, not a field). */
export type TypeToken = { kind: 'numeric'; type: NumericType; size: number } | { kind: 'bytes' | 'pad'; size: number };

const SIZED_RE = /^(bytes|pad)\s*<\s*([^<>]*?)\s*>$/;

/**
 * Parse one type token. `param` and `where` only shape the message
 * (e.g. `--schema`, `as the type of field "id"`).
 */
export function parseTypeToken(token: string, param: string, where = ''): TypeToken {
  const at = where ? ` ${where}` : '';
  const t = token.trim();
  if ((NUMERIC_TYPES as readonly string[]).includes(t)) {
    const type = t as NumericType;
    return { kind: 'numeric', type, size: TYPE_SIZE[type] };
  }
  const m = SIZED_RE.exec(t);
  if (!m) throw expected(param, `one of ${TYPE_LIST}${at}`, token);
  const kind = m[1] as 'bytes' | 'pad';
  const size = /^\d+$/.test(m[2]!) ? Number(m[2]) : NaN;
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_RECORD_SIZE) {
    throw expected(param, `${kind}<N> with N a whole number from 1 to ${MAX_RECORD_SIZE}${at}`, token);
  }
  return { kind, size };
}

/** The type as the inline grammar and `--json` write it: `i64`, `bytes<16>`. */
export function fieldTypeString(field: Pick<Field, 'type' | 'size'>): string {
  return field.type === 'bytes' ? `bytes<${field.size}>` : field.type;
}

/** Throw if a record would be empty or too large to fit in one buffer. */
export function checkRecordSize(size: number, param: string, received: unknown): void {
  if (size === 0) throw expected(param, 'a record of at least one byte (a field or a pad<N>)', received);
  if (!Number.isSafeInteger(size) || size > MAX_RECORD_SIZE) {
    throw expected(param, `a record of at most ${MAX_RECORD_SIZE} bytes (this one has ${size})`, received);
  }
}

/** Throw a usage error naming the first repeated field name. */
export function checkUniqueNames(fields: readonly { name: string }[], param: string): void {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name))
      throw usage(`Duplicate field name ${JSON.stringify(f.name)} in ${param}: every field needs its own name`);
    seen.add(f.name);
  }
}
