// Opening thousands of client sockets for the subscriber benchmarks: a batch at a time, so the server's accept queue
// and handshakes are not flooded all at once.

/** Calls open(0 … count-1), `batch` at a time (each batch settled before the next); resolves with the seconds taken. */
export async function openInBatches(count: number, batch: number, open: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < count; start += batch) {
    const opening: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) opening.push(open(i));
    await Promise.all(opening);
  }
  return (performance.now() - started) / 1000;
}
