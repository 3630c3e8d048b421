// `npm run data:generate -- --customers N --tickets M --days D --out <dir> [--seed S] [--anchor YYYY-MM-DD]`
import { parseArgs } from 'node:util';
import { generateDataset } from './generate';

const usage = 'usage: npm run data:generate -- --customers N --tickets M --days D --out <dir> [--seed S] [--anchor YYYY-MM-DD]';

function count(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number of at least ${min}\n${usage}`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    customers: { type: 'string' },
    tickets: { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '42' },
    anchor: { type: 'string' },
  },
});
if (!values.out) {
  console.error(`--out is required\n${usage}`);
  process.exit(2);
}
if (values.anchor && !/^\d{4}-\d{2}-\d{2}$/.test(values.anchor)) {
  console.error(`--anchor must be a date YYYY-MM-DD\n${usage}`);
  process.exit(2);
}
const manifest = await generateDataset({
  customers: count('customers', values.customers, 1),
  tickets: count('tickets', values.tickets, 0),
  days: count('days', values.days, 1),
  outDir: values.out,
  seed: count('seed', values.seed, 0),
  anchorDate: values.anchor,
});
console.log(`wrote ${manifest.customers} customers, ${manifest.tickets} tickets and ${manifest.days} days of metrics to ${values.out} (seed ${manifest.seed}, last day ${manifest.anchorDate})`);
