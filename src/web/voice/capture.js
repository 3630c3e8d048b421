// The microphone: getUserMedia into Web Audio, mixed to mono in an AudioWorklet (capture-worklet.js), delivered as
// frames of about 20 ms with their RMS. A ScriptProcessorNode stands in where AudioWorklet is missing (old Safari).
// Raw PCM rather than MediaRecorder: MediaRecorder's container differs per browser (WebM/Opus in Chrome and Firefox,
// MP4/AAC in Safari, which the server does not take), while PCM encodes to the same WAV everywhere (wav.js).

/** Why the microphone could not be used, in words a user can act on. */
export class MicrophoneError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

export function describeMicrophoneError(error) {
  const name = error?.name ?? '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
    return new MicrophoneError(
      'denied',
      'Microphone access was denied. Allow the microphone for this site in the browser’s site settings (the icon beside the address), then try again, or type your question instead.',
    );
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    return new MicrophoneError('missing', 'No microphone was found. Connect one and try again, or type your question instead.');
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return new MicrophoneError('busy', 'The microphone could not be started (another application may be using it). Try again, or type your question instead.');
  }
  return new MicrophoneError('failed', `The microphone could not be started (${error?.message || name || 'unknown error'}). You can type your question instead.`);
}

export class Microphone {
  /**
   * @param {AudioContext} context the page's one AudioContext (capture and playback share it)
   * @param {(samples: Float32Array, rms: number, frameMs: number) => void} onFrame
   */
  constructor(context, onFrame) {
    this.context = context;
    this.onFrame = onFrame;
    this.stream = null;
    this.nodes = [];
    this.opening = null;
    this.workletLoaded = null;
  }

  get isOpen() {
    return this.stream !== null;
  }

  /**
   * Opens the microphone (asking for permission the first time); resolves once frames flow. An open microphone is
   * reused as it is. `echoCancellation`: on for hands-free mode, which listens while the answer plays, so that the
   * answer does not interrupt itself; off for push-to-talk, which stops the answer before it records, so there is no
   * echo to remove and the recogniser gets the voice untouched.
   */
  open({ echoCancellation = true } = {}) {
    if (this.stream) return Promise.resolve();
    if (!this.opening) this.opening = this.start(echoCancellation).finally(() => (this.opening = null));
    return this.opening;
  }

  async start(echoCancellation) {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new MicrophoneError('insecure', 'The microphone works only on a secure page: open this page over HTTPS or on localhost. You can still type your question.');
    }
    const context = this.context;
    if (context.state !== 'running') await context.resume().catch(() => {});
    // The recorder's module first: audio that arrives before the graph is connected would be lost (the first word).
    if (context.audioWorklet) {
      this.workletLoaded ??= context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url).href);
      try {
        await this.workletLoaded;
      } catch (error) {
        this.workletLoaded = null;
        throw new MicrophoneError('failed', `The audio recorder could not be loaded (${error?.message ?? error}).`);
      }
    }
    let stream;
    try {
      // Noise suppression and automatic gain are made for people listening on a call: they gate and pump the voice in
      // ways that cost speech recognition more than the noise does, so they stay off.
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation, noiseSuppression: false, autoGainControl: false } });
    } catch (error) {
      throw describeMicrophoneError(error);
    }
    const frameSize = Math.round(context.sampleRate / 50);
    const source = context.createMediaStreamSource(stream);
    // Pulled by the destination through a silent gain: a node that reaches no destination may not be processed.
    const mute = context.createGain();
    mute.gain.value = 0;
    mute.connect(context.destination);
    let node;
    if (context.audioWorklet) {
      node = new AudioWorkletNode(context, 'udc-capture', { numberOfInputs: 1, numberOfOutputs: 1, processorOptions: { frameSize } });
      node.port.onmessage = (event) => this.deliver(event.data.samples, event.data.rms);
    } else {
      node = context.createScriptProcessor(1024, 1, 1);
      node.onaudioprocess = (event) => {
        const samples = Float32Array.from(event.inputBuffer.getChannelData(0));
        let sum = 0;
        for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
        this.deliver(samples, Math.sqrt(sum / samples.length));
      };
    }
    source.connect(node);
    node.connect(mute);
    this.nodes = [source, node, mute];
    this.stream = stream;
    // A microphone unplugged (or its permission revoked) ends the track: close, and let the page say so.
    stream.getAudioTracks()[0]?.addEventListener('ended', () => {
      this.close();
      this.onEnded?.();
    });
  }

  deliver(samples, rms) {
    if (!this.stream) return;
    this.onFrame(samples, rms, (samples.length / this.context.sampleRate) * 1000);
  }

  /** Stops the microphone (the browser's recording indicator goes off). */
  close() {
    for (const node of this.nodes) {
      try {
        node.disconnect();
      } catch {
        // already disconnected
      }
      if (node.port) node.port.onmessage = null;
      if ('onaudioprocess' in node) node.onaudioprocess = null;
    }
    this.nodes = [];
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }
}
