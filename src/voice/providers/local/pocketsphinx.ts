// What the offline recogniser needs beside the pocketsphinx program: the pronunciation dictionary of a grammar's words,
// the free phone loop it is compared with, and the confidence of a grammar hypothesis from the two backtraces.
//
// A JSGF grammar forces every sound into one of its phrases, so pocketsphinx always returns *some* question, however
// little the speech resembles it (its posteriors are all 1.0 under a grammar). The signal that separates right from
// wrong hypotheses here is the likelihood ratio against a free phone loop: the same audio is decoded a second time with
// a grammar of any sequence of phones (same acoustic model, same triphones), and the grammar's words are scored by how
// much worse their acoustic score is than the loop's over the same frames. Speech that is one of the phrases scores
// close to the loop; other speech that was squeezed into a phrase scores far below it. Thresholds: docs/voice.md.

/** The 39 phones of the CMU dictionary (the pocketsphinx en-us model's phone set, without silence). */
export const PHONES = 'AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH'.split(' ');

const phoneWord = (phone: string) => `phn_${phone.toLowerCase()}`;

/** A grammar of any sequence of phones: the reference the grammar's hypothesis is compared with. */
export const PHONE_LOOP_GRAMMAR = `#JSGF V1.0;
grammar loop;
public <loop> = <phone>+;
<phone> = ${PHONES.map(phoneWord).join(' | ')};
`;

/** The dictionary of the phone loop: each phone as a word. */
export const PHONE_LOOP_DICTIONARY = PHONES.map((p) => `${phoneWord(p)} ${p}`).join('\n') + '\n';

/** The words of a JSGF grammar (its rule bodies without rule names, operators and weights). */
export function grammarWords(grammar: string): string[] {
  const words = new Set<string>();
  for (const line of grammar.split('\n')) {
    const eq = line.indexOf('=');
    const start = line.trimStart();
    if (eq < 0 || !(start.startsWith('<') || start.startsWith('public'))) continue;
    const body = line
      .slice(eq + 1)
      .replace(/<[^>]*>/g, ' ')
      .replace(/\/[^/]*\//g, ' ');
    for (const token of body.split(/[\s()[\]|;*+]+/)) if (/^[a-z][a-z']*$/.test(token)) words.add(token);
  }
  return [...words];
}

/**
 * Pronunciations of a grammar's words in pocketsphinx's dictionary format ("word", "word(2)", …), from the CMU
 * dictionary, plus one accent variant: where the dictionary has the American /æ/ (AE) it also accepts [a], which the
 * US model hears as AA. British and many other speakers (and espeak-ng's default voice) say "active", "average",
 * "last" and "acme" that way. On 74 espeak-ng recordings of in-grammar questions it made one more heard right (63).
 */
export function grammarDictionary(words: Iterable<string>, pronunciations: (word: string) => string[] | undefined): string {
  const lines: string[] = [];
  for (const word of words) {
    const prons = [...(pronunciations(word) ?? [])];
    for (const p of [...prons]) {
      const variant = p.replace(/\bAE\b/g, 'AA');
      if (variant !== p && !prons.includes(variant)) prons.push(variant);
    }
    prons.forEach((p, i) => lines.push(`${i === 0 ? word : `${word}(${i + 1})`} ${p}`));
  }
  return lines.join('\n') + '\n';
}

/** One segment of a pocketsphinx backtrace: a word (or filler) over frames start..end (10 ms each), its acoustic score. */
export interface Segment {
  word: string;
  start: number;
  end: number;
  ascr: number;
}

/** One utterance pocketsphinx segmented: its hypothesis and backtrace. */
export interface Utterance {
  hypothesis: string;
  segments: Segment[];
}

/** Reads the backtraces pocketsphinx logs (on stderr) with `-backtrace yes`, one per utterance. */
export function parseBacktraces(log: string): Utterance[] {
  const lines = log.split('\n');
  const utterances: Utterance[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^INFO: pocketsphinx\.c\(\d+\): (.*) \(-?\d+\)$/.exec(lines[i]);
    if (!head || !/^word\s+start\s+end/.test(lines[i + 1] ?? '')) continue;
    const segments: Segment[] = [];
    for (i += 2; i < lines.length; i++) {
      const row = /^(\S+)\s+(\d+)\s+(\d+)\s+\S+\s+(-?\d+)\s+-?\d+\s+\S+\s*$/.exec(lines[i]);
      if (!row) break;
      segments.push({ word: row[1], start: Number(row[2]), end: Number(row[3]), ascr: Number(row[4]) });
    }
    i--;
    utterances.push({ hypothesis: head[1].trim(), segments });
  }
  return utterances;
}

const isFiller = (word: string) => word === '(NULL)' || /^(<.*>|\[.*\])(\(\d+\))?$/.test(word);

export interface Score {
  /**
   * Mean acoustic score per 10 ms frame of the hypothesis' words minus the phone loop's over the same frames
   * (pocketsphinx's scaled log units): near 0 or above when the speech is the phrase, far below when it is not.
   * Null when the hypothesis has no words.
   */
  confidence: number | null;
  /** Frames the phone loop spent on phones rather than silence or noise: how much speech there was. */
  speechFrames: number;
  /**
   * The share of those speech frames the hypothesis explains as silence or noise: a short phrase fitted to part of a
   * longer question leaves the rest there.
   */
  unexplained: number;
}

/** Scores a grammar hypothesis against the phone loop's decoding of the same audio (same utterance segmentation). */
export function scoreHypothesis(grammar: Utterance[], loop: Utterance[]): Score {
  let frames = 0;
  let difference = 0;
  let speechFrames = 0;
  let unexplained = 0;
  const utterances = Math.max(grammar.length, loop.length);
  for (let index = 0; index < utterances; index++) {
    const heard = grammar[index]?.segments ?? [];
    const reference = loop[index]?.segments ?? [];
    const loopScore = (start: number, end: number) => {
      let sum = 0;
      for (const s of reference) {
        const overlap = Math.min(end, s.end) - Math.max(start, s.start) + 1;
        if (overlap > 0) sum += (s.ascr * overlap) / (s.end - s.start + 1);
      }
      return sum;
    };
    for (const s of heard) {
      if (isFiller(s.word) || s.end < s.start) continue;
      // Without a loop decoding of these frames (segmentations differ) the words count as matching nothing.
      difference += reference.length ? s.ascr - loopScore(s.start, s.end) : -1e6;
      frames += s.end - s.start + 1;
    }
    const fillers = heard.filter((s) => isFiller(s.word) && s.word !== '(NULL)');
    for (const s of reference) {
      if (isFiller(s.word) || s.end < s.start) continue;
      speechFrames += s.end - s.start + 1;
      for (const f of fillers) unexplained += Math.max(0, Math.min(s.end, f.end) - Math.max(s.start, f.start) + 1);
    }
  }
  return { confidence: frames ? difference / frames : null, speechFrames, unexplained: speechFrames ? unexplained / speechFrames : 0 };
}
