#!/usr/bin/env node
// Start the worker pool first (a thread takes ~40 ms to boot, which then overlaps loading the CLI),
// then run the CLI.
const args = process.argv.slice(2);
const { prestartForArgs } = await import('../dist/pool.mjs');
prestartForArgs(args);
const { main } = await import('../dist/cli.mjs');
await main(args);
