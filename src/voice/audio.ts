// Audio in and out: size and format checks for uploads, WAV decode/encode (PCM 16-bit), resampling and joining.
import { VoiceError } from './errors';

/** Groq's upload limit for speech-to-text; we apply it to every provider so clients see one rule. */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

export const AUDIO_FORMATS = ['WAV', 'WEBM', 'OGG', 'MP3', 'FLAC'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

export const audioMimeTypes: Record<AudioFormat, string> = {
  WAV: 'audio/wav',
  WEBM: 'audio/webm',
  OGG: 'audio/ogg',
  MP3: 'audio/mpeg',
  FLAC: 'audio/flac',
};

export interface AudioInput {
  bytes: Buffer;
  format: AudioFormat;
}

export interface Pcm {
  sampleRate: number;
  /** Mono, signed 16-bit. */
  samples: Int16Array;
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** Upper bound of the decoded size of a base64 string, without decoding it (to reject huge uploads cheaply). */
export function base64DecodedLength(base64: string): number {
  const trimmed = base64.replace(/\s+/g, '');
  const padding = trimmed.endsWith('==') ? 2 : trimmed.endsWith('=') ? 1 : 0;
  return Math.floor((trimmed.length * 3) / 4) - padding;
}

export function formatBytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Decodes a base64 upload; a payload that is not base64 or is empty is BAD_AUDIO. */
export function decodeBase64Audio(base64: string): Buffer {
  if (!BASE64.test(base64)) throw new VoiceError('BAD_AUDIO', 'audio is not valid base64; send the file bytes base64-encoded', false);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw new VoiceError('BAD_AUDIO', 'audio is empty; send a recording with speech in it', false);
  if (bytes.length > MAX_AUDIO_BYTES) {
    throw new VoiceError('BAD_AUDIO', `audio is ${formatBytes(bytes.length)}; the limit is 25 MB`, false);
  }
  return bytes;
}

/** Which container the bytes look like, from their first bytes; null when none of ours. */
export function sniffFormat(bytes: Buffer): AudioFormat | null {
  if (bytes.length >= 12 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WAVE') return 'WAV';
  if (bytes.length >= 4 && bytes.toString('ascii', 0, 4) === 'OggS') return 'OGG';
  if (bytes.length >= 4 && bytes.toString('ascii', 0, 4) === 'fLaC') return 'FLAC';
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x1a45dfa3) return 'WEBM';
  if (bytes.length >= 3 && bytes.toString('ascii', 0, 3) === 'ID3') return 'MP3';
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0) return 'MP3';
  return null;
}

/** Checks that the bytes are the declared format (and, for WAV, that they decode); throws BAD_AUDIO otherwise. */
export function checkAudio(input: AudioInput): void {
  const found = sniffFormat(input.bytes);
  if (found !== input.format) {
    throw new VoiceError(
      'BAD_AUDIO',
      found
        ? `audio looks like ${found} but audioFormat is ${input.format}; set audioFormat: ${found}`
        : `audio is not a ${input.format} file (unrecognised header); send WAV, WEBM, OGG, MP3 or FLAC`,
      false,
    );
  }
  if (input.format === 'WAV') {
    // The header says all there is to check; converting every sample here would only delay speech-to-text.
    const { data, fmt } = readWav(input.bytes);
    if (wavFrames(data, fmt) === 0) throw new VoiceError('BAD_AUDIO', 'audio WAV has no samples; send a recording with speech in it', false);
  }
}

/**
 * Decodes a PCM WAV (8/16/24/32-bit integer or 32-bit float, any channel count) to mono 16-bit.
 * Tolerates streamed WAVs whose header sizes are placeholders (espeak-ng --stdout writes 0x7fffffff).
 */
export function decodeWav(bytes: Buffer): Pcm {
  const { data, fmt } = readWav(bytes);
  return toMono16(data, fmt);
}

interface WavFormat {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
}

/** Walks a WAV's chunks to its sample data and checks the encoding is one we decode; throws BAD_AUDIO otherwise. */
function readWav(bytes: Buffer): { data: Buffer; fmt: WavFormat } {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new VoiceError('BAD_AUDIO', 'audio is not a WAV file (no RIFF/WAVE header)', false);
  }
  let offset = 12;
  let fmt: WavFormat | null = null;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new VoiceError('BAD_AUDIO', 'audio WAV has a truncated fmt chunk', false);
      let format = bytes.readUInt16LE(body);
      if (format === 0xfffe && size >= 40) format = bytes.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE: sub-format
      fmt = { format, channels: bytes.readUInt16LE(body + 2), sampleRate: bytes.readUInt32LE(body + 4), bits: bytes.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new VoiceError('BAD_AUDIO', 'audio WAV has no fmt chunk before its data', false);
      const end = Math.min(bytes.length, size >= 0x7fffffff ? bytes.length : body + size);
      const { format, channels, sampleRate, bits } = fmt;
      const supported = (format === 1 && [8, 16, 24, 32].includes(bits)) || (format === 3 && bits === 32);
      if (!supported || channels < 1 || sampleRate < 1000 || sampleRate > 384000) {
        throw new VoiceError('BAD_AUDIO', `audio WAV encoding is not supported (format ${format}, ${bits}-bit, ${channels} channels, ${sampleRate} Hz); send 16-bit PCM`, false);
      }
      return { data: bytes.subarray(body, end), fmt };
    }
    offset = body + size + (size % 2);
  }
  throw new VoiceError('BAD_AUDIO', 'audio WAV has no data chunk', false);
}

/** Whole frames (one sample per channel) in the data. */
const wavFrames = (data: Buffer, fmt: WavFormat) => Math.floor(data.length / ((fmt.bits / 8) * fmt.channels));

function toMono16(data: Buffer, fmt: WavFormat): Pcm {
  const { format, channels, sampleRate, bits } = fmt;
  const width = bits / 8;
  const frames = wavFrames(data, fmt);
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = (i * channels + c) * width;
      let v: number;
      if (format === 3) v = Math.max(-1, Math.min(1, data.readFloatLE(at))) * 32767;
      else if (bits === 8) v = (data[at] - 128) << 8;
      else if (bits === 16) v = data.readInt16LE(at);
      else if (bits === 24) v = data.readIntLE(at, 3) >> 8;
      else v = data.readInt32LE(at) >> 16;
      sum += v;
    }
    samples[i] = Math.round(sum / channels);
  }
  return { sampleRate, samples };
}

/** A mono 16-bit PCM WAV file. */
export function encodeWav(pcm: Pcm): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(pcm.sampleRate, 24);
  out.writeUInt32LE(pcm.sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, dataBytes).copy(out, 44);
  return out;
}

/** Windowed-sinc low-pass (Hann, 63 taps) at `cutoff` Hz, so downsampling does not fold hiss into the speech band. */
function lowPass(samples: Int16Array, sampleRate: number, cutoff: number): Float64Array {
  const taps = 63;
  const half = (taps - 1) / 2;
  const fc = cutoff / sampleRate;
  const kernel = new Float64Array(taps);
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - half;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    kernel[i] = sinc * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += kernel[i];
  }
  const out = new Float64Array(samples.length);
  for (let n = 0; n < samples.length; n++) {
    let acc = 0;
    for (let k = 0; k < taps; k++) {
      const j = n + k - half;
      if (j >= 0 && j < samples.length) acc += samples[j] * kernel[k];
    }
    out[n] = acc / sum;
  }
  return out;
}

/** Resampling: low-pass first when going down, then linear interpolation; good enough for speech recognition. */
export function resample(pcm: Pcm, sampleRate: number): Pcm {
  if (pcm.sampleRate === sampleRate) return pcm;
  const source = sampleRate < pcm.sampleRate ? lowPass(pcm.samples, pcm.sampleRate, sampleRate * 0.45) : Float64Array.from(pcm.samples);
  const length = Math.floor((pcm.samples.length * sampleRate) / pcm.sampleRate);
  const out = new Int16Array(length);
  const ratio = pcm.sampleRate / sampleRate;
  for (let i = 0; i < length; i++) {
    const x = i * ratio;
    const j = Math.floor(x);
    const f = x - j;
    const a = source[j] ?? 0;
    const b = source[j + 1] ?? a;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(a * (1 - f) + b * f)));
  }
  return { sampleRate, samples: out };
}

/** Adds silence before and after (recognisers need a little lead-in and tail). */
export function padSilence(pcm: Pcm, seconds: number): Pcm {
  const pad = Math.round(pcm.sampleRate * seconds);
  const out = new Int16Array(pcm.samples.length + 2 * pad);
  out.set(pcm.samples, pad);
  return { sampleRate: pcm.sampleRate, samples: out };
}

/** Joins WAV chunks into one WAV at the first chunk's rate (the CLI writes one answer file). */
export function joinWavs(chunks: Buffer[]): Buffer {
  const pcms = chunks.map(decodeWav);
  if (pcms.length === 0) return encodeWav({ sampleRate: 24000, samples: new Int16Array(0) });
  const rate = pcms[0].sampleRate;
  const parts = pcms.map((p) => resample(p, rate).samples);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const samples = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    samples.set(p, at);
    at += p.length;
  }
  return encodeWav({ sampleRate: rate, samples });
}
