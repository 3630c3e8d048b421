// Splits streamed text into speakable chunks: whole sentences as soon as they end, never longer than the TTS input limit.

const SENTENCE_END = /([.!?…]+["')\]]*)(\s+)/;

/** Cuts text that is longer than max at the last clause break (, ; :) or space before the limit. */
export function splitLong(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    if (cut > max * 0.4) cut += 1; // keep the punctuation with the first part
    else cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = max; // one very long word: cut it
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
  return out;
}

export interface SentenceSplitter {
  /** Adds streamed text; returns the chunks that are complete now. */
  push(text: string): string[];
  /** Returns whatever is left at the end of the stream. */
  flush(): string[];
}

export function createSentenceSplitter(maxChars: number): SentenceSplitter {
  let buffer = '';
  return {
    push(text) {
      buffer += text;
      const out: string[] = [];
      for (;;) {
        const match = SENTENCE_END.exec(buffer);
        if (!match) break;
        const end = match.index + match[1].length;
        const sentence = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + match[2].length);
        // "1.5" or "e.g." mid-token never matches because a space must follow; a lone number like "3." still ends a sentence.
        if (sentence) out.push(...splitLong(sentence, maxChars));
      }
      // A very long run without a sentence end: speak the part that is already too long rather than wait.
      if (buffer.length > maxChars * 2) {
        const parts = splitLong(buffer, maxChars);
        buffer = parts.pop() ?? '';
        out.push(...parts);
      }
      return out;
    },
    flush() {
      const rest = buffer.trim();
      buffer = '';
      return rest ? splitLong(rest, maxChars) : [];
    },
  };
}

/** Splits a whole text at once (non-streamed answers). */
export function splitSentences(text: string, maxChars: number): string[] {
  const splitter = createSentenceSplitter(maxChars);
  return [...splitter.push(text), ...splitter.flush()];
}

/** Removes markdown an LLM may emit despite the prompt (emphasis, code ticks, headings, bullets): it must not be read aloud. */
export function speakable(text: string): string {
  return text
    .replace(/(\*\*|__|\*|`|~~)(\S(?:.*?\S)?)\1/g, '$2')
    .replace(/_/g, ' ')
    .replace(/^\s*(#{1,6}|[-*•]|\d+[.)])\s+/gm, '')
    .replace(/[*`#|]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
