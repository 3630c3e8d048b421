// The committed client code in examples/generated/ (typed documents, possibleTypes, the schema for Graphcache) must be
// exactly what `npm run codegen` makes from the committed schema.graphql and examples/*.graphql: this test runs the
// same configuration (codegen.ts) into a temporary folder and compares, so it fails when the schema or an example
// changed and nobody regenerated. Codegen reads local files only: it needs no server and no network.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { afterAll, describe, expect, it } from 'vitest';
import config, { GENERATED_DIR } from '../codegen';
import { possibleTypes } from '../examples/generated/possible-types';
import { introspection } from '../examples/generated/introspection';

const root = fileURLToPath(new URL('..', import.meta.url));
const committedDir = join(root, GENERATED_DIR);
const out = mkdtempSync(join(tmpdir(), 'udc-codegen-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('codegen (codegen.ts → examples/generated/)', () => {
  it('reads the committed schema.graphql and examples/*.graphql, nothing over the network', () => {
    expect(config.schema).toBe('schema.graphql');
    expect(config.documents).toEqual(['examples/*.graphql']);
  });

  it('the committed output equals a fresh run (after changing the schema or examples/: npm run schema:print && npm run codegen)', async () => {
    const generates = Object.fromEntries(Object.entries(config.generates).map(([path, output]) => [join(out, path.slice(GENERATED_DIR.length)) + (path.endsWith('/') ? '/' : ''), output]));
    const files = await generate({ ...config, generates, cwd: root, silent: true }, true);
    expect(files.length).toBeGreaterThan(0);
    const fresh = readdirSync(out).sort();
    expect(readdirSync(committedDir).sort()).toEqual(fresh);
    for (const name of fresh) {
      expect(readFileSync(join(committedDir, name), 'utf8'), `examples/generated/${name} is out of date: run npm run codegen`).toBe(readFileSync(join(out, name), 'utf8'));
    }
  });

  it('gives the caches every interface with its implementations, as schema.graphql declares them', () => {
    const sdl = readFileSync(join(root, 'schema.graphql'), 'utf8');
    const implementing = (iface: string) => [...sdl.matchAll(new RegExp(`^type (\\w+) implements [\\w &]*\\b${iface}\\b`, 'gm'))].map((m) => m[1]).sort();
    const interfaces = [...sdl.matchAll(/^interface (\w+)/gm)].map((m) => m[1]).sort();
    const unions = [...sdl.matchAll(/^union (\w+)/gm)].map((m) => m[1]);
    expect(unions).toEqual([]); // a union would need its members here too
    expect(Object.keys(possibleTypes).sort()).toEqual(interfaces);
    for (const name of interfaces) expect(possibleTypes[name], name).toEqual(implementing(name));
    expect(possibleTypes.VoiceEvent).toContain('TurnCompletedEvent');

    const objects = [...sdl.matchAll(/^(?:type|interface) (\w+)/gm)].map((m) => m[1]).sort();
    expect(introspection.__schema.types.map((t) => t.name)).toEqual(objects);
  });
});
