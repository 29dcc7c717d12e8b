// Importing an ES module by URL (a user's --kernel). The CLI bundle runs as a vm.Script compiled from
// V8's code cache (see bin/bigproc.mjs), where import() has no module loader behind it, so the bundle
// is built with dynamic imports turned into require() — fine for bundled code and CommonJS packages,
// not for a user's ES module. bin/bigproc.mjs, itself an ES module, hands in an import() that works;
// everywhere else (the worker threads, tests running the sources) the default is the real thing.
let importer: (url: string) => Promise<unknown> = (url) => import(url);

export function setImporter(f: (url: string) => Promise<unknown>): void {
  importer = f;
}

export function importEsm(url: string): Promise<unknown> {
  return importer(url);
}
