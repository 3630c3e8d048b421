// What a connection resolver returns holds no object literal with getters. V8 keeps such a literal's getters in a
// pair it allocates in the old generation, one per object, and that pair, dead once the request ends, kept the whole
// request's result alive through every young-generation collection until the next full one (connection.ts,
// LazyPageInfo). V8's own test, %HasFastProperties, tells such an object: its properties go to a dictionary.
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

it('a connection result and its pageInfo keep fast properties, and the cursors still read lazily', () => {
  const script = `
    const { connectionResult } = await import(${JSON.stringify(pathToFileURL('src/schema/connection.ts').href)});
    let encoded = 0;
    const edge = (node) => ({ node, get cursor() { encoded++; return 'c' + node; } });
    const page = { edges: [edge(1), edge(2), edge(3)], hasNextPage: true, hasPreviousPage: false, page: 1, first: 3 };
    const result = connectionResult(page, {
      noun: 'things', kind: 'rows', filter: {}, summary: async () => ({ total: 7 }), total: (s) => s.total,
      speak: (s) => 'I found ' + s.total + ' things.', freshness: async () => null,
    });
    const before = encoded;
    const info = result.pageInfo;
    console.log(JSON.stringify({
      resultFast: %HasFastProperties(result), pageInfoFast: %HasFastProperties(info), encodedBefore: before,
      start: info.startCursor, end: info.endCursor, next: info.hasNextPage, previous: info.hasPreviousPage,
      encodedAfter: encoded, total: await result.totalCount(),
    }));
  `;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({
    resultFast: true,
    pageInfoFast: true,
    encodedBefore: 0,
    start: 'c1',
    end: 'c3',
    next: true,
    previous: false,
    encodedAfter: 2,
    total: 7,
  });
});
