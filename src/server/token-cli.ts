// `npm run token -- [--tenant <id>] [--sub <name>] [--roles viewer,voice] [--ttl 1h]`: mints a development HS256 token
// with AUTH_JWT_SECRET (and AUTH_ISSUER, AUTH_AUDIENCE, the claim names) from the environment, for curl and GraphiQL.
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ConfigError, loadConfig } from '../config';
import { ROLES } from './auth';

const usage = 'usage: AUTH_JWT_SECRET=… npm run token -- [--tenant <id>] [--sub <name>] [--roles viewer,voice] [--ttl 1h]';

async function main() {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      sub: { type: 'string', default: 'developer' },
      roles: { type: 'string', default: ROLES.join(',') },
      ttl: { type: 'string', default: '1h' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(usage);
    return;
  }
  const config = loadConfig();
  if (!config.AUTH_JWT_SECRET) {
    console.error(`AUTH_JWT_SECRET is not set: a development token is signed with the server's HS256 secret.\n${usage}`);
    process.exit(2);
  }
  const roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !ROLES.includes(r as (typeof ROLES)[number]));
  if (unknown.length) {
    console.error(`unknown role(s): ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
    process.exit(2);
  }
  const jwt = new SignJWT({ [config.AUTH_TENANT_CLAIM]: values.tenant ?? config.TENANT_ID, [config.AUTH_ROLES_CLAIM]: roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(values.ttl);
  if (config.AUTH_ISSUER) jwt.setIssuer(config.AUTH_ISSUER);
  if (config.AUTH_AUDIENCE) jwt.setAudience(config.AUTH_AUDIENCE);
  console.log(await jwt.sign(new TextEncoder().encode(config.AUTH_JWT_SECRET)));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `token: ${(error as Error).message}`);
  process.exit(1);
});
