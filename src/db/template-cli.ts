// `npm run db:template` (and npm's postinstall, through scripts/postinstall.mjs): makes the embedded database's
// template, an empty migrated data directory that a first start unpacks instead of running initdb (template.ts).
import { makePgliteTemplate } from './template';

const started = performance.now();
const { file, bytes } = await makePgliteTemplate();
console.log(`embedded database template ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${file} (${(bytes / 1e6).toFixed(1)} MB)`);
