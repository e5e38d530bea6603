// Audio worklets for the realtime voice chat tab, run in one AudioContext at 24 kHz.
//
// pg-mic-capture turns the microphone into PCM16 frames of `frameSamples` (40 ms) with
// their RMS level, so the page sends exactly what the Realtime API expects. A "close"
// message ends it for good (process returns false), so a torn-down capture graph never
// keeps posting frames next to its replacement.
//
// pg-realtime-player plays the reply's audio deltas through a small jitter buffer: it
// waits for `prebufferSamples` before starting (and again after running dry, unless the
// response has ended), counts the samples it has really played per item, and on "stop"
// answers with that count, which is what conversation.item.truncate needs.

class PgMicCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frame = (options.processorOptions && options.processorOptions.frameSamples) || 960;
    this.buf = new Int16Array(this.frame);
    this.n = 0;
    this.sum = 0;
    this.closed = false;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "close") this.closed = true;
    };
  }

  process(inputs) {
    if (this.closed) return false;
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const s = Math.max(-1, Math.min(1, ch[i]));
      this.buf[this.n++] = s < 0 ? s * 32768 : s * 32767;
      this.sum += s * s;
      if (this.n === this.frame) {
        const rms = Math.sqrt(this.sum / this.frame);
        this.port.postMessage({ type: "frame", pcm: this.buf.buffer, rms }, [this.buf.buffer]);
        this.buf = new Int16Array(this.frame);
        this.n = 0;
        this.sum = 0;
      }
    }
    return true;
  }
}

class PgRealtimePlayer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.prebuffer = (options.processorOptions && options.processorOptions.prebufferSamples) || 1440;
    this.queue = []; // {item, samples}
    this.offset = 0;
    this.queued = 0;
    this.buffering = true;
    this.ended = false; // the response finished: play the tail even below the prebuffer
    this.current = null; // item being played
    this.played = 0; // samples of `current` played
    this.lastReport = 0;
    this.port.onmessage = (event) => {
      const m = event.data;
      if (m.type === "chunk") {
        this.queue.push({ item: m.item, samples: m.samples });
        this.queued += m.samples.length;
        this.ended = false;
      } else if (m.type === "end") {
        this.ended = true;
      } else if (m.type === "stop") {
        const answer = { type: "stopped", id: m.id, item: this.current, played: this.played };
        this.queue = [];
        this.offset = 0;
        this.queued = 0;
        this.buffering = true;
        this.ended = false;
        this.port.postMessage(answer);
      }
    };
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (this.buffering) {
      if (this.queued >= this.prebuffer || (this.ended && this.queued > 0)) this.buffering = false;
      else {
        out.fill(0);
        return true;
      }
    }
    let filled = 0;
    while (filled < out.length && this.queue.length) {
      const head = this.queue[0];
      if (head.item !== this.current) {
        this.current = head.item;
        this.played = 0;
        this.lastReport = 0;
        this.port.postMessage({ type: "start", item: head.item });
      }
      const n = Math.min(out.length - filled, head.samples.length - this.offset);
      out.set(head.samples.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.offset += n;
      this.played += n;
      this.queued -= n;
      if (this.offset >= head.samples.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    if (filled < out.length) out.fill(0, filled);
    if (this.current !== null && this.played - this.lastReport >= sampleRate / 20) {
      this.lastReport = this.played;
      this.port.postMessage({ type: "progress", item: this.current, played: this.played });
    }
    if (!this.queue.length && filled > 0) {
      // ran dry: whatever comes next (more of this reply, or the next one) prebuffers again
      this.port.postMessage({ type: "progress", item: this.current, played: this.played });
      if (this.ended) this.port.postMessage({ type: "idle", item: this.current, played: this.played });
      this.buffering = true;
      this.ended = false;
    }
    return true;
  }
}

registerProcessor("pg-mic-capture", PgMicCapture);
registerProcessor("pg-realtime-player", PgRealtimePlayer);
