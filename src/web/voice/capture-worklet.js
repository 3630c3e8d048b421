// AudioWorklet processor of the voice page: mixes the microphone to mono and posts frames of about 20 ms with their
// RMS to the page (the recorder and the voice-activity detector read them there). Loaded by capture.js.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    // `sampleRate` is the AudioWorkletGlobalScope's: the context's rate.
    this.frameSize = options?.processorOptions?.frameSize ?? Math.round(sampleRate / 50);
    this.frame = new Float32Array(this.frameSize);
    this.at = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const n = channels[0].length;
      const count = channels.length;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let c = 0; c < count; c++) v += channels[c][i];
        this.frame[this.at++] = v / count;
        if (this.at === this.frameSize) this.flush();
      }
    }
    return true;
  }

  flush() {
    const frame = this.frame;
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
    this.port.postMessage({ samples: frame, rms: Math.sqrt(sum / frame.length) }, [frame.buffer]);
    this.frame = new Float32Array(this.frameSize);
    this.at = 0;
  }
}

registerProcessor('udc-capture', CaptureProcessor);
