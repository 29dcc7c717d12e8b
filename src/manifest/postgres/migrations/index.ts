// The manifest's schema, as numbered migrations: 0001_init.sql, 0002_….sql, … — only ever appended,
// each applied once, in order, in a transaction of its own (migrate.ts). The .sql files are inlined
// into the bundle as text at build time (scripts/build.mjs), so bigproc stays one file.
import m0001 from './0001_init.sql';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: '0001_init', sql: m0001 }];

/** The schema version this bigproc writes and reads. */
export const LATEST = MIGRATIONS[MIGRATIONS.length - 1]!.version;
