import { after, before } from 'node:test';
import pg from 'pg';
import { skipUnless } from '../../test/helpers/real-clients.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../test/index-server-postgres.js';
import { PostgresIndexStore } from './postgres-store.js';
import { runStoreConformance } from './store.conformance.js';

// One throwaway cluster for this file; each conformance test gets its own database.
const skip = skipUnless('postgres');
if (skip === false) {
  let cluster: ThrowawayPostgres | undefined;
  let n = 0;
  before(async () => {
    cluster = await startThrowawayPostgres();
  });
  after(() => cluster?.stop());
  runStoreConformance('postgres', async () => {
    if (!cluster) throw new Error('cluster not started');
    const db = `conf_${n++}`;
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    return PostgresIndexStore.open({
      connectionString: cluster.url.replace(/\/postgres$/, `/${db}`),
      maxConnections: 2,
    });
  });
}
