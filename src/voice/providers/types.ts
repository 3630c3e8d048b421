// What the pipeline needs from a speech provider: speech-to-text and text-to-speech, cancellable.
import type { AudioInput } from '../audio';

export interface SttProvider {
  readonly name: string;
  /** Returns the transcript; throws VoiceError (BAD_AUDIO, STT_UNAVAILABLE, provider errors). */
  transcribe(audio: AudioInput, options: { signal?: AbortSignal; tenantId?: string }): Promise<string>;
}

export interface SpeechChunk {
  /** A complete WAV file. */
  wav: Buffer;
  sampleRate: number;
  mimeType: string;
}

export interface TtsProvider {
  readonly name: string;
  /** The longest text one synthesis call accepts (Orpheus: 200 characters). */
  readonly maxChars: number;
  /** Speaks one chunk of at most maxChars; null when this provider cannot speak here (text still flows). */
  synthesize(text: string, options: { voice?: string | null; signal?: AbortSignal }): Promise<SpeechChunk | null>;
}
