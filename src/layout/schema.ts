// The record layout a user writes: the inline grammar (`--schema 'ts:i64,pad<4>,id:bytes<16>'`),
// its JSON form (`--schema @layout.json`), and the way back from a Layout to the inline grammar.
import { readSmallFile } from '../config/small-file.js';
import * as z from 'zod/mini';
import { expected, usage } from '../errors.js';
import {
  MAX_RECORD_SIZE,
  isName,
  TYPE_LIST,
  checkRecordSize,
  checkUniqueNames,
  fieldTypeString,
  parseTypeToken,
  type TypeToken,
} from './fields.js';
import type { Field, Layout } from './types.js';

const EXAMPLE = 'a record schema such as "ts:i64,price:f64,id:bytes<16>"';
const NAME_RULE = 'a field name of letters (any script), digits and _, not starting with a digit';

/** Appends one parsed item to the fields under construction; pads only move the offset. */
class Packer {
  readonly fields: Field[] = [];
  offset = 0;
  add(name: string | undefined, token: TypeToken): void {
    if (token.kind !== 'pad') {
      const type = token.kind === 'numeric' ? token.type : 'bytes';
      this.fields.push({ name: name!, type, offset: this.offset, size: token.size });
    }
    this.offset += token.size;
  }
}

/**
 * Parse the inline grammar: `[<|>] name:type, name:type, …` with types i8…f64, bytes<N>, pad<N>
 * (`pad<N>` may stand alone or carry a name, which is ignored). Fields are packed in order.
 */
export function parseSchema(text: string, param = '--schema'): Layout {
  let body = text.trim();
  let bigEndian = false;
  if (body.startsWith('>') || body.startsWith('<')) {
    bigEndian = body[0] === '>';
    body = body.slice(1).trim();
  }
  if (body === '') throw expected(param, EXAMPLE, text);
  const packer = new Packer();
  body.split(',').forEach((raw, i) => {
    const item = raw.trim();
    const nth = `(item ${i + 1})`;
    if (item === '') throw expected(param, `name:type items separated by single commas (item ${i + 1} is empty)`, text);
    const colon = item.indexOf(':');
    if (colon < 0) {
      // A bare `pad<N>` needs no name; anything else does.
      if (/^pad\s*</.test(item)) {
        packer.add(undefined, parseTypeToken(item, param, nth));
        return;
      }
      throw expected(param, `a name:type item such as "price:f64" ${nth}`, item);
    }
    const name = item.slice(0, colon).trim();
    if (!isName(name)) throw expected(param, `${NAME_RULE} ${nth}`, name);
    packer.add(name, parseTypeToken(item.slice(colon + 1), param, `as the type of field "${name}"`));
  });
  checkUniqueNames(packer.fields, param);
  checkRecordSize(packer.offset, param, text);
  return { recordSize: packer.offset, bigEndian, fields: packer.fields, headerBytes: 0, source: 'schema' };
}

/**
 * Write a layout back in the inline grammar: gaps between fields and after the last one become
 * `pad<N>`, a big-endian layout starts with `>`. `parseSchema(formatSchema(l))` gives back l's
 * recordSize, bigEndian and fields.
 */
export function formatSchema(layout: Layout): string {
  const items: string[] = [];
  let at = 0;
  for (const f of [...layout.fields].sort((a, b) => a.offset - b.offset)) {
    if (f.offset < at) throw new RangeError(`formatSchema: field "${f.name}" overlaps the previous field`);
    if (f.offset > at) items.push(`pad<${f.offset - at}>`);
    items.push(`${f.name}:${fieldTypeString(f)}`);
    at = f.offset + f.size;
  }
  if (layout.recordSize > at) items.push(`pad<${layout.recordSize - at}>`);
  return (layout.bigEndian ? '>' : '') + items.join(',');
}

// ---- JSON form ---------------------------------------------------------------------------------

const FieldJson = z.strictObject({
  name: z.optional(z.string()),
  type: z.string(),
  size: z.optional(z.int()),
});

const LayoutJson = z.strictObject({
  endian: z.optional(z.enum(['little', 'big'])),
  fields: z.array(FieldJson),
  record_size: z.optional(z.int()),
  header_bytes: z.optional(z.int()),
});

const ROOT_KEYS = 'endian, fields, record_size, header_bytes';
const FIELD_KEYS = 'name, type, size';

/** `["fields", 2, "type"]` → `fields[2].type` */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** What a JSON value at `path` should have been, in words, for the zod issue `code`/`expected`. */
function describeExpected(path: readonly PropertyKey[], want: string | undefined): string {
  const last = path[path.length - 1];
  if (path.length === 0) return `a JSON object like {"endian":"little","fields":[{"name":"ts","type":"i64"}]}`;
  if (last === 'fields') return 'an array of fields like [{"name":"ts","type":"i64"}]';
  if (typeof last === 'number') return 'a field object like {"name":"ts","type":"i64"}';
  if (last === 'type') return `a type string (${TYPE_LIST})`;
  if (last === 'name') return NAME_RULE;
  if (last === 'size' || last === 'record_size' || last === 'header_bytes') return 'a whole number';
  return want === undefined ? 'a valid value' : `a ${want}`;
}

type Issue = z.core.$ZodIssue;

function issueToError(issue: Issue, root: unknown, param: string): Error {
  const path = issue.path;
  const where = path.length ? `${param} ${formatPath(path)}` : param;
  switch (issue.code) {
    case 'unrecognized_keys':
      return expected(where, `only the keys ${path.length ? FIELD_KEYS : ROOT_KEYS}`, issue.keys[0]);
    case 'invalid_value':
      return expected(where, `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, valueAt(root, path));
    case 'invalid_type':
      return expected(where, describeExpected(path, issue.expected), valueAt(root, path));
    default:
      return expected(where, describeExpected(path, undefined), valueAt(root, path));
  }
}

/**
 * Build a layout from its JSON form:
 * `{"endian":"big","fields":[{"name":"ts","type":"i64"},{"type":"pad<4>"},{"name":"id","type":"bytes","size":16}],
 *   "record_size":32,"header_bytes":0}`. `param` prefixes every message (e.g. `--schema @layout.json`).
 */
export function parseLayoutJson(value: unknown, param: string): Layout {
  const parsed = LayoutJson.safeParse(value);
  if (!parsed.success) throw issueToError(parsed.error.issues[0]!, value, param);
  const json = parsed.data;
  const packer = new Packer();
  json.fields.forEach((f, i) => {
    const at = `${param} fields[${i}]`;
    let token: TypeToken;
    if (f.type === 'bytes' || f.type === 'pad') {
      if (f.size === undefined)
        throw expected(`${at}.size`, `a size for type "${f.type}" (or write "${f.type}<N>")`, undefined);
      if (f.size < 1 || f.size > MAX_RECORD_SIZE)
        throw expected(`${at}.size`, `a whole number from 1 to ${MAX_RECORD_SIZE}`, f.size);
      token = { kind: f.type, size: f.size };
    } else {
      token = parseTypeToken(f.type, `${at}.type`);
      if (f.size !== undefined && f.size !== token.size) {
        throw expected(`${at}.size`, `${token.size} (the size of ${f.type}) or no size at all`, f.size);
      }
    }
    if (token.kind === 'pad' && f.name === undefined) {
      packer.add(undefined, token);
      return;
    }
    if (f.name === undefined || !isName(f.name)) throw expected(`${at}.name`, NAME_RULE, f.name);
    packer.add(f.name, token);
  });
  checkUniqueNames(packer.fields, param);
  let recordSize = packer.offset;
  if (json.record_size !== undefined) {
    if (json.record_size < packer.offset || json.record_size > MAX_RECORD_SIZE || json.record_size < 1) {
      const floor = Math.max(packer.offset, 1);
      throw expected(
        `${param} record_size`,
        `a whole number from ${floor} (the fields' packed size) to ${MAX_RECORD_SIZE}`,
        json.record_size,
      );
    }
    recordSize = json.record_size;
  }
  checkRecordSize(recordSize, `${param} fields`, (value as { fields: unknown }).fields);
  const headerBytes = json.header_bytes ?? 0;
  if (headerBytes < 0) throw expected(`${param} header_bytes`, 'a whole number ≥ 0', headerBytes);
  return { recordSize, bigEndian: json.endian === 'big', fields: packer.fields, headerBytes, source: 'json' };
}

/**
 * The `--schema` option: `@path` reads a JSON layout from that file, anything else is the inline
 * grammar. `@path` layouts may carry `header_bytes` and `record_size`; inline ones never do.
 */
export function loadSchemaOption(text: string): Layout {
  if (!text.startsWith('@')) return parseSchema(text, '--schema');
  const path = text.slice(1);
  if (path.trim() === '') throw expected('--schema', 'a file path after @ (e.g. @layout.json)', text);
  const raw = readSmallFile(path, '--schema @file');
  let json: unknown;
  try {
    json = JSON.parse(raw.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw usage(`The --schema file ${JSON.stringify(path)} is not valid JSON: ${(err as Error).message}`);
  }
  return parseLayoutJson(json, `--schema ${text}`);
}
