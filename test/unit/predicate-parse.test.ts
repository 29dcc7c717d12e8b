// parsePredicate: the --where grammar (precedence ! > && > ||, parentheses, word operators, literals
// on either side, signed / hex / inf / nan literals) and its errors.
import { describe, expect, it } from 'vitest';
import { type Expr, parsePredicate } from '../../src/ops/lib/predicate.js';
import { BigprocError } from '../../src/errors.js';

const cmp = (field: string, c: string, literal: string): Expr => ({ kind: 'cmp', field, cmp: c as never, literal });
const and = (left: Expr, right: Expr): Expr => ({ kind: 'and', left, right });
const or = (left: Expr, right: Expr): Expr => ({ kind: 'or', left, right });
const not = (arg: Expr): Expr => ({ kind: 'not', arg });

function whereError(src: string): BigprocError {
  try {
    parsePredicate(src);
  } catch (e) {
    expect(e).toBeInstanceOf(BigprocError);
    const err = e as BigprocError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--where');
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error(`expected ${JSON.stringify(src)} to be rejected, but it parsed`);
}

describe('parsePredicate: comparisons', () => {
  it.each([
    ['a < 3', cmp('a', 'lt', '3')],
    ['a <= 3', cmp('a', 'le', '3')],
    ['a > 3', cmp('a', 'gt', '3')],
    ['a >= 3', cmp('a', 'ge', '3')],
    ['a == 3', cmp('a', 'eq', '3')],
    ['a = 3', cmp('a', 'eq', '3')],
    ['a != 3', cmp('a', 'ne', '3')],
    ['price>110', cmp('price', 'gt', '110')],
    ['  price   >   110  ', cmp('price', 'gt', '110')],
    ['_x9 < 1', cmp('_x9', 'lt', '1')],
  ])('%j', (src, ast) => {
    expect(parsePredicate(src)).toEqual(ast);
  });

  it.each([
    ['3 < a', cmp('a', 'gt', '3')],
    ['3 <= a', cmp('a', 'ge', '3')],
    ['3 > a', cmp('a', 'lt', '3')],
    ['3 >= a', cmp('a', 'le', '3')],
    ['3 == a', cmp('a', 'eq', '3')],
    ['3 != a', cmp('a', 'ne', '3')],
    ['-3 >= a', cmp('a', 'le', '-3')],
    ['-2.5<a', cmp('a', 'gt', '-2.5')],
    ['inf > a', cmp('a', 'lt', 'inf')],
    ['0x10 <= a', cmp('a', 'ge', '0x10')],
  ])('a literal on the left flips the comparison: %j', (src, ast) => {
    expect(parsePredicate(src)).toEqual(ast);
  });

  it.each([
    ['a < -3', '-3'],
    ['a<-3', '-3'],
    ['a < +3', '+3'],
    ['a < 2.5', '2.5'],
    ['a < .5', '.5'],
    ['a < 5.', '5.'],
    ['a < -.5', '-.5'],
    ['a < 1e5', '1e5'],
    ['a < 1.5E-3', '1.5E-3'],
    ['a < -2e+10', '-2e+10'],
    ['a < 0x1F', '0x1F'],
    ['a < 0XfF', '0XfF'],
    ['a < -0x10', '-0x10'],
    ['a < inf', 'inf'],
    ['a < -inf', '-inf'],
    ['a < +Infinity', '+Infinity'],
    ['a < INF', 'INF'],
    ['a == nan', 'nan'],
    ['a != NaN', 'NaN'],
    ['a < 18446744073709551616', '18446744073709551616'],
  ])('literal forms: %j', (src, lit) => {
    expect(parsePredicate(src)).toEqual(cmp('a', src.includes('==') ? 'eq' : src.includes('!=') ? 'ne' : 'lt', lit));
  });

  it('identifiers that merely start like a number keyword stay fields', () => {
    expect(parsePredicate('nan_count > 1')).toEqual(cmp('nan_count', 'gt', '1'));
    expect(parsePredicate('infx < 2')).toEqual(cmp('infx', 'lt', '2'));
    expect(parsePredicate('e1 < 2')).toEqual(cmp('e1', 'lt', '2'));
    expect(parsePredicate('x < 1 && nanx > 2')).toEqual(and(cmp('x', 'lt', '1'), cmp('nanx', 'gt', '2')));
  });

  it('a sign after a field is not part of a number', () => {
    whereError('a -3 < 4');
    whereError('a<3-1');
  });
});

describe('parsePredicate: boolean structure', () => {
  const A = cmp('a', 'lt', '1');
  const B = cmp('b', 'lt', '2');
  const C = cmp('c', 'lt', '3');

  it.each([
    ['a<1 || b<2 && c<3', or(A, and(B, C))],
    ['a<1 && b<2 || c<3', or(and(A, B), C)],
    ['(a<1 || b<2) && c<3', and(or(A, B), C)],
    ['a<1 && (b<2 || c<3)', and(A, or(B, C))],
    ['!a<1 && b<2', and(not(A), B)],
    ['!(a<1 && b<2)', not(and(A, B))],
    ['!!a<1', not(not(A))],
    ['! ! a < 1', not(not(A))],
    ['a<1 && b<2 && c<3', and(and(A, B), C)],
    ['a<1 || b<2 || c<3', or(or(A, B), C)],
    ['((a<1))', A],
    ['!a<1 || !b<2 && !c<3', or(not(A), and(not(B), not(C)))],
    ['a<1&&b<2||c<3', or(and(A, B), C)],
    ['(a<1)||(b<2)', or(A, B)],
  ])('%j', (src, ast) => {
    expect(parsePredicate(src)).toEqual(ast);
  });

  it.each([
    ['a<1 or b<2 and c<3', or(A, and(B, C))],
    ['a<1 and b<2 or c<3', or(and(A, B), C)],
    ['not a<1 and b<2', and(not(A), B)],
    ['not (a<1 and b<2)', not(and(A, B))],
    ['not not a<1', not(not(A))],
    ['a<1 AND b<2 Or c<3', or(and(A, B), C)],
    ['NOT a<1', not(A)],
    ['a<1 or(b<2)', or(A, B)],
    ['a<1 && b<2 or c<3', or(and(A, B), C)],
  ])('word operators: %j', (src, ast) => {
    expect(parsePredicate(src)).toEqual(ast);
  });

  it('true and false', () => {
    expect(parsePredicate('true')).toEqual({ kind: 'bool', value: true });
    expect(parsePredicate('FALSE')).toEqual({ kind: 'bool', value: false });
    expect(parsePredicate('not true || a < 1')).toEqual(or(not({ kind: 'bool', value: true }), A));
  });
});

describe('parsePredicate: word operators before a literal on the left', () => {
  // `and/or/not` are documented as equivalent to `&& || !`, so a literal on the left of a
  // comparison must be accepted after them exactly as after the symbols.
  it.each([
    ['not -3 < a', '! -3 < a'],
    ['a < 1 and -3 < b', 'a < 1 && -3 < b'],
    ['a < 1 or +3 > b', 'a < 1 || +3 > b'],
    ['not inf > a', '! inf > a'],
    ['a < 1 or nan != b', 'a < 1 || nan != b'],
    ['a < 1 and -0x10 < b', 'a < 1 && -0x10 < b'],
  ])('%j parses like %j', (words, symbols) => {
    expect(parsePredicate(words)).toEqual(parsePredicate(symbols));
  });
});

describe('parsePredicate: errors (exit 2, mentioning --where and the position)', () => {
  it('a missing operand', () => {
    const err = whereError('price >');
    expect(err.message).toContain('position 8');
    expect(err.message).toContain('end of input');
    expect(err.message).toContain('"price >"');
  });

  it('a doubled operator', () => {
    const err = whereError('price > > 3');
    expect(err.message).toContain('position 9');
    expect(err.message).toContain('">"');
  });

  it('two fields', () => {
    const err = whereError('a == b');
    expect(err.message).toContain('position 1');
    expect(err.message).toMatch(/field with a number/);
    expect(err.message).toContain('a == b');
  });

  it('two numbers', () => {
    const err = whereError('3 < 4');
    expect(err.message).toMatch(/field with a number/);
    const err2 = whereError('a < 1 && 3 < 4');
    expect(err2.message).toContain('position 10');
  });

  it('unbalanced parentheses', () => {
    const err = whereError('(a < 3');
    expect(err.message).toContain("')'");
    expect(err.message).toContain('position 7');
    const err2 = whereError('a < 3)');
    expect(err2.message).toContain('position 6');
    expect(err2.message).toContain('")"');
    whereError('()');
    whereError('(a < 3))');
  });

  it('junk after a complete expression', () => {
    const err = whereError('a < 3 b');
    expect(err.message).toContain('position 7');
    expect(err.message).toContain('"b"');
    whereError('a < 3 4');
    whereError('a < 3 < 4');
  });

  it('a missing comparison', () => {
    const err = whereError('a');
    expect(err.message).toMatch(/comparison/);
    expect(err.message).toContain('end of input');
    whereError('a 3');
    whereError('a && b');
    whereError('a === 3');
    whereError('a <> 3');
    whereError('a =< 3');
  });

  it('dangling boolean operators', () => {
    whereError('a < 3 &&');
    whereError('&& a < 3');
    whereError('a < 3 ||');
    whereError('!');
    whereError('a < 3 and');
    whereError('not');
  });

  it('empty input', () => {
    const err = whereError('');
    expect(err.message).toContain('position 1');
    whereError('   ');
  });

  it('characters outside the language, with their position', () => {
    const err = whereError('a < 3 # b');
    expect(err.message).toContain('position 7');
    expect(err.message).toContain('"#"');
    whereError('a < 3 & b < 2');
    whereError('a < 3 | b < 2');
    whereError('a < 3 &&& b < 2');
    whereError('a.b < 3');
    whereError("a < '3'");
    whereError('a < 1_000');
    whereError('a < 0x');
    whereError('a < 3; drop table');
    whereError('process.exit(1)');
  });
});
