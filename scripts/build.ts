// `npm run build [-- --outdir <dir>]`: the server and its command-line tools, compiled ahead into dist/ as ES modules
// that plain `node` runs (`npm run start:prod`, the Dockerfile's CMD): no tsx, no TypeScript at run time.
//
// Why esbuild bundles rather than tsc emits: the sources import without extensions (`from './config'`,
// `moduleResolution: bundler`), and tsc 7 emits those specifiers unchanged, which Node's ES module loader cannot
// resolve (ERR_MODULE_NOT_FOUND). Each entry point becomes one file with our own code inside and every package left
// external (`npm ci --omit=dev` supplies them at run time, resolved by Node exactly as under tsx).
//
// Files found beside the code: src/db/migrate.ts and src/db/demo.ts locate migrations/ and data/ with
// `new URL('../../…', import.meta.url)`, relative to their own source file. Inside a bundle import.meta.url is the
// bundle's URL, so `moduleUrls` below rewrites it, per module, to the URL that module would have had in a dist/ laid
// out like src/ (dist/db/migrate.js): dist/ next to migrations/ and data/, as in the repository and the image.
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Plugin, build } from 'esbuild';
import { BUNDLE_OPTIONS } from './bundle-options';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(root, 'src');

const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(root, 'dist') } } });
const outdir = resolve(values.outdir!);

/** src/main.ts and every command-line tool (src/**\/*cli.ts), at their place under dist/; plus the demo seeder. */
async function entryPoints(): Promise<{ in: string; out: string }[]> {
  const clis = (await readdir(srcDir, { recursive: true }))
    .filter((file) => /(^|[/\\-])cli\.ts$/.test(file))
    .sort()
    .map((file) => ({ in: join(srcDir, file), out: file.replace(/\.ts$/, '') }));
  return [{ in: join(srcDir, 'main.ts'), out: 'main' }, ...clis, { in: join(root, 'scripts', 'seed-demo.ts'), out: 'seed-demo' }];
}

/** Gives each module of src/ the import.meta.url it would have at dist/<same path>.js, whichever bundle it lands in. */
function moduleUrls(outfile: string): Plugin {
  return {
    name: 'module-urls',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const rel = relative(srcDir, args.path);
        if (rel.startsWith('..')) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const mirrored = join(outdir, rel.replace(/\.ts$/, '.js'));
        let href = relative(dirname(outfile), mirrored).split(sep).join('/');
        if (!href.startsWith('.')) href = `./${href}`;
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(href)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

// Only the default output folder is emptied first: an --outdir given by hand may hold other files.
if (outdir === join(root, 'dist')) await rm(outdir, { recursive: true, force: true });

const entries = await entryPoints();
await Promise.all(
  entries.map((entry) => {
    const outfile = join(outdir, `${entry.out}.js`);
    return build({
      ...BUNDLE_OPTIONS,
      entryPoints: [entry.in],
      outfile,
      plugins: [moduleUrls(outfile)],
    });
  }),
);
// The browser voice page (plain files, no build step) beside the bundles, where src/server/voice-page.ts looks for it:
// dist/web/voice, as src/web/voice is beside src/server. The Dockerfile copies dist/ whole, so the image has it too.
await cp(join(srcDir, 'web', 'voice'), join(outdir, 'web', 'voice'), { recursive: true });
console.log(`built ${entries.length} entry points into ${relative(process.cwd(), outdir) || '.'}: ${entries.map((e) => `${e.out}.js`).join(', ')}`);
