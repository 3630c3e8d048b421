// The benchmark's servers (bench/server.ts, the bare ws floor, PostGraphile's glue) run from bundles made with the
// production build's esbuild settings (scripts/bundle-options.ts), started by plain `node` as the image starts
// dist/main.js: the benchmark measures the code a deployment runs. Built once per benchmark process, into the
// project's node_modules cache, where Node finds the packages left external.
import { readFile } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Plugin, build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../scripts/bundle-options';

export const BUNDLE_DIR = join('node_modules', '.cache', 'universal-data-connector', 'bench-build');

/** Each module keeps its own import.meta.url (its source file), so files found beside the code are found as under tsx. */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

const built = new Map<string, Promise<string>>();

/** The bundle of a TypeScript entry point (path relative to the project), built on first use; resolves to its path. */
export function bundled(script: string): Promise<string> {
  let outfile = built.get(script);
  if (!outfile) {
    const path = join(BUNDLE_DIR, basename(script).replace(/\.ts$/, '.mjs'));
    outfile = build({ ...BUNDLE_OPTIONS, entryPoints: [script], outfile: path, plugins: [sourceUrls] }).then(() => path);
    built.set(script, outfile);
  }
  return outfile;
}
