// NumPy .npy files (format 1.0, 2.0, 3.0): the header is a Python dict literal giving the dtype,
// the memory order and the shape. This module reads it (with a small literal parser, never eval)
// into a Layout whose headerBytes skip the header, and writes small .npy files for tests.
import { usage } from '../errors.js';
import { MAX_RECORD_SIZE, isName, checkUniqueNames } from './fields.js';
import type { Field, FieldType, Layout, NumericType } from './types.js';

/** `\x93NUMPY`, the first six bytes of every .npy file. */
export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);

/**
 * A dtype that would expand to more fields than this (a plain dtype with shape (N, 1000, 1000),
 * a subarray of a million floats) becomes one opaque `bytes` field named `value` instead.
 */
export const MAX_NPY_FIELDS = 4096;

export function isNpy(head: Uint8Array): boolean {
  if (head.length < NPY_MAGIC.length) return false;
  for (let i = 0; i < NPY_MAGIC.length; i++) if (head[i] !== NPY_MAGIC[i]) return false;
  return true;
}

function hexStart(head: Uint8Array): string {
  return Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || 'nothing';
}

/**
 * Where the array data starts (10 or 12 + the header length), read from the preamble alone; it may
 * lie beyond `head`, so callers can read exactly that much. Throws for bad magic or version.
 */
export function npyDataOffset(head: Uint8Array, param: string): number {
  if (!isNpy(head)) throw usage(`${param} is not an .npy file: it starts with ${hexStart(head)}, not \\x93NUMPY`);
  const major = head[6];
  const minor = head[7];
  if (major === undefined || minor === undefined)
    throw usage(`${param}: the .npy header is truncated (${head.length} bytes)`);
  if (major !== 1 && major !== 2 && major !== 3) {
    throw usage(`${param}: unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  const pre = major === 1 ? 10 : 12;
  if (head.length < pre) throw usage(`${param}: the .npy header is truncated (${head.length} bytes)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return pre + (major === 1 ? view.getUint16(8, true) : view.getUint32(8, true));
}

// ---- Python literals ---------------------------------------------------------------------------

type PyKey = string | number | boolean | null;
type Py = PyKey | Py[] | PyDict;
class PyDict {
  readonly map = new Map<PyKey, Py>();
}

const MAX_DEPTH = 64;

/** Parses the subset of Python literals .npy headers use: str, int, float, bool, None, tuple, list, dict. */
class PyParser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly param: string,
  ) {}

  parseAll(): Py {
    const v = this.value(0);
    this.ws();
    if (this.pos < this.src.length) this.fail('unexpected text after the dict');
    return v;
  }

  private fail(what: string): never {
    const near = JSON.stringify(this.src.slice(Math.max(0, this.pos - 24), this.pos + 24));
    throw usage(`${this.param}: malformed .npy header: ${what} at character ${this.pos} (near ${near})`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  private value(depth: number): Py {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.ws();
    const c = this.src[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.dict(depth);
    if (c === '[') return this.seq(']', depth).items;
    if (c === '(') {
      const { items, comma } = this.seq(')', depth);
      return items.length === 1 && !comma ? items[0]! : items; // `(3)` is 3, `(3,)` a tuple
    }
    if (c === '"' || c === "'" || (/[uUbB]/.test(c) && /["']/.test(this.src[this.pos + 1] ?? ''))) return this.string();
    if (/[-+0-9.]/.test(c)) return this.number();
    const word = /[A-Za-z_][A-Za-z0-9_]*/y;
    word.lastIndex = this.pos;
    const m = word.exec(this.src);
    if (m) {
      const literal = { True: true, False: false, None: null }[m[0]];
      if (literal === undefined) this.fail(`unknown name ${JSON.stringify(m[0])}`);
      this.pos += m[0].length;
      return literal;
    }
    return this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  private seq(close: string, depth: number): { items: Py[]; comma: boolean } {
    this.pos++;
    const items: Py[] = [];
    let comma = false;
    for (;;) {
      this.ws();
      if (this.src[this.pos] === close) break;
      items.push(this.value(depth + 1));
      this.ws();
      if (this.src[this.pos] === ',') {
        this.pos++;
        comma = true;
      } else if (this.src[this.pos] !== close) {
        this.fail(`expected ',' or '${close}'`);
      }
    }
    this.pos++;
    return { items, comma };
  }

  private dict(depth: number): PyDict {
    this.pos++;
    const d = new PyDict();
    for (;;) {
      this.ws();
      if (this.src[this.pos] === '}') break;
      const key = this.value(depth + 1);
      if (key !== null && typeof key === 'object') this.fail('a dict key must be a string, number, bool or None');
      this.ws();
      if (this.src[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      d.map.set(key, this.value(depth + 1));
      this.ws();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
    this.pos++;
    return d;
  }

  private string(): string {
    if (/[uUbB]/.test(this.src[this.pos]!)) this.pos++;
    const quote = this.src[this.pos++]!;
    let out = '';
    for (;;) {
      const c = this.src[this.pos++];
      if (c === undefined || c === '\n') {
        this.pos--;
        this.fail('unterminated string');
      }
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.src[this.pos++];
      const simple: Record<string, string> = {
        '\\': '\\',
        "'": "'",
        '"': '"',
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
        a: '\x07',
        b: '\b',
        f: '\f',
        v: '\v',
      };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`bad \\${e} escape`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) this.fail(`bad \\${e} escape`);
        out += String.fromCodePoint(cp);
        this.pos += len;
      } else if (e === undefined) {
        this.fail('unterminated string');
      } else {
        out += `\\${e}`; // Python keeps unknown escapes as written
      }
    }
  }

  private number(): number {
    const re = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[lL]?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0].replace(/[lL]$/, ''));
  }
}

/** Python-ish rendering of a header value for messages, cut short past 120 characters. */
function repr(v: Py): string {
  const s = reprFull(v);
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

function reprFull(v: Py): string {
  if (v instanceof PyDict) return '{…}';
  if (Array.isArray(v)) return v.length === 1 ? `(${reprFull(v[0]!)},)` : `(${v.map(reprFull).join(', ')})`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return v === null ? 'None' : String(v);
}

// ---- dtypes ------------------------------------------------------------------------------------

type Order = 'little' | 'big' | null;

/** One scalar inside a dtype; `segs` are name parts joined with '_' at the end (`outer`, `inner`). */
interface Elem {
  segs: string[];
  type: FieldType;
  size: number;
  offset: number;
  order: Order;
}

interface DType {
  /** itemsize in bytes (capped at MAX_RECORD_SIZE + 1) */
  size: number;
  /** how many fields it flattens to (capped at MAX_NPY_FIELDS + 1) */
  count: number;
  /** the flattened fields; left empty when not asked to expand */
  elems: Elem[];
}

const SUPPORTED = 'b1, i1, u1, i2, u2, i4, u4, i8, u8, f4, f8, c8, c16, S<n>, V<n>, U<n>, M8[unit], m8[unit]';
const CODES: Record<string, NumericType> = {
  i1: 'i8',
  i2: 'i16',
  i4: 'i32',
  i8: 'i64',
  u1: 'u8',
  u2: 'u16',
  u4: 'u32',
  u8: 'u64',
  b1: 'u8',
  f4: 'f32',
  f8: 'f64',
};

const capSize = (n: number) => Math.min(n, MAX_RECORD_SIZE + 1);
const capCount = (n: number) => Math.min(n, MAX_NPY_FIELDS + 1);

function unsupported(param: string, dtype: string, where: string, why: string): never {
  throw usage(
    `${param}: unsupported dtype ${JSON.stringify(dtype)}${where ? ` (field "${where}")` : ''} in the .npy header: ${why}`,
  );
}

function dtypeFromString(s: string, param: string, where: string): DType {
  const m = /^([<>|=!]?)([A-Za-z?])(\d*)(\[[A-Za-z0-9]*\])?$/.exec(s);
  if (!m) return unsupported(param, s, where, `expected one of ${SUPPORTED}`);
  const [, prefix, kind, digits, unit] = m as unknown as [string, string, string, string, string | undefined];
  const order: Order = prefix === '>' || prefix === '!' ? 'big' : prefix === '|' ? null : 'little';
  const n = digits === '' ? NaN : Number(digits);
  const one = (type: FieldType, size: number, o: Order): DType => ({
    size,
    count: 1,
    elems: [{ segs: [], type, size, offset: 0, order: o }],
  });
  if (kind === 'O') return unsupported(param, s, where, 'object arrays hold Python pointers, not data');
  if (unit !== undefined && kind !== 'M' && kind !== 'm')
    return unsupported(param, s, where, `expected one of ${SUPPORTED}`);
  if (kind === '?') return one('u8', 1, null);
  if ((kind === 'f' && n === 2) || kind === 'e') {
    return unsupported(
      param,
      s,
      where,
      'half-precision floats (float16) are not supported; save with arr.astype("<f4")',
    );
  }
  if (
    (kind === 'f' && (n === 10 || n === 12 || n === 16)) ||
    (kind === 'c' && (n === 20 || n === 24 || n === 32)) ||
    kind === 'g'
  ) {
    return unsupported(param, s, where, 'long double (float128/complex256) is not supported; save as float64');
  }
  const code = `${kind}${digits}`;
  const numeric = CODES[code];
  if (numeric) return one(numeric, n, n > 1 ? order : null);
  if (code === 'c8' || code === 'c16') {
    const half = n / 2;
    const type = half === 4 ? 'f32' : 'f64';
    return {
      size: n,
      count: 2,
      elems: [
        { segs: ['re'], type, size: half, offset: 0, order },
        { segs: ['im'], type, size: half, offset: half, order },
      ],
    };
  }
  if ((kind === 'M' || kind === 'm') && n === 8) return one('i64', 8, order);
  if (kind === 'S' || kind === 'a' || kind === 'V' || kind === 'U') {
    const size = kind === 'U' ? n * 4 : n;
    if (!Number.isSafeInteger(size) || size < 1)
      return unsupported(param, s, where, 'a string or void type needs a size of at least 1');
    return one('bytes', capSize(size), null);
  }
  return unsupported(param, s, where, `expected one of ${SUPPORTED}`);
}

/** Product of a (sub)array shape: an int or a tuple of ints; null for a scalar (no shape or `()`). */
function shapeProduct(v: Py, param: string, where: string): number | null {
  const dims = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw usage(
      `${param}: malformed .npy header: the subarray shape of field "${where}" must be a tuple of non-negative integers, not ${repr(v)}`,
    );
  }
  if (dims.length === 0) return null;
  return (dims as number[]).reduce((p, d) => capSize(p * d), 1);
}

/** Repeat `inner`'s fields `times` times at `base`, renaming each copy's with `rename(segs, index)`. */
function repeat(
  inner: DType,
  times: number,
  indexed: boolean,
  base: number,
  rename: (segs: string[], i: number | null) => string[],
): Elem[] {
  const out: Elem[] = [];
  if (inner.elems.length === 0) return out; // padding only: nothing to name, however many times
  for (let i = 0; i < times; i++) {
    for (const e of inner.elems)
      out.push({ ...e, segs: rename(e.segs, indexed ? i : null), offset: base + i * inner.size + e.offset });
  }
  return out;
}

/**
 * Size, field count and (when `expand`) the flattened fields of a descr. Call it once with
 * expand = false to check the whole descr and learn how big it is before expanding anything.
 */
function dtypeFromDescr(descr: Py, param: string, where: string, expand: boolean): DType {
  if (typeof descr === 'string') return dtypeFromString(descr, param, where);
  if (!Array.isArray(descr)) {
    throw usage(
      `${param}: malformed .npy header: 'descr'${where ? ` of field "${where}"` : ''} must be a dtype string or a list of fields, not ${repr(descr)}`,
    );
  }
  const out: DType = { size: 0, count: 0, elems: [] };
  for (const entry of descr) {
    if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) {
      throw usage(
        `${param}: malformed .npy header: each field in 'descr' must be a tuple (name, dtype) or (name, dtype, shape), not ${repr(entry)}`,
      );
    }
    let name = entry[0]!;
    if (Array.isArray(name) && name.length === 2) name = name[1]!; // (title, name)
    if (typeof name !== 'string') {
      throw usage(`${param}: malformed .npy header: a field name in 'descr' must be a string, not ${repr(entry[0]!)}`);
    }
    const path = where ? `${where}.${name}` : name;
    const inner = dtypeFromDescr(entry[1]!, param, path, expand);
    const product = entry.length === 3 ? shapeProduct(entry[2]!, param, path) : null;
    const times = product ?? 1;
    // An unnamed field is padding (aligned structs write it as ('', '|V4')): it takes space only.
    if (name !== '') {
      out.count = capCount(out.count + inner.count * times);
      if (expand)
        out.elems.push(
          ...repeat(inner, times, product !== null, out.size, (segs, i) => [
            i === null ? name : `${name}${i}`,
            ...segs,
          ]),
        );
    }
    out.size = capSize(out.size + inner.size * times);
  }
  return out;
}

/**
 * Field names must be identifiers: letters of any script, digits and _ are kept as they are; other
 * characters (spaces, punctuation) become '_', a leading digit gets a '_' before it.
 */
function identifier(name: string): string {
  const s = name.replace(/[^\p{L}\p{M}\p{N}_]/gu, '_');
  return isName(s) ? s : `_${s}`;
}

// ---- the header --------------------------------------------------------------------------------

function decodeHeader(bytes: Uint8Array, major: number): string {
  if (major >= 3) return new TextDecoder('utf-8').decode(bytes);
  let s = ''; // latin1, byte for byte (TextDecoder's 'latin1' is windows-1252)
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

export interface NpyHeader {
  layout: Layout;
  shape: number[];
  /** shape[0], or 1 for a 0-d array */
  records: number;
}

/**
 * Read an .npy header into a layout. `head` is the start of the file (at least 64 KiB, or the whole
 * file); `param` is the file's name as messages should show it.
 *
 * A plain dtype is one field `value` (`value_re`/`value_im` for complex); a shape (N, k, …) makes
 * each record the k·… trailing values, `value0…`. Structured dtypes flatten: subarrays to
 * `name0…` (row-major), nested structs to `outer_inner`, unnamed ('') entries are padding.
 */
export function parseNpyHeader(head: Uint8Array, param: string): NpyHeader {
  const dataOffset = npyDataOffset(head, param);
  const major = head[6]!;
  const pre = major === 1 ? 10 : 12;
  if (dataOffset > head.length) {
    throw usage(
      `${param}: the .npy header is truncated: it says the data starts at byte ${dataOffset} but only ${head.length} bytes are there`,
    );
  }
  const text = decodeHeader(head.subarray(pre, dataOffset), major).trimEnd(); // numpy pads with spaces and '\n'
  const dict = new PyParser(text, param).parseAll();
  if (!(dict instanceof PyDict)) throw usage(`${param}: malformed .npy header: expected a dict, found ${repr(dict)}`);
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.map.has(key)) throw usage(`${param}: malformed .npy header: the key '${key}' is missing`);
  }
  const fortran = dict.map.get('fortran_order');
  if (typeof fortran !== 'boolean')
    throw usage(`${param}: malformed .npy header: 'fortran_order' must be True or False, not ${repr(fortran!)}`);
  const shapeV = dict.map.get('shape')!;
  if (!Array.isArray(shapeV) || !shapeV.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw usage(
      `${param}: malformed .npy header: 'shape' must be a tuple of non-negative integers, not ${repr(shapeV)}`,
    );
  }
  const shape = shapeV as number[];
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    throw usage(
      `${param}: Fortran-ordered arrays are not record-contiguous (shape ${repr(shape)}); save with np.ascontiguousarray`,
    );
  }
  const records = shape.length === 0 ? 1 : shape[0]!;
  const trailing = shape.slice(1);
  let perRecord = 1;
  for (const d of trailing) perRecord = capSize(perRecord * d);

  const descr = dict.map.get('descr')!;
  const dtype = dtypeFromDescr(descr, param, '', false);
  const recordSize = capSize(dtype.size * perRecord);
  if (recordSize === 0) {
    throw usage(
      `${param}: the .npy records are zero bytes long (descr ${repr(descr)}, shape ${repr(shape)}): nothing to process`,
    );
  }
  if (recordSize > MAX_RECORD_SIZE) {
    throw usage(`${param}: the .npy records (descr × shape ${repr(shape)}) are larger than ${MAX_RECORD_SIZE} bytes`);
  }
  let fields: Field[];
  let bigEndian = false;
  if (dtype.count * perRecord > MAX_NPY_FIELDS) {
    // Too many fields to list (an image stack, a huge subarray): the record is one opaque field.
    fields = [{ name: 'value', type: 'bytes', offset: 0, size: recordSize }];
  } else {
    const full = dtypeFromDescr(descr, param, '', true);
    const indexed = trailing.length > 0;
    const elems =
      typeof descr === 'string'
        ? repeat(full, perRecord, indexed, 0, (segs, i) => [i === null ? 'value' : `value${i}`, ...segs])
        : repeat(full, perRecord, indexed, 0, (segs, i) => (i === null ? segs : [`${segs[0]}${i}`, ...segs.slice(1)]));
    bigEndian = checkOneOrder(elems, param);
    fields = elems.map((e) => ({ name: identifier(e.segs.join('_')), type: e.type, offset: e.offset, size: e.size }));
    checkNames(elems, fields, param);
  }
  return {
    layout: {
      recordSize,
      bigEndian,
      fields,
      headerBytes: dataOffset,
      source: 'npy',
      expectedRecords: records,
      ...framesOf(descr, shape),
    },
    shape,
    records,
  };
}

/** An array of u8 of shape (N, H, W) or (N, H, W, C) with C = 1, 3 or 4 is a stack of frames. */
function framesOf(descr: Py, shape: number[]): Pick<Layout, 'frame'> {
  if (typeof descr !== 'string' || !/^[<>|=]?u1$/.test(descr) || (shape.length !== 3 && shape.length !== 4)) return {};
  const [height, width, channels = 1] = shape.slice(1) as [number, number, number?];
  if (height < 1 || width < 1 || (channels !== 1 && channels !== 3 && channels !== 4)) return {};
  return { frame: { width, height, channels } };
}

/** Layout has one byte-order flag: every multi-byte number must agree. Returns bigEndian. */
function checkOneOrder(elems: Elem[], param: string): boolean {
  const name = (e: Elem) => e.segs.join('_') || 'value';
  const big = elems.filter((e) => e.order === 'big' && e.type !== 'bytes' && e.size > 1);
  const little = elems.filter((e) => e.order === 'little' && e.type !== 'bytes' && e.size > 1);
  if (big.length > 0 && little.length > 0) {
    const list = (es: Elem[]) => es.slice(0, 3).map(name).join(', ') + (es.length > 3 ? ', …' : '');
    throw usage(
      `${param}: the .npy fields mix byte orders (big-endian: ${list(big)}; little-endian: ${list(little)}); ` +
        `bigproc needs one order per record: save with arr.astype(arr.dtype.newbyteorder("<"))`,
    );
  }
  return big.length > 0;
}

/** Names made identifiers may collide ('a b' and 'a_b'): say which original names did. */
function checkNames(elems: Elem[], fields: Field[], param: string): void {
  const seen = new Map<string, string>();
  fields.forEach((f, i) => {
    const original = elems[i]!.segs.join('_');
    const prior = seen.get(f.name);
    if (prior !== undefined) {
      const how =
        prior === original
          ? `${JSON.stringify(original)} appears twice`
          : `${JSON.stringify(prior)} and ${JSON.stringify(original)} both become ${JSON.stringify(f.name)}`;
      throw usage(`${param}: the .npy field names clash: ${how} (field names are letters, digits and _)`);
    }
    seen.set(f.name, original);
  });
  checkUniqueNames(fields, param);
}

// ---- writing (test fixtures) -------------------------------------------------------------------

function pyString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function pyShape(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Frame an already-written header dict (`{'descr': …, 'fortran_order': …, 'shape': …, }`) as an
 * .npy file: magic, version, length, the dict padded with spaces and a '\n' so the data starts at a
 * multiple of 64, then `data`.
 */
export function writeNpyRaw(header: string, data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  let bytes: Uint8Array;
  if (version === 3) bytes = new TextEncoder().encode(header);
  else {
    bytes = Uint8Array.from(header, (c) => {
      const code = c.charCodeAt(0);
      if (code > 0xff) throw new RangeError(`writeNpy: the header needs format version 3 for ${JSON.stringify(c)}`);
      return code;
    });
  }
  const pre = version === 1 ? 10 : 12;
  const pad = (64 - ((pre + bytes.length + 1) % 64)) % 64;
  const headerLen = bytes.length + pad + 1;
  if (version === 1 && headerLen > 0xffff)
    throw new RangeError('writeNpy: the header is too long for format version 1');
  const out = new Uint8Array(pre + headerLen + data.length);
  out.set(NPY_MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  out.set(bytes, pre);
  out.fill(0x20, pre + bytes.length, pre + headerLen - 1);
  out[pre + headerLen - 1] = 0x0a;
  out.set(data, pre + headerLen);
  return out;
}

/** Write a small .npy file the way numpy does (used by tests and demos). */
export function writeNpy(
  descr: string | [string, string][],
  shape: number[],
  data: Uint8Array,
  version: 1 | 2 | 3 = 1,
  fortranOrder = false,
): Uint8Array {
  const d =
    typeof descr === 'string'
      ? pyString(descr)
      : `[${descr.map(([n, t]) => `(${pyString(n)}, ${pyString(t)})`).join(', ')}]`;
  return writeNpyRaw(
    `{'descr': ${d}, 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${pyShape(shape)}, }`,
    data,
    version,
  );
}

/** NumPy's type string for one field: '<f8', '>i4', '|u1', '|V5' for opaque bytes. */
function npyTypeOf(f: Field, bigEndian: boolean): string {
  if (f.type === 'bytes') return `|V${f.size}`;
  const kind = f.type[0] === 'f' ? 'f' : f.type[0] === 'u' ? 'u' : 'i';
  return `${f.size === 1 ? '|' : bigEndian ? '>' : '<'}${kind}${f.size}`;
}

/** A structured descr for a layout: its fields in order, unnamed '|V' entries for padding between them. */
function npyDescrOf(layout: Layout): [string, string][] {
  const descr: [string, string][] = [];
  let at = 0;
  for (const f of [...layout.fields].sort((a, b) => a.offset - b.offset)) {
    if (f.offset > at) descr.push(['', `|V${f.offset - at}`]);
    descr.push([f.name, npyTypeOf(f, layout.bigEndian)]);
    at = f.offset + f.size;
  }
  if (layout.recordSize > at) descr.push(['', `|V${layout.recordSize - at}`]);
  return descr;
}

/**
 * The .npy header (magic to the newline before the data) of `records` records of `layout`, as NumPy
 * writes it: frames as (N, H, W[, C]) u8, opaque records as '|V<size>', any other layout as a
 * structured dtype. Format 1.0 unless the header needs more room (2.0) or non-latin-1 names (3.0).
 */
export function npyHeaderFor(layout: Layout, records: number): Uint8Array {
  const f = layout.frame;
  const header = f
    ? `{'descr': '|u1', 'fortran_order': False, 'shape': ${pyShape([records, f.height, f.width, ...(f.channels > 1 ? [f.channels] : [])])}, }`
    : layout.fields.length === 0
      ? `{'descr': '|V${layout.recordSize}', 'fortran_order': False, 'shape': ${pyShape([records])}, }`
      : `{'descr': [${npyDescrOf(layout)
          .map(([n, t]) => `(${pyString(n)}, ${pyString(t)})`)
          .join(', ')}], 'fortran_order': False, 'shape': ${pyShape([records])}, }`;
  const latin1 = [...header].every((c) => c.charCodeAt(0) <= 0xff);
  const version = !latin1 ? 3 : header.length + 11 > 0xffff ? 2 : 1;
  return writeNpyRaw(header, new Uint8Array(0), version);
}
