// Where the machine's CPU went during a timed load: the server's (asked of the server itself, elsewhere), PostgreSQL's
// (every process named postgres, read from /proc), the load generator's (this process: autocannon or the floor's
// driver) and the whole machine's busy and stolen time (/proc/stat). On a machine whose cores the server, PostgreSQL
// and the load generator share, throughput follows the sum of the three per request, not the server's share alone.
// Linux only; where /proc cannot tell (another OS, PostgreSQL on another host) the figures are null.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux this runs on). */
const TICK_MICROS = 10_000;

export interface CpuSample {
  /** Microseconds of CPU used so far by every process named postgres, ended backends included (null: none visible). */
  postgres: number | null;
  /** Microseconds of CPU used so far by this process. */
  self: number;
  /** The whole machine's CPU time so far, in microseconds (null: no /proc/stat). */
  machine: { busy: number; steal: number; all: number } | null;
}

/** Per request (or per floor operation), in microseconds of CPU; the machine's stolen share in percent. */
export interface CpuShares {
  postgres: number | null;
  loadGenerator: number;
  /** Every core's busy time per request, whoever used it (server, PostgreSQL, load generator and anything else). */
  machineBusy: number | null;
  /** Time the hypervisor gave to others while this machine wanted to run, in percent of all CPU time. */
  stealPercent: number | null;
}

function postgresMicros(): number | null {
  let ticks = 0;
  let seen = false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      if (stat.slice(open + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, cutime and cstime are fields 14-17 of the whole line, 12-15 after the comm. The children's times
      // are the postmaster's: a backend that ended was reaped by it, so its CPU stays in the sum instead of vanishing.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      seen = true;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seen ? ticks * TICK_MICROS : null;
}

function machineMicros(): CpuSample['machine'] {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy: busy * TICK_MICROS, steal: steal * TICK_MICROS, all: (busy + idle + iowait + steal) * TICK_MICROS };
  } catch {
    return null;
  }
}

export function sampleCpu(): CpuSample {
  const { user, system } = process.cpuUsage();
  return { postgres: postgresMicros(), self: user + system, machine: machineMicros() };
}

/** The CPU between two samples, per operation done in between. */
export function cpuShares(before: CpuSample, after: CpuSample, operations: number): CpuShares {
  const per = (micros: number) => micros / Math.max(1, operations);
  const m0 = before.machine;
  const m1 = after.machine;
  return {
    postgres: before.postgres === null || after.postgres === null ? null : per(after.postgres - before.postgres),
    loadGenerator: per(after.self - before.self),
    machineBusy: m0 && m1 ? per(m1.busy - m0.busy) : null,
    stealPercent: m0 && m1 && m1.all > m0.all ? (100 * (m1.steal - m0.steal)) / (m1.all - m0.all) : null,
  };
}

/** Slices of one load, each with its shares and operation count, as one figure weighted by operations. */
export function combineShares(parts: { shares: CpuShares; operations: number }[]): CpuShares {
  const total = parts.reduce((a, p) => a + p.operations, 0);
  const weighted = (pick: (s: CpuShares) => number | null) => {
    if (parts.some((p) => pick(p.shares) === null)) return null;
    return parts.reduce((a, p) => a + (pick(p.shares) as number) * p.operations, 0) / Math.max(1, total);
  };
  return {
    postgres: weighted((s) => s.postgres),
    loadGenerator: weighted((s) => s.loadGenerator) as number,
    machineBusy: weighted((s) => s.machineBusy),
    stealPercent: weighted((s) => s.stealPercent),
  };
}
