// requestScoped (src/schema/context.ts): a value made once per context object, kept on that object, never shared
// between two requests' contexts; what the schema's per-request caches (the nested question's first tickets, the metric
// reads) rely on in place of Pothos's WeakMap-backed createContextCache.
import { describe, expect, it } from 'vitest';
import { type GraphQLContext, requestScoped } from '../src/schema/context';

const context = () => ({ requestId: crypto.randomUUID() }) as unknown as GraphQLContext;

describe('requestScoped', () => {
  it('makes one value per context, on first use, and gives each context its own', () => {
    const made: string[] = [];
    const cache = requestScoped((ctx) => {
      made.push(ctx.requestId);
      return new Map<string, number>();
    });
    const a = context();
    const b = context();
    expect(made).toEqual([]);
    cache(a).set('k', 1);
    expect(cache(a).get('k')).toBe(1);
    expect(cache(b).get('k')).toBeUndefined();
    expect(made).toEqual([a.requestId, b.requestId]);
  });

  it('keeps two caches apart on the same context, and a falsy value is still made once', () => {
    let calls = 0;
    const zero = requestScoped(() => {
      calls++;
      return 0;
    });
    const list = requestScoped(() => [] as number[]);
    const ctx = context();
    expect(zero(ctx)).toBe(0);
    expect(zero(ctx)).toBe(0);
    expect(calls).toBe(1);
    list(ctx).push(1);
    expect(list(ctx)).toEqual([1]);
    // Nothing a client could name: the slots are symbols, not string keys of the context.
    expect(Object.keys(ctx)).toEqual(['requestId']);
  });
});
