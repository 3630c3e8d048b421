// For bench/rls.ts: a postgres.js client whose every query runs as BEGIN; set_config('udc.tenant', tenant, true);
// query; COMMIT, the setting and the query pipelined in one round trip (what row-level security keyed by a
// per-transaction setting costs each statement on pooled connections).
import type postgres from 'postgres';

export function inTenantTransactions(sql: postgres.Sql, tenant: string): postgres.Sql {
  const unsafe = (query: string, parameters?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const run = (asValues: boolean) =>
      sql
        .begin((tx) => {
          const statement = tx.unsafe(query, parameters as postgres.ParameterOrJSON<never>[], { ...options, prepare: true });
          return [tx`SELECT set_config('udc.tenant', ${tenant}, true)`, asValues ? statement.values() : statement];
        })
        .then((results) => results[1]);
    // drizzle awaits the query, or asks for its rows as arrays with .values().
    return { values: () => run(true), then: (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => run(false).then(resolve, reject) };
  };
  return new Proxy(sql, { get: (target, property, receiver) => (property === 'unsafe' ? unsafe : Reflect.get(target, property, receiver)) });
}
