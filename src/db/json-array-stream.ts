// Streams the elements of a top-level JSON array from a file without holding the file in memory.
import { createReadStream } from 'node:fs';

export class JsonStreamError extends Error {}

/**
 * Yields each element of the file's top-level array, parsed, with its index. Elements are cut out by a small
 * scanner (depth and string state) and handed to JSON.parse one at a time, so memory stays flat for any file size.
 */
export async function* readJsonArray(path: string): AsyncGenerator<{ index: number; value: unknown }> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let index = 0;
  const flush = function* (text: string) {
    const trimmed = text.trim();
    if (!trimmed) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new JsonStreamError(`[${index}]: not valid JSON (${trimmed.slice(0, 60)}${trimmed.length > 60 ? '…' : ''})`);
    }
    yield { index: index++, value };
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (!started) {
        if (c === '[') {
          started = true;
          start = i + 1;
        } else if (!/\s/.test(c) && !(c === '\uFEFF')) {
          throw new JsonStreamError('the file must hold a JSON array of records ([ {...}, {...} ])');
        }
        continue;
      }
      if (ended) {
        if (!/\s/.test(c)) throw new JsonStreamError('unexpected content after the closing ] of the array');
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0 && c === ']') {
          element += chunk.slice(start, i);
          yield* flush(element);
          element = '';
          ended = true;
          continue;
        }
        depth--;
      } else if (c === ',' && depth === 0) {
        element += chunk.slice(start, i);
        if (!element.trim()) throw new JsonStreamError(`[${index}]: empty element (two commas in a row?)`);
        yield* flush(element);
        element = '';
        start = i + 1;
      }
    }
    if (started && !ended) element += chunk.slice(start);
  }
  if (!started) throw new JsonStreamError('the file is empty; expected a JSON array');
  if (!ended) throw new JsonStreamError('the file ends before the closing ] of the array');
}
