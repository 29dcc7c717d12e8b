// A .sql file imported as its text: esbuild's text loader at build time (scripts/build.mjs), a small
// Vite plugin under vitest (vitest.config.ts).
declare module '*.sql' {
  const text: string;
  export default text;
}
