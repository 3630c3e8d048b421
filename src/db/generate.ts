// Deterministic demo data in the seed format: the same seed and anchor date always give the same files.
// Writes as it goes, so a million tickets never sit in memory.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { SEED_FILES } from './records';

export interface GenerateOptions {
  customers: number;
  tickets: number;
  days: number;
  outDir: string;
  seed?: number;
  /** The last day of the data (YYYY-MM-DD, UTC); default yesterday, so no generated time lies in the future. */
  anchorDate?: string;
}

export interface Manifest {
  anchorDate: string;
  seed: number;
  customers: number;
  tickets: number;
  days: number;
}

const DAY_MS = 86_400_000;

/** mulberry32: small, fast, and identical on every platform. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
    weighted: <T>(choices: readonly [T, number][]) => {
      let r = next() * choices.reduce((s, [, w]) => s + w, 0);
      for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
      return choices[choices.length - 1][0];
    },
  };
}

const companyFirst = ['Northwind', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Cyberdyne', 'Tyrell', 'Wonka', 'Aperture', 'Massive', 'Blue Sky', 'Pied Piper', 'Monarch', 'Oceanic', 'Gringotts', 'Sterling', 'Dunder', 'Prestige', 'Bluth', 'Nakatomi'];
const companySecond = ['Traders', 'Labs', 'Systems', 'Industries', 'Logistics', 'Analytics', 'Foods', 'Health', 'Studios', 'Energy', 'Robotics', 'Media', 'Partners', 'Retail', 'Software'];
const subjects = [
  'Cannot log in to the dashboard',
  'Password reset email never arrives',
  'Invoice shows the wrong amount',
  'Charged twice this month',
  'Export to CSV times out',
  'API returns 500 on large requests',
  'Webhook deliveries are delayed',
  'Need to add more seats',
  'Single sign-on setup fails',
  'Reports show yesterday’s numbers',
  'Mobile app crashes on launch',
  'Data import stuck at 90 percent',
  'Request to cancel subscription',
  'Feature request: dark mode',
  'Slow page loads in the EU region',
  'Two-factor codes not accepted',
  'Integration with Slack disconnected',
  'Missing records after sync',
  'Upgrade to the enterprise plan',
  'Question about data retention',
];
const metrics = [
  { name: 'daily_active_users', base: 1200, growth: 0.0015, weekly: 0.18, noise: 0.06, integer: true },
  { name: 'new_signups', base: 45, growth: 0.001, weekly: 0.3, noise: 0.2, integer: true },
  { name: 'revenue', base: 18500, growth: 0.0012, weekly: 0.1, noise: 0.08, integer: false },
  { name: 'churn_rate', base: 2.4, growth: -0.0004, weekly: 0.02, noise: 0.05, integer: false },
  { name: 'avg_response_time_hours', base: 5.5, growth: -0.0006, weekly: 0.15, noise: 0.1, integer: false },
];

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function writeArray(path: string, count: number, record: (i: number) => object): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[\n');
  for (let i = 0; i < count; i++) await write(`  ${JSON.stringify(record(i))}${i < count - 1 ? ',' : ''}\n`);
  await write(']\n');
  out.end();
  await once(out, 'finish');
}

export async function generateDataset(options: GenerateOptions): Promise<Manifest> {
  const seed = options.seed ?? 42;
  const anchorDate = options.anchorDate ?? isoDay(Date.now() - DAY_MS);
  const anchorEnd = Date.parse(`${anchorDate}T00:00:00Z`) + DAY_MS; // end of the anchor day
  const random = createRandom(seed);
  await mkdir(options.outDir, { recursive: true });

  // Customers joined over the period (at least 2 years for a realistic CRM), most still active.
  const customerSpan = Math.max(options.days, 730) * DAY_MS;
  await writeArray(join(options.outDir, SEED_FILES.customers), options.customers, (i) => {
    const id = i + 1;
    const company = `${random.pick(companyFirst)} ${random.pick(companySecond)}`;
    const slug = company.toLowerCase().replace(/[^a-z]+/g, '');
    return {
      customer_id: id,
      name: company,
      email: `contact${id}@${slug}.example.com`,
      created_at: new Date(anchorEnd - customerSpan + Math.floor(random.next() * customerSpan)).toISOString(),
      status: random.next() < 0.78 ? 'active' : 'inactive',
    };
  });

  // Tickets over the last `days` days; recent ones are more often still open.
  const ticketSpan = options.days * DAY_MS;
  await writeArray(join(options.outDir, SEED_FILES.tickets), options.tickets, (i) => {
    const age = Math.floor(random.next() * random.next() * ticketSpan); // skewed towards recent
    const openChance = age < 7 * DAY_MS ? 0.7 : age < 30 * DAY_MS ? 0.35 : 0.08;
    const customer = options.customers > 0 ? Math.min(options.customers, 1 + Math.floor(random.next() ** 1.5 * options.customers)) : 1;
    return {
      ticket_id: i + 1,
      customer_id: customer,
      subject: random.pick(subjects),
      priority: random.weighted([
        ['high', 2],
        ['medium', 5],
        ['low', 3],
      ] as const),
      created_at: new Date(anchorEnd - 1 - age).toISOString(),
      status: random.next() < openChance ? 'open' : 'closed',
    };
  });

  // One point per metric per day, newest first like the prototype's file: trend, weekly rhythm, noise.
  await writeArray(join(options.outDir, SEED_FILES.metrics), metrics.length * options.days, (i) => {
    const m = metrics[Math.floor(i / options.days)];
    const daysAgo = i % options.days;
    const dayMs = anchorEnd - DAY_MS * (daysAgo + 1);
    const t = options.days - daysAgo;
    const weekday = new Date(dayMs).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? 1 - m.weekly : 1 + m.weekly / 3;
    const value = m.base * (1 + m.growth * t) * weekly * (1 + (random.next() * 2 - 1) * m.noise);
    return { metric: m.name, date: isoDay(dayMs), value: m.integer ? Math.round(value) : Math.round(value * 100) / 100 };
  });

  const manifest: Manifest = { anchorDate, seed, customers: options.customers, tickets: options.tickets, days: options.days };
  await writeFile(join(options.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
