// The patch to @pothos/core (patches/, by patch-package at npm install): createContextCache keeps each request's entry
// on the context object under a symbol of the cache's own instead of in a WeakMap keyed by the context. Pothos's
// dataloaders make several such entries per request, and a WeakMap entry per request costs the garbage collector a few
// µs (the nested question: -8 % server CPU per request in two interleaved A/B runs; bench/README.md). This fails when
// @pothos/core changes (then re-check upstream and remake or drop the patch) or when the patch is not applied, and
// checks that the cache still behaves as Pothos documents it: one entry per context, shared through initContextCache.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/main';

const require = createRequire(import.meta.url);
/** @pothos/core's package folder (its CommonJS entry is lib/index.js). */
const coreDir = dirname(dirname(require.resolve('@pothos/core')));
const installed = (JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as { version: string }).version;

type GetOrCreate<T> = ((context: object, ...args: unknown[]) => T) & { delete(context: object): void };
interface ContextCacheModule {
  contextCacheSymbol: symbol;
  initContextCache(): object;
  createContextCache<T>(create: (context: object, ...args: unknown[]) => T): GetOrCreate<T>;
}

describe('@pothos/core context caches (patches/@pothos+core+<version>.patch)', () => {
  it('patches the version installed, which package.json pins exactly', () => {
    const patches = readdirSync(join(repoRoot, 'patches')).filter((name) => name.startsWith('@pothos+core+'));
    expect(patches).toEqual([`@pothos+core+${installed}.patch`]);
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).dependencies['@pothos/core']).toBe(installed);
  });

  for (const file of ['esm/utils/context-cache.js', 'lib/utils/context-cache.js']) {
    it(`${file}: applied, and still one entry per context`, async () => {
      const path = join(coreDir, file);
      expect(readFileSync(path, 'utf8')).toContain("Symbol('Pothos.contextCacheEntry')");
      const { createContextCache, initContextCache, contextCacheSymbol } = (file.startsWith('lib') ? require(path) : await import(pathToFileURL(path).href)) as ContextCacheModule;
      let made = 0;
      const cache = createContextCache((context: object, extra?: unknown) => ({ n: ++made, context, extra }));

      // One entry per context, made on first use with the arguments of that call, kept on the context itself.
      const a = { requestId: 'a' };
      const b = { requestId: 'b' };
      const first = cache(a, 'x');
      expect(first).toEqual({ n: 1, context: a, extra: 'x' });
      expect(cache(a, 'y')).toBe(first);
      expect(cache(b).n).toBe(2);
      expect(Object.getOwnPropertySymbols(a)).toHaveLength(1);
      expect(Object.keys(a)).toEqual(['requestId']);

      // Two caches on one context stay apart.
      const other = createContextCache(() => 'other');
      expect(other(a)).toBe('other');
      expect(cache(a)).toBe(first);

      // initContextCache: copies of a context share the entries (the key is the bag, not the copy).
      const base = { ...initContextCache(), requestId: 'c' };
      const copy = { ...base, extra: true };
      expect(cache(copy)).toBe(cache(base));
      expect((base as Record<symbol, object>)[contextCacheSymbol]).toBeDefined();

      // delete: the next call makes a new entry.
      cache.delete(a);
      expect(cache(a).n).toBe(made);
      expect(cache(a)).not.toBe(first);

      // A context that cannot take a property (frozen) still gets one entry, held aside.
      const frozen = Object.freeze({ requestId: 'frozen' });
      const entry = cache(frozen);
      expect(cache(frozen)).toBe(entry);
      cache.delete(frozen);
      expect(cache(frozen)).not.toBe(entry);
    });
  }
});
