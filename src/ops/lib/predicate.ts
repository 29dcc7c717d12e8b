// The --where language: comparisons of a field with a numeric literal, combined with && || ! and
// parentheses. Parsed into an AST (never eval'd), checked against the layout, then lowered to a
// postfix program of exact comparisons that both the native and the JS backends execute.
import type { Layout, NumericType } from '../../layout/types.js';
import { isFloat } from '../../layout/types.js';
import { usage } from '../../errors.js';
import { namePrefix } from '../../layout/fields.js';
import { INT_RANGE, numericField, numberReader, bigReader } from './fields.js';

export type Cmp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

export type Expr =
  | { kind: 'cmp'; field: string; cmp: Cmp; literal: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'not'; arg: Expr }
  | { kind: 'and' | 'or'; left: Expr; right: Expr };

/**
 * One instruction of the postfix program both backends run (native/predicate.cc parses the same); the
 * program must leave exactly one value. A cmp compares a field with a constant: a bigint within the
 * type's range for integer types, a number for f32/f64; bigEndian left out means little-endian.
 */
export type Instr =
  | { op: 'cmp'; offset: number; type: NumericType; bigEndian?: boolean; cmp: Cmp; value: number | bigint }
  | { op: 'const'; value: boolean }
  | { op: 'and' }
  | { op: 'or' }
  | { op: 'not' };

const CMP_TOKENS: Record<string, Cmp> = {
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '=': 'eq',
  '!=': 'ne',
};
const FLIP: Record<Cmp, Cmp> = { lt: 'gt', le: 'ge', gt: 'lt', ge: 'le', eq: 'eq', ne: 'ne' };

interface Token {
  kind: 'ident' | 'num' | 'op' | 'end';
  text: string;
  pos: number;
}

const NUMBER_RE =
  /^[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)(?![\p{L}\p{M}\p{N}_])/iu;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const two = rest.slice(0, 2);
    if (['<=', '>=', '==', '!=', '&&', '||'].includes(two)) {
      out.push({ kind: 'op', text: two, pos: i });
      i += 2;
      continue;
    }
    if ('<>=!()'.includes(c)) {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    // A sign belongs to a number only where an operand is expected (after an operator or at the start).
    const prev = out[out.length - 1];
    const operandExpected =
      !prev ||
      (prev.kind === 'op' && prev.text !== ')') ||
      (prev.kind === 'ident' && /^(and|or|not)$/i.test(prev.text));
    const num = operandExpected || /[0-9.]/.test(c) ? NUMBER_RE.exec(rest) : null;
    if (num && !(namePrefix(c) !== '' && !/^(inf|infinity|nan)$/i.test(num[0]))) {
      out.push({ kind: 'num', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = namePrefix(rest);
    if (id !== '') {
      out.push({ kind: 'ident', text: id, pos: i });
      i += id.length;
      continue;
    }
    throw usage(
      `Expected a field, a number or one of < <= > >= == != && || ! ( ) at position ${i + 1} in --where but received ${JSON.stringify(c)}`,
    );
  }
  out.push({ kind: 'end', text: 'end of input', pos: src.length });
  return out;
}

/** Parse a --where expression into an AST. */
export function parsePredicate(src: string): Expr {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k]!;
  const fail = (what: string): never => {
    const t = peek();
    throw usage(
      `Expected ${what} at position ${t.pos + 1} in --where ${JSON.stringify(src)} but received ${t.kind === 'end' ? 'end of input' : JSON.stringify(t.text)}`,
    );
  };
  const isWord = (t: Token, w: string) => t.kind === 'ident' && t.text.toLowerCase() === w;
  const orExpr = (): Expr => {
    let left = andExpr();
    while (peek().text === '||' || isWord(peek(), 'or')) {
      k++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Expr => {
    let left = unary();
    while (peek().text === '&&' || isWord(peek(), 'and')) {
      k++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): Expr => {
    if (peek().text === '!' || isWord(peek(), 'not')) {
      k++;
      return { kind: 'not', arg: unary() };
    }
    if (peek().text === '(') {
      k++;
      const e = orExpr();
      if (peek().text !== ')') fail("')'");
      k++;
      return e;
    }
    if (isWord(peek(), 'true') || isWord(peek(), 'false')) {
      const v = isWord(peek(), 'true');
      k++;
      return { kind: 'bool', value: v };
    }
    return comparison();
  };
  const comparison = (): Expr => {
    const a = peek();
    if (a.kind !== 'ident' && a.kind !== 'num') fail('a field name or a number');
    k++;
    const opTok = peek();
    const cmp = CMP_TOKENS[opTok.text];
    if (opTok.kind !== 'op' || !cmp) fail('a comparison (< <= > >= == !=)');
    k++;
    const b = peek();
    if (b.kind !== 'ident' && b.kind !== 'num') fail('a field name or a number');
    k++;
    if (a.kind === 'ident' && b.kind === 'num') return { kind: 'cmp', field: a.text, cmp: cmp!, literal: b.text };
    if (a.kind === 'num' && b.kind === 'ident') return { kind: 'cmp', field: b.text, cmp: FLIP[cmp!], literal: a.text };
    throw usage(
      `Expected a comparison of a field with a number at position ${a.pos + 1} in --where ${JSON.stringify(src)} but received ${JSON.stringify(`${a.text} ${opTok.text} ${b.text}`)}`,
    );
  };
  const e = orExpr();
  if (peek().kind !== 'end') fail('&&, || or the end of the expression');
  return e;
}

/** A literal's exact value: a rational num/den (den > 0), or a non-finite double (inf, nan). */
type Exact = { num: bigint; den: bigint } | number;

function literalValue(text: string): Exact {
  const t = text.toLowerCase().replace(/^\+/, '');
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  if (/^inf(inity)?$/.test(body)) return neg ? -Infinity : Infinity;
  if (body === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(body)) return { num: neg ? -BigInt(body) : BigInt(body), den: 1n };
  const m = /^(\d*)\.?(\d*)(?:e([+-]?\d+))?$/.exec(body)!;
  const digits = BigInt(`${m[1]}${m[2]}` || '0');
  // Exponents this far out only matter through their sign: clamp so the BigInts stay small.
  const exp = Math.max(-10000, Math.min(10000, Number(m[3] ?? '0'))) - m[2]!.length;
  if (exp > 9000 && digits !== 0n) return neg ? -Infinity : Infinity;
  const num = (neg ? -digits : digits) * (exp > 0 ? 10n ** BigInt(exp) : 1n);
  return { num, den: exp < 0 ? 10n ** BigInt(-exp) : 1n };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** The literal as the nearest double (float fields compare against that, as C would). */
function literalDouble(text: string): number {
  const v = literalValue(text);
  if (typeof v === 'number') return v;
  return /0x/i.test(text) ? Number(v.num) : Number(text.replace(/^\+/, ''));
}

/** Lower one integer comparison to an exact in-range comparison or a constant. */
function lowerIntCmp(
  type: Exclude<NumericType, 'f32' | 'f64'>,
  cmp: Cmp,
  lit: Exact,
): { cmp: Cmp; k: bigint } | boolean {
  let k: bigint;
  if (typeof lit === 'number') {
    if (Number.isNaN(lit)) return cmp === 'ne';
    if (lit === Infinity) return cmp === 'lt' || cmp === 'le' || cmp === 'ne';
    return cmp === 'gt' || cmp === 'ge' || cmp === 'ne'; // -Infinity
  }
  if (lit.num % lit.den === 0n) {
    k = lit.num / lit.den;
  } else {
    if (cmp === 'eq') return false;
    if (cmp === 'ne') return true;
    // x < 2.5 ⇔ x <= 2; x > 2.5 ⇔ x >= 3
    const fl = floorDiv(lit.num, lit.den);
    if (cmp === 'lt' || cmp === 'le') {
      cmp = 'le';
      k = fl;
    } else {
      cmp = 'ge';
      k = fl + 1n;
    }
  }
  if (cmp === 'lt') {
    cmp = 'le';
    k -= 1n;
  }
  if (cmp === 'gt') {
    cmp = 'ge';
    k += 1n;
  }
  const [min, max] = INT_RANGE[type];
  switch (cmp) {
    case 'le':
      return k >= max ? true : k < min ? false : { cmp, k };
    case 'ge':
      return k <= min ? true : k > max ? false : { cmp, k };
    case 'eq':
      return k < min || k > max ? false : { cmp, k };
    default:
      return k < min || k > max ? true : { cmp, k };
  }
}

/** Check the AST against the layout and lower it to a postfix program. */
export function compilePredicate(expr: Expr, layout: Layout): Instr[] {
  const out: Instr[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'bool':
        out.push({ op: 'const', value: e.value });
        return;
      case 'not':
        walk(e.arg);
        out.push({ op: 'not' });
        return;
      case 'and':
      case 'or':
        walk(e.left);
        walk(e.right);
        out.push({ op: e.kind });
        return;
      case 'cmp': {
        const f = numericField(layout, e.field, '--where field');
        const type = f.type as NumericType;
        if (isFloat(type)) {
          out.push({
            op: 'cmp',
            offset: f.offset,
            type,
            bigEndian: layout.bigEndian,
            cmp: e.cmp,
            value: literalDouble(e.literal),
          });
          return;
        }
        const lowered = lowerIntCmp(type as Exclude<NumericType, 'f32' | 'f64'>, e.cmp, literalValue(e.literal));
        if (typeof lowered === 'boolean') out.push({ op: 'const', value: lowered });
        else
          out.push({
            op: 'cmp',
            offset: f.offset,
            type,
            bigEndian: layout.bigEndian,
            cmp: lowered.cmp,
            value: lowered.k,
          });
        return;
      }
    }
  };
  walk(expr);
  return out;
}

export type RecordTest = (dv: DataView, base: number) => boolean;

function compare(cmp: Cmp): <T extends number | bigint>(x: T, k: T) => boolean {
  switch (cmp) {
    case 'lt':
      return (x, k) => x < k;
    case 'le':
      return (x, k) => x <= k;
    case 'gt':
      return (x, k) => x > k;
    case 'ge':
      return (x, k) => x >= k;
    case 'eq':
      return (x, k) => x === k;
    case 'ne':
      return (x, k) => x !== k;
  }
}

/** The JS backend's evaluator: the program turned into closures (no eval). */
export function programToTest(program: Instr[]): RecordTest {
  const stack: RecordTest[] = [];
  for (const ins of program) {
    switch (ins.op) {
      case 'const': {
        const v = ins.value;
        stack.push(() => v);
        break;
      }
      case 'not': {
        const a = stack.pop()!;
        stack.push((dv, b) => !a(dv, b));
        break;
      }
      case 'and': {
        const r = stack.pop()!,
          l = stack.pop()!;
        stack.push((dv, b) => l(dv, b) && r(dv, b));
        break;
      }
      case 'or': {
        const r = stack.pop()!,
          l = stack.pop()!;
        stack.push((dv, b) => l(dv, b) || r(dv, b));
        break;
      }
      case 'cmp': {
        const c = compare(ins.cmp);
        const off = ins.offset;
        if (ins.type === 'i64' || ins.type === 'u64') {
          const read = bigReader(ins.type, ins.bigEndian === true);
          const k = ins.value as bigint;
          stack.push((dv, b) => c(read(dv, b + off), k));
        } else {
          const read = numberReader(ins.type, ins.bigEndian === true);
          const k = Number(ins.value);
          stack.push((dv, b) => c(read(dv, b + off), k));
        }
        break;
      }
    }
  }
  if (stack.length !== 1) throw new Error('internal: malformed predicate program');
  return stack[0]!;
}
