// Recording → upload: the microphone's float samples, downsampled to 16 kHz and encoded as a 16-bit mono PCM WAV,
// base64 for voiceTurn's `audio`. WAV is the one format every provider of the server reads (the offline recogniser
// reads nothing else) and every browser can produce from Web Audio, Safari included (MediaRecorder there gives
// MP4/AAC, which the server does not accept). Pure functions: no DOM, so Node's tests run them too.

/** The rate sent to the server: what speech recognisers work at, and a third of the bytes of 48 kHz. */
export const TARGET_RATE = 16000;

/** Joins recorded frames into one buffer. */
export function concatFloat32(frames) {
  let length = 0;
  for (const f of frames) length += f.length;
  const out = new Float32Array(length);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** A Hann-windowed sinc low-pass kernel at `cutoff` (a fraction of the sample rate), normalised to unit gain. */
function lowPassKernel(cutoff, taps) {
  const half = (taps - 1) / 2;
  const kernel = new Float32Array(taps);
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - half;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    kernel[i] = sinc * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += kernel[i];
  }
  for (let i = 0; i < taps; i++) kernel[i] /= sum;
  return kernel;
}

/**
 * Resamples mono float samples from `fromRate` to `toRate`: going down, a low-pass at 0.45 × the new rate first (so
 * the hiss above 8 kHz does not fold into the speech band), then linear interpolation. Good enough for speech.
 */
export function resampleTo(samples, fromRate, toRate = TARGET_RATE) {
  if (fromRate === toRate) return Float32Array.from(samples);
  let source = samples;
  if (toRate < fromRate) {
    const taps = 31;
    const half = (taps - 1) / 2;
    const kernel = lowPassKernel((0.45 * toRate) / fromRate, taps);
    source = new Float32Array(samples.length);
    for (let n = 0; n < samples.length; n++) {
      let acc = 0;
      for (let k = 0; k < taps; k++) {
        const j = n + k - half;
        if (j >= 0 && j < samples.length) acc += samples[j] * kernel[k];
      }
      source[n] = acc;
    }
  }
  const length = Math.floor((samples.length * toRate) / fromRate);
  const out = new Float32Array(length);
  const ratio = fromRate / toRate;
  for (let i = 0; i < length; i++) {
    const x = i * ratio;
    const j = Math.floor(x);
    const f = x - j;
    const a = source[j] ?? 0;
    const b = j + 1 < source.length ? source[j + 1] : a;
    out[i] = a + (b - a) * f;
  }
  return out;
}

/** A complete mono 16-bit PCM WAV file (44-byte header) of float samples in [-1, 1]. */
export function encodeWav16(samples, sampleRate) {
  const dataBytes = samples.length * 2;
  const buffer = new ArrayBuffer(44 + dataBytes);
  const view = new DataView(buffer);
  const ascii = (offset, text) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // bytes per frame
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, v < 0 ? Math.round(v * 32768) : Math.round(v * 32767), true);
  }
  return buffer;
}

/** base64 of bytes, in slices (String.fromCharCode with a whole recording as arguments overflows the stack). */
export function bytesToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  const slice = 0x8000;
  for (let i = 0; i < bytes.length; i += slice) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + slice));
  return btoa(binary);
}

/** The bytes of a base64 string (an AudioChunkEvent's WAV), as an ArrayBuffer for decodeAudioData. */
export function base64ToBytes(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/** A recording (frames at `sampleRate`) as the base64 WAV at 16 kHz that voiceTurn takes, with its duration. */
export function recordingToWavBase64(frames, sampleRate) {
  const samples = resampleTo(concatFloat32(frames), sampleRate, TARGET_RATE);
  return { base64: bytesToBase64(encodeWav16(samples, TARGET_RATE)), seconds: samples.length / TARGET_RATE, bytes: 44 + samples.length * 2 };
}
