// Plays a turn's AudioChunkEvents in index order as they arrive: each WAV is decoded with decodeAudioData and
// scheduled to start exactly when the previous one ends, so the first sentence plays while later ones are still being
// synthesised. stop() silences everything at once (barge-in, cancel) and drops chunks still decoding.
import { base64ToBytes } from './wav.js';

/** decodeAudioData in its callback form: older Safari has no promise form. */
function decode(context, bytes) {
  return new Promise((resolve, reject) => context.decodeAudioData(bytes, resolve, (error) => reject(error ?? new Error('undecodable audio'))));
}

export class ChunkPlayer {
  /**
   * @param {AudioContext} context
   * @param {{ onChange?: () => void, onError?: (message: string) => void }} hooks
   */
  constructor(context, hooks = {}) {
    this.context = context;
    this.hooks = hooks;
    this.turnId = null;
    /** Bumped by every stop/begin: decodes finishing later for an older generation are dropped. */
    this.generation = 0;
    this.next = 0;
    this.ready = new Map();
    this.sources = new Set();
    this.endsAt = 0;
    /** Chunks started / played to their end, over the page's life (the tests read them). */
    this.started = 0;
    this.played = 0;
  }

  get playing() {
    return this.sources.size > 0;
  }

  /** Plays the chunks of this turn from now on (anything playing stops). */
  begin(turnId) {
    this.stop();
    this.turnId = turnId;
  }

  /** One AudioChunkEvent; ignored unless it belongs to the turn being played. */
  add(turnId, index, base64) {
    if (turnId !== this.turnId) return;
    const generation = this.generation;
    decode(this.context, base64ToBytes(base64))
      .then((buffer) => {
        if (generation !== this.generation) return;
        this.ready.set(index, buffer);
        this.pump();
      })
      .catch((error) => {
        if (generation !== this.generation) return;
        // Skip it rather than stall the chunks after it.
        this.ready.set(index, null);
        this.hooks.onError?.(`Audio chunk ${index} could not be played (${error?.message ?? error}).`);
        this.pump();
      });
  }

  pump() {
    while (this.ready.has(this.next)) {
      const buffer = this.ready.get(this.next);
      this.ready.delete(this.next);
      this.next += 1;
      if (buffer) this.schedule(buffer);
    }
  }

  schedule(buffer) {
    const context = this.context;
    if (context.state === 'suspended') context.resume().catch(() => {});
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    const when = Math.max(context.currentTime + 0.03, this.endsAt);
    this.endsAt = when + buffer.duration;
    const generation = this.generation;
    source.onended = () => {
      this.sources.delete(source);
      if (generation === this.generation) this.played += 1;
      this.hooks.onChange?.();
    };
    this.sources.add(source);
    source.start(when);
    this.started += 1;
    this.hooks.onChange?.();
  }

  /** Silences playback now and forgets what was queued. */
  stop() {
    this.generation += 1;
    this.turnId = null;
    this.next = 0;
    this.ready.clear();
    this.endsAt = 0;
    const had = this.sources.size > 0;
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // not started yet in some browsers' eyes
      }
      source.disconnect();
    }
    this.sources.clear();
    if (had) this.hooks.onChange?.();
    return had;
  }
}
