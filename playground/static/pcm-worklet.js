// AudioWorklet that plays PCM chunks as they arrive: a queue of Float32Array buffers,
// drained 128 frames at a time. It reports the first sample it plays ("first"), how much
// it has played ("progress", about every 100 ms) and when an ended stream ran dry
// ("ended"), so the page measures latency where the listener hears it.
class PgPcmPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.reset();
    this.port.onmessage = (event) => {
      const m = event.data;
      if (m.type === "chunk") this.queue.push(m.samples);
      else if (m.type === "end") this.ending = true;
      else if (m.type === "stop") this.reset();
    };
  }

  reset() {
    this.queue = [];
    this.offset = 0;
    this.played = 0;
    this.started = false;
    this.ending = false;
    this.lastReport = 0;
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let filled = 0;
    while (filled < out.length && this.queue.length) {
      const buf = this.queue[0];
      const n = Math.min(out.length - filled, buf.length - this.offset);
      out.set(buf.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.offset += n;
      if (this.offset >= buf.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    if (filled < out.length) out.fill(0, filled);
    if (filled > 0) {
      if (!this.started) {
        this.started = true;
        this.port.postMessage({ type: "first", time: currentTime });
      }
      this.played += filled;
      if (this.played - this.lastReport >= sampleRate / 10) {
        this.lastReport = this.played;
        this.port.postMessage({ type: "progress", played: this.played });
      }
    }
    if (this.ending && this.started && this.queue.length === 0) {
      this.ending = false;
      this.port.postMessage({ type: "ended", played: this.played });
    }
    return true;
  }
}

registerProcessor("pg-pcm-player", PgPcmPlayer);
