// `npm run schema:print`: writes the SDL to schema.graphql (or stdout with --stdout).
import { writeFileSync } from 'node:fs';
import { printSchemaSDL } from './index';

const sdl = printSchemaSDL();
if (process.argv.includes('--stdout')) process.stdout.write(sdl);
else {
  writeFileSync(new URL('../../schema.graphql', import.meta.url), sdl);
  process.stderr.write('wrote schema.graphql\n');
}
