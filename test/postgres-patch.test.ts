// The one patch we apply to a dependency (patches/, by patch-package at npm install): postgres.js 3.4.9 keeps its
// connection queues in arrays that gain a hole at every shift() and are emptied only when a queue drains, while every
// move of a connection between queues runs indexOf over the whole array. Under steady load a queue never drains, so
// CPU per query grew without bound (27 → 94 µs in 20 s of `SELECT 1` at 32 concurrent on 10 connections; flat at
// 17-18 µs patched: bench/README.md). This fails when postgres.js changes (then re-check upstream and remake or drop
// the patch) or when the patch is not applied, and checks that the patched queue still behaves as a queue.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/main';

const require = createRequire(import.meta.url);
/** postgres.js's package folder (its CommonJS entry is cjs/src/index.js). */
const postgresDir = join(require.resolve('postgres'), '..', '..', '..');
const installed = (JSON.parse(readFileSync(join(postgresDir, 'package.json'), 'utf8')) as { version: string }).version;

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

describe('postgres.js connection queues (patches/postgres+<version>.patch)', () => {
  it('patches the version installed, which package.json pins exactly', () => {
    const patches = readdirSync(join(repoRoot, 'patches')).filter((name) => name.startsWith('postgres+'));
    expect(patches).toEqual([`postgres+${installed}.patch`]);
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).dependencies.postgres).toBe(installed);
  });

  for (const file of ['src/queue.js', 'cjs/src/queue.js']) {
    it(`${file}: applied, and still a queue: first in first out, remove, length, across many compactions`, async () => {
      const source = readFileSync(join(postgresDir, file), 'utf8');
      expect(source).toContain('xs.indexOf(x, index)');
      expect(source).toContain('xs = xs.slice(index)');
      const module = file.startsWith('cjs') ? require(join(postgresDir, file)) : await import(pathToFileURL(join(postgresDir, file)).href);
      const Queue = (module.default ?? module) as () => Queue<{ id: number }>;
      const queue = Queue();
      const items = Array.from({ length: 10_000 }, (_, id) => ({ id }));
      // A queue that never drains (always two waiting), as a busy pool's: what comes out is what went in, in order.
      queue.push(items[0]);
      queue.push(items[1]);
      const out: number[] = [];
      for (let i = 2; i < items.length; i++) {
        queue.push(items[i]);
        out.push(queue.shift()!.id);
        expect(queue.length).toBe(2);
      }
      expect(out).toEqual(items.slice(0, items.length - 2).map((item) => item.id));
      // remove: a waiting item (from the middle), one already shifted out (not there), and then the rest in order.
      const extra = [{ id: -1 }, { id: -2 }, { id: -3 }];
      for (const item of extra) queue.push(item);
      expect(queue.remove(extra[1])).toBe(extra[1]);
      expect(queue.remove(items[5])).toBeNull();
      expect(queue.length).toBe(4);
      expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()].map((item) => item!.id)).toEqual([9_998, 9_999, -1, -3]);
      expect(queue.length).toBe(0);
      expect(queue.shift()).toBeUndefined();
    });
  }
});
