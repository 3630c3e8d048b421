// HTTP load with autocannon against a server in another process: warm-up, then a timed run; latency percentiles
// from every response's own duration (autocannon's histogram rounds to whole milliseconds).
import autocannon from 'autocannon';
import { type CpuShares, combineShares, cpuShares, sampleCpu } from './cpu-shares';
import { type LatencyStats, summarize } from './stats';

export interface LoadResult extends LatencyStats {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** How long the timed run lasted (autocannon's own figure). */
  seconds?: number;
  /** Every response's duration (ms), when asked for (keepSamples): to combine interleaved slices; never stored. */
  samples?: number[];
  /** Where the machine's CPU went per request during the timed run (PostgreSQL, this load generator, every core). */
  cpu?: CpuShares;
}

function once(url: string, body: string, connections: number, seconds: number, samples: number[] | null, headers: Record<string, string>): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body,
        connections,
        duration: seconds,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (samples) instance.on('response', (_client, status, _bytes, ms) => status === 200 && samples.push(ms));
  });
}

export async function runLoad(
  url: string,
  body: string,
  options: { connections: number; seconds: number; warmupSeconds: number; headers?: Record<string, string>; keepSamples?: boolean },
): Promise<LoadResult> {
  const headers = options.headers ?? {};
  if (options.warmupSeconds > 0) await once(url, body, options.connections, options.warmupSeconds, null, headers);
  const samples: number[] = [];
  const cpuBefore = sampleCpu();
  const result = await once(url, body, options.connections, options.seconds, samples, headers);
  const cpu = cpuShares(cpuBefore, sampleCpu(), result.requests.total);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    ...summarize(samples),
    ...(options.keepSamples ? { samples } : {}),
    cpu,
  };
}

/** One figure from slices of the same load taken at different times (interleaved with other servers' slices). */
export function combineLoads(parts: LoadResult[]): LoadResult {
  const requests = parts.reduce((a, p) => a + p.requests, 0);
  const seconds = parts.reduce((a, p) => a + (p.seconds ?? 0), 0);
  return {
    requestsPerSecond: requests / seconds,
    requests,
    non2xx: parts.reduce((a, p) => a + p.non2xx, 0),
    errors: parts.reduce((a, p) => a + p.errors, 0),
    seconds,
    ...summarize(parts.flatMap((p) => p.samples ?? [])),
    ...(parts.every((p) => p.cpu) ? { cpu: combineShares(parts.map((p) => ({ shares: p.cpu!, operations: p.requests }))) } : {}),
  };
}
