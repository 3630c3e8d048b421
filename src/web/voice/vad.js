// Hands-free mode's voice-activity detection: energy (RMS per frame of about 20 ms, computed in the capture worklet)
// against a threshold that follows the room's noise floor, with an onset time (a click is not speech), a hangover
// (the pause that ends a question) and a pre-roll (the frames just before the onset, so the first syllable is kept).
// While the answer plays the onset bar is higher, so that what leaks from the speakers past the browser's echo
// cancellation is less likely to interrupt it. Pure: no DOM, so Node's tests run it too.

export const VAD_DEFAULTS = Object.freeze({
  /** Below this RMS nothing is speech, however quiet the room (about -42 dBFS). */
  minThreshold: 0.008,
  /** Speech is this many times the noise floor (about +12 dB). */
  noiseFactor: 4,
  /** Continuous voiced time before a question is taken to start. */
  onsetMs: 100,
  /** Silence after speech that ends the question. */
  hangoverMs: 800,
  /** Kept from before the onset. */
  preRollMs: 300,
  /** Less voiced time than this in an utterance: a cough or a bump, dropped. */
  minSpeechMs: 250,
  /** A question is cut (and sent) at this length. */
  maxUtteranceMs: 30_000,
  /** While the answer plays: threshold and onset multiplied by this. */
  bargeInFactor: 2,
});

export class EnergyVad {
  constructor(options = {}) {
    this.options = { ...VAD_DEFAULTS, ...options };
    this.reset();
  }

  /** Back to silence, forgetting any utterance in progress (the noise floor is kept). */
  reset() {
    this.speaking = false;
    this.voicedMs = 0;
    this.silentMs = 0;
    this.speechMs = 0;
    this.utteranceMs = 0;
    this.preRoll = [];
    this.preRollMs = 0;
    this.utterance = [];
    if (this.noise === undefined) this.noise = null;
  }

  /** The RMS above which a frame counts as voiced now. */
  threshold(strict = false) {
    const { minThreshold, noiseFactor, bargeInFactor } = this.options;
    const base = Math.max(minThreshold, (this.noise ?? 0) * noiseFactor);
    return strict ? base * bargeInFactor : base;
  }

  /** Learns the noise floor from frames that are not speech: quick to fall, slow to rise. */
  learnNoise(rms) {
    if (this.noise === null) this.noise = rms;
    else this.noise = rms < this.noise ? this.noise * 0.9 + rms * 0.1 : this.noise * 0.995 + rms * 0.005;
  }

  /**
   * One frame of samples and its RMS, lasting `frameMs`. `strict`: the answer is playing (barge-in needs more).
   * Returns null, or { type: 'start' } at an onset, { type: 'end', frames, speechMs } when a question ended,
   * { type: 'discard' } when what started was too short to be one.
   */
  push(frame, rms, frameMs, strict = false) {
    const o = this.options;
    if (!this.speaking) {
      this.preRoll.push(frame);
      this.preRollMs += frameMs;
      while (this.preRoll.length > 1 && this.preRollMs - frameMs >= o.preRollMs) {
        this.preRoll.shift();
        this.preRollMs -= frameMs;
      }
      if (rms > this.threshold(strict)) {
        this.voicedMs += frameMs;
        if (this.voicedMs >= o.onsetMs * (strict ? o.bargeInFactor : 1)) {
          this.speaking = true;
          this.utterance = this.preRoll;
          this.utteranceMs = this.preRollMs;
          this.speechMs = this.voicedMs;
          this.silentMs = 0;
          this.preRoll = [];
          this.preRollMs = 0;
          return { type: 'start' };
        }
      } else {
        this.voicedMs = 0;
        this.learnNoise(rms);
      }
      return null;
    }
    this.utterance.push(frame);
    this.utteranceMs += frameMs;
    // Hysteresis: once speaking, quieter sounds (the end of a word) still count as speech.
    if (rms > this.threshold(false) * 0.6) {
      this.silentMs = 0;
      this.speechMs += frameMs;
    } else {
      this.silentMs += frameMs;
    }
    if (this.silentMs >= o.hangoverMs || this.utteranceMs >= o.maxUtteranceMs) {
      const frames = this.utterance;
      const speechMs = this.speechMs;
      this.reset();
      return speechMs >= o.minSpeechMs ? { type: 'end', frames, speechMs } : { type: 'discard' };
    }
    return null;
  }
}
