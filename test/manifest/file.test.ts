// The manifest contract against the directory backend (file:DIR): several FileStore handles on one
// directory stand in for hosts sharing it over NFS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/manifest/file.js';
import { manifestSuite } from './suite.js';

const root = mkdtempSync(join(tmpdir(), 'bigproc-filestore-'));

manifestSuite('file:DIR', async () => ({
  store: async () => new FileStore(root),
  cleanup: async () => rmSync(root, { recursive: true, force: true }),
}));
