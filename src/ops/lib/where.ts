// --where: the flag, declared once for every op that reads it, and its text compiled into the postfix
// program both backends run (the language itself is in predicate.ts).
import type { Layout } from '../../layout/types.js';
import type { OpFlag, OpOptions } from '../types.js';
import { usage } from '../../errors.js';
import { type Instr, compilePredicate, parsePredicate } from './predicate.js';

export const WHERE_FLAG: OpFlag = {
  flags: '--where <expr>',
  description:
    "filter: predicate, e.g. 'price > 110 && (side == 1 || qty < 5)'; framestats: over its row, e.g. 'mean < 10'",
};

export interface Where {
  /** the expression as the user wrote it */
  where: string;
  program: Instr[];
}

/** Parse and check an expression against the layout. */
export function compileWhere(text: string, layout: Layout): Instr[] {
  return compilePredicate(parsePredicate(text), layout);
}

/** --where when given (an empty expression is a usage error), else null. */
export function optionalWhere(options: OpOptions, layout: Layout): Where | null {
  if (options.where === undefined) return null;
  const where = String(options.where);
  if (where.trim() === '') throw usage("--where needs an expression, e.g. --where 'price > 110 && side == 1'");
  return { where, program: compileWhere(where, layout) };
}
