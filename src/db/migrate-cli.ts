// `npm run db:migrate`: applies pending migrations to the configured database (npm start does this itself too).
import { loadConfig } from '../config';
import { openConfiguredDatabase } from './open';

const config = loadConfig();
const database = await openConfiguredDatabase(config);
console.log(`migrations applied (${database.kind})`);
await database.close();
