// The deployment files, checked without a cluster or a Docker daemon: every Kubernetes manifest against the Kubernetes
// JSON schemas (kubernetes-models: compiled schemas, offline) and against each other and the app (probe paths answered
// by a real server with auth on, ports, selectors, the shutdown arithmetic, connection capacity, one image); the
// Dockerfile statically (node as PID 1 with the flags of start:prod, a non-root user, a health check);
// docker-compose.yml statically and through `docker-compose config` when Debian's docker-compose is installed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config';
import { createAuthenticator } from '../src/server/auth';
import { type TestServer, startTestServer } from './helpers/server';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const startProd = scripts['start:prod'].split(/\s+/);

/** main.ts force-exits this long after SHUTDOWN_GRACE_MS: the time a stop may take to close sockets and pools. */
const CLOSE_MARGIN_S = 10;
/** PostgreSQL's default max_connections, less connections kept for the migration Job, administrators and superusers. */
const MAX_CONNECTIONS = 100;
const CONNECTION_RESERVE = 10;

// ---------------------------------------------------------------------------------------------------- Kubernetes

type Manifest = { file: string; doc: any };
const k8sDir = 'deploy/kubernetes';
const models: Record<string, { validate(data: unknown): void }> = {};
for (const model of [ConfigMap, Secret, Service, Deployment, HorizontalPodAutoscaler, PodDisruptionBudget, Job]) {
  models[`${model.apiVersion}/${model.kind}`] = { validate: (data) => new model(data as never).validate() };
}

const manifests: Manifest[] = readdirSync(join(root, k8sDir))
  .filter((file) => /\.ya?ml$/.test(file))
  .sort()
  .flatMap((file) =>
    parseAllDocuments(read(join(k8sDir, file))).map((document) => {
      if (document.errors.length) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      return { file, doc: document.toJS() };
    }),
  );
const resources = manifests.filter((m) => m.doc.kind !== 'Kustomization');
const only = (kind: string, file?: string) => {
  const found = resources.filter((m) => m.doc.kind === kind && (!file || m.file === file));
  expect(found, `exactly one ${kind}${file ? ` in ${file}` : ''}`).toHaveLength(1);
  return found[0].doc;
};

const configMap = () => only('ConfigMap');
const secretTemplate = () => only('Secret', 'secret.example.yaml');
const deployment = () => only('Deployment');
const apiContainer = () => deployment().spec.template.spec.containers[0];
const job = () => only('Job');

/** Seconds of a preStop `sleep N` (exec form) or the built-in sleep action. */
function preStopSeconds(container: any): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return Number(preStop.sleep.seconds);
  const command: string[] = preStop?.exec?.command ?? [];
  const match = command.join(' ').match(/\bsleep\s+(\d+)/);
  return match ? Number(match[1]) : 0;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('deploy/kubernetes manifests', () => {
  it('are valid against the Kubernetes schemas, each one', () => {
    expect(resources.map((m) => m.doc.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Secret', 'Service'].sort(),
    );
    for (const { file, doc } of resources) {
      const model = models[`${doc.apiVersion}/${doc.kind}`];
      expect(model, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => model.validate(doc), `${file} (${doc.kind} ${doc.metadata?.name})`).not.toThrow();
    }
  });

  it('are really checked: a wrong type or a missing required field is refused', () => {
    const broken = structuredClone(deployment());
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => models['apps/v1/Deployment'].validate(broken)).toThrow(/containerPort must be integer/);
    const noSelector = structuredClone(deployment());
    delete noSelector.spec.selector;
    expect(() => models['apps/v1/Deployment'].validate(noSelector)).toThrow(/selector/);
    const badHpa = structuredClone(only('HorizontalPodAutoscaler'));
    delete badHpa.spec.maxReplicas;
    expect(() => models['autoscaling/v2/HorizontalPodAutoscaler'].validate(badHpa)).toThrow(/maxReplicas/);
  });

  it('commit no secret: the only Secret is a template whose placeholders the server refuses', () => {
    const secrets = resources.filter((m) => m.doc.kind === 'Secret');
    expect(secrets.map((m) => m.file)).toEqual(['secret.example.yaml']);
    const values = { ...secretTemplate().stringData, ...secretTemplate().data };
    expect(Object.keys(values).sort()).toEqual(['AUTH_JWT_SECRET', 'DATABASE_URL', 'REDIS_URL']);
    for (const value of Object.values(values)) expect(value).toBe('REPLACE_ME');
    expect(() => loadConfig({ ...configMap().data, ...values })).toThrowError(/AUTH_JWT_SECRET: must be at least 32 characters/);
    expect(() => loadConfig({ ...configMap().data, ...values })).toThrowError(/DATABASE_URL: must start with postgres:\/\//);
  });

  it('configure only variables the server knows, with values it accepts (ConfigMap + Secret)', () => {
    const env = {
      ...configMap().data,
      DATABASE_URL: 'postgres://connector:pw@postgres:5432/connector',
      REDIS_URL: 'redis://redis:6379',
      AUTH_JWT_SECRET: 'x'.repeat(64),
    };
    const config = loadConfig(env) as Record<string, unknown>;
    // The schema drops variables it does not know: a misspelt name would silently do nothing.
    for (const key of Object.keys(env)) expect(config, `ConfigMap/Secret variable ${key} is not read by src/config.ts`).toHaveProperty(key);
    expect(config.NODE_ENV).toBe('production');
    expect(config.SHUTDOWN_GRACE_MS).toBe(Number(configMap().data.SHUTDOWN_GRACE_MS));
    expect(config.PORT).toBe(apiContainer().ports.find((p: any) => p.name === 'http').containerPort);
  });

  it('wire the Deployment to its ConfigMap, Secret, ports and probes', () => {
    const container = apiContainer();
    const envFrom = container.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name);
    expect(envFrom).toEqual([configMap().metadata.name, secretTemplate().metadata.name]);
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    const portNames = container.ports.map((p: any) => p.name);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      if (container[probe]) expect(portNames).toContain(container[probe].httpGet.port);
    }
    // The image's CMD (node as PID 1) is what runs: no command override that could put a shell or npm in between.
    expect(container.command).toBeUndefined();
    // Metrics on their own port (METRICS_PORT), declared on the pod and announced to Prometheus, never on the Service.
    const metricsPort = Number(configMap().data.METRICS_PORT);
    expect(container.ports.find((p: any) => p.name === 'metrics')?.containerPort).toBe(metricsPort);
    expect(deployment().spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
    expect(only('Service').spec.ports.map((p: any) => p.targetPort)).not.toContain('metrics');
    expect(only('Service').spec.ports.map((p: any) => p.port)).not.toContain(metricsPort);
  });

  it('give a stopping pod time for preStop, SHUTDOWN_GRACE_MS and closing before SIGKILL', () => {
    const grace = deployment().spec.template.spec.terminationGracePeriodSeconds;
    const preStop = preStopSeconds(apiContainer());
    const shutdownGrace = Number(configMap().data.SHUTDOWN_GRACE_MS) / 1000;
    expect(preStop).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(preStop + shutdownGrace);
    expect(grace).toBeGreaterThanOrEqual(preStop + shutdownGrace + CLOSE_MARGIN_S);
  });

  it('run as a non-root user with requests and limits, pods and Job alike', () => {
    for (const spec of [deployment().spec.template.spec, job().spec.template.spec]) {
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      for (const container of spec.containers) {
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(container.securityContext.capabilities.drop).toContain('ALL');
        expect(container.resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(container.resources.limits).toMatchObject({ memory: expect.anything() });
      }
    }
  });

  it('select the Deployment\'s pods from the Service, the HPA and the PDB', () => {
    const labels = deployment().spec.template.metadata.labels;
    expect(matches(deployment().spec.selector.matchLabels, labels)).toBe(true);
    const service = only('Service');
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(apiContainer().ports.map((p: any) => p.name)).toContain(service.spec.ports[0].targetPort);
    const hpa = only('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment().metadata.name });
    const pdb = only('PodDisruptionBudget');
    expect(matches(pdb.spec.selector.matchLabels, labels)).toBe(true);
    // A budget that the smallest deployment cannot meet would block every node drain.
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('scale no further than PostgreSQL has connections for', () => {
    const perPod = Number(configMap().data.DATABASE_POOL_SIZE) + Number(configMap().data.AGENT_MEMORY_POOL_SIZE);
    expect(perPod).toBe(14);
    expect(only('HorizontalPodAutoscaler').spec.maxReplicas * perPod).toBeLessThanOrEqual(MAX_CONNECTIONS - CONNECTION_RESERVE);
  });

  it('migrate with a Job that runs the same image and configuration as the pods', () => {
    const container = job().spec.template.spec.containers[0];
    expect(container.image).toBe(apiContainer().image);
    expect(container.envFrom).toEqual(apiContainer().envFrom);
    expect(container.command).toEqual(['node', 'dist/db/migrate-cli.js']);
    expect(existsSync(join(root, 'src/db/migrate-cli.ts'))).toBe(true);
    expect(['Never', 'OnFailure']).toContain(job().spec.template.spec.restartPolicy);
  });

  it('list in kustomization.yaml every manifest but the Secret template and the Job', () => {
    const kustomization = manifests.find((m) => m.doc.kind === 'Kustomization')!.doc;
    const files = [...new Set(resources.map((m) => m.file))];
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml' && f !== 'migrate-job.yaml').sort());
    expect(kustomization.images[0].name).toBe(apiContainer().image.split(':')[0]);
    expect(kustomization.images[0].newTag).toBe(apiContainer().image.split(':')[1]);
  });
});

describe('the probe paths, on a real server with auth on', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ auth: createAuthenticator({ secret: 'probe-secret-'.repeat(4), defaultTenant: 'default' }) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answer 200 without a token (the kubelet and Docker send none), while GraphQL asks for one', async () => {
    const container = apiContainer();
    const paths = new Set<string>(['readinessProbe', 'livenessProbe', 'startupProbe'].filter((p) => container[p]).map((p) => container[p].httpGet.path));
    expect([...paths].sort()).toEqual(['/health', '/ready']);
    for (const path of paths) {
      const response = await fetch(server.baseUrl + path);
      expect(response.status, path).toBe(200);
    }
    expect((await server.query('{ tickets { totalCount } }')).status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile, continuation lines joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = line.match(/^(\S+)\s+(.*)$/)!;
    const instruction = { keyword: keyword.toUpperCase(), args: rest.trim() };
    if (instruction.keyword === 'FROM') {
      const [, from, name] = instruction.args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i)!;
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (!stages.length && instruction.keyword === 'ARG') {
      const [name, value] = instruction.args.split('=');
      args[name] = value;
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** A stage's instructions with those of the stages it is built FROM (an image inherits USER, CMD, HEALTHCHECK …). */
function effective(stages: Stage[], name: string): Instruction[] {
  const stage = stages.find((s) => s.name === name)!;
  const parent = stages.find((s) => s.name === stage.from);
  return [...(parent ? effective(stages, parent.name) : []), ...stage.instructions];
}
const last = (instructions: Instruction[], keyword: string) => instructions.filter((i) => i.keyword === keyword).at(-1);
const all = (instructions: Instruction[], keyword: string) => instructions.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  const { args, stages } = parseDockerfile(read('Dockerfile'));

  it('builds from Node on Debian bookworm slim: dev dependencies and npm run build in the build stage', () => {
    expect(args.NODE_IMAGE).toMatch(/^node:(22|24)-bookworm-slim$/);
    const build = stages.find((s) => s.name === 'build')!;
    const runs = all(build.instructions, 'RUN').map((i) => i.args);
    expect(runs).toContain('npm ci --no-audit --no-fund');
    expect(runs).toContain('npm run build');
  });

  it('gives every npm ci the patches and the postinstall script that applies them (patch-package), before it runs', () => {
    expect(JSON.parse(read('package.json')).scripts.postinstall).toMatch(/^patch-package && node scripts\/postinstall\.mjs$/);
    for (const stage of stages.filter((s) => s.instructions.some((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci')))) {
      const at = (match: (i: Instruction) => boolean) => stage.instructions.findIndex(match);
      const install = at((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci'));
      expect(at((i) => i.keyword === 'COPY' && i.args === 'patches ./patches'), stage.name).toBeGreaterThanOrEqual(0);
      expect(at((i) => i.keyword === 'COPY' && i.args === 'patches ./patches'), stage.name).toBeLessThan(install);
      expect(at((i) => i.keyword === 'COPY' && i.args === 'scripts ./scripts'), stage.name).toBeLessThan(install);
      expect(at((i) => i.keyword === 'COPY' && i.args === 'scripts ./scripts'), stage.name).toBeGreaterThanOrEqual(0);
    }
  });

  for (const target of ['runtime', 'voice-offline']) {
    it(`${target}: node as PID 1 with start:prod's flags, a non-root user, a health check on /health, port 4000`, () => {
      const instructions = effective(stages, target);
      const cmd = last(instructions, 'CMD')!;
      expect(JSON.parse(cmd.args)).toEqual(startProd);
      expect(last(instructions, 'ENTRYPOINT')).toBeUndefined();
      const user = last(instructions, 'USER')!.args;
      expect(user).not.toMatch(/^(root|0)(:|$)/);
      expect(last(instructions, 'HEALTHCHECK')!.args).toMatch(/CMD \["node", "-e", ".*\/health/);
      expect(last(instructions, 'EXPOSE')!.args).toBe('4000');
      const runs = all(instructions, 'RUN').map((i) => i.args);
      expect(runs.some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
      const copies = all(instructions, 'COPY').map((i) => i.args);
      expect(copies).toEqual(expect.arrayContaining(['migrations ./migrations', 'data ./data', '--from=build /app/dist ./dist']));
    });
  }

  it('makes runtime the default target and voice-offline add the offline speech programs', () => {
    expect(stages.at(-1)!.name).toBe('runtime');
    const voice = stages.find((s) => s.name === 'voice-offline')!;
    expect(all(voice.instructions, 'RUN')[0].args).toMatch(/apt-get install -y --no-install-recommends espeak-ng pocketsphinx pocketsphinx-en-us/);
  });

  it('sends the build context only what it copies (.dockerignore allow-list)', () => {
    const ignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = stages
      .flatMap((s) => all(s.instructions, 'COPY'))
      .filter((c) => !c.args.startsWith('--from'))
      .flatMap((c) => c.args.split(/\s+/).slice(0, -1));
    for (const source of sources) expect(allowed, `COPY ${source}`).toContain(source.replace(/\/$/, ''));
    for (const secretish of ['.env', 'node_modules', '.data', 'dist']) expect(allowed).not.toContain(secretish);
  });
});

// ---------------------------------------------------------------------------------------------------- docker-compose

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };
const composeServices = compose.services;
const secrets = { POSTGRES_PASSWORD: 'compose0test0password', AUTH_JWT_SECRET: 'c'.repeat(64) };

/** Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} (an unset required one becomes '', for the check to name it). */
const interpolate = (value: string, vars: Record<string, string>) =>
  value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, rest?: string) => vars[name] ?? (op === '-' ? rest! : ''));

/** Runs Debian's docker-compose (1.29) on the file, with no .env of the developer's: only the environment given. */
function dockerCompose(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const emptyEnvFile = join(mkdtempSync(join(tmpdir(), 'udc-compose-')), 'empty.env');
  writeFileSync(emptyEnvFile, '');
  return new Promise((resolve) => {
    execFile('docker-compose', ['--env-file', emptyEnvFile, '-f', join(root, 'docker-compose.yml'), ...args], { cwd: root, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
const hasDockerCompose = await new Promise<boolean>((resolve) => execFile('docker-compose', ['version'], (error) => resolve(!error)));

describe('docker-compose.yml', () => {
  const apis = ['api-1', 'api-2'];

  it('runs PostgreSQL 15 and Redis 7 with health checks, publishing no port but the proxy\'s', () => {
    expect(composeServices.postgres.image).toBe('postgres:15');
    expect(composeServices.redis.image).toBe('redis:7');
    for (const name of ['postgres', 'redis']) expect(composeServices[name].healthcheck.test).toBeDefined();
    const published = Object.entries(composeServices).filter(([, service]) => service.ports).map(([name]) => name);
    expect(published).toEqual(['nginx']);
  });

  it('starts the API instances after the one-shot migrate and seed services succeeded', () => {
    expect(composeServices.migrate.command).toEqual(['node', 'dist/db/migrate-cli.js']);
    expect(composeServices.seed.command).toEqual(['node', 'dist/seed-demo.js', '--tenant', 'default']);
    expect(composeServices.seed.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
    for (const name of apis) {
      const api = composeServices[name];
      expect(api.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        seed: { condition: 'service_completed_successfully' },
      });
      // The image's CMD: node as PID 1.
      expect(api.command).toBeUndefined();
      expect(api.image).toBe(composeServices.migrate.image);
    }
  });

  it('configures the API with variables the server knows, production mode and no default secret', () => {
    for (const name of [...apis, 'migrate', 'seed']) {
      const env = composeServices[name].environment as Record<string, string>;
      expect(env.NODE_ENV).toBe('production');
      expect(env.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?[^}]+\}$/);
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/connector:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/connector$/);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      const interpolated = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, interpolate(String(value), secrets)]));
      const config = loadConfig(interpolated) as Record<string, unknown>;
      for (const key of Object.keys(env)) expect(config, `${name}: ${key} is not read by src/config.ts`).toHaveProperty(key);
    }
  });

  it('gives a stopping API instance more than SHUTDOWN_GRACE_MS before SIGKILL', () => {
    for (const name of apis) {
      const api = composeServices[name];
      const stopGrace = Number(String(api.stop_grace_period).replace(/s$/, ''));
      expect(stopGrace).toBeGreaterThanOrEqual(Number(api.environment.SHUTDOWN_GRACE_MS) / 1000 + CLOSE_MARGIN_S);
    }
  });

  it('proxies /graphql round-robin to both instances through nginx, WebSocket upgrades included', () => {
    const nginx = composeServices.nginx;
    expect(nginx.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    const conf = read('deploy/nginx.conf').replace(/#.*$/gm, '');
    const upstream = conf.match(/upstream api \{([^}]*)\}/)![1];
    expect([...upstream.matchAll(/server (\S+):4000/g)].map((m) => m[1])).toEqual(apis);
    expect(upstream).not.toMatch(/\b(ip_hash|hash|least_conn|random)\b/);
    const graphql = conf.match(/location = \/graphql \{([^}]*)\}/)![1];
    expect(graphql).toMatch(/proxy_pass http:\/\/api;/);
    expect(graphql).toMatch(/proxy_http_version 1\.1;/);
    expect(graphql).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(graphql).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    for (const name of apis) expect(nginx.depends_on[name]).toEqual({ condition: 'service_healthy' });
  });

  it('passes `docker-compose config` with the secrets set, and names them when they are missing', async (context) => {
    if (!hasDockerCompose) {
      context.skip('docker-compose is not installed (Debian package docker-compose; .ci/run installs it)');
      return;
    }
    const ok = await dockerCompose(secrets, 'config', '-q');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const missing = await dockerCompose({}, 'config', '-q');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/set (POSTGRES_PASSWORD|AUTH_JWT_SECRET) in \.env/);
    const resolved = parse((await dockerCompose(secrets, 'config')).stdout) as { services: Record<string, any> };
    expect(resolved.services['api-1'].environment.AUTH_JWT_SECRET).toBe(secrets.AUTH_JWT_SECRET);
    expect(resolved.services['api-2'].environment.DATABASE_URL).toBe(`postgres://connector:${secrets.POSTGRES_PASSWORD}@postgres:5432/connector`);
  });
});
