// Studio playback: PCM from /studio/pcm/<token> into an AudioWorklet, so the first
// sentence is heard while the rest is still being made. Measures, in the page, the
// time from the Play click to the first played sample (the figure a listener feels),
// and keeps one sound at a time across the studio player, previews and other <audio>.
// The Audio chat tab plays its replies through the same player, in its own box
// (``begin("pg-ac-live")``): one sound at a time holds across both tabs.
(() => {
  const RATE = 24000;
  const state = {
    ctx: null,
    node: null,
    ready: null,
    abort: null,
    held: [], // Float32Array chunks of the last clip, for replay
    receivedSamples: 0,
    playedSamples: 0,
    ended: false,
    playing: false, // fetching or playing: the studio player has the floor
    box: "pg-live", // the player markup the status goes to (Studio, or Audio chat's "pg-ac-live")
    key: null, // this person's stream key (GET /studio/key): the prefix of every token we make
    token: null, // the token of the stream being played
    button: "Play", // what the user pressed, for the status line
    // timings (performance.now() ms) of the last run, read by tests and the bench
    last: { clickAt: null, firstChunkAt: null, firstPlayedAt: null, streamEndAt: null, heardMs: null },
  };

  const $ = (id) => document.getElementById(id);

  function fmt(seconds) {
    const s = Math.max(0, seconds);
    return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  }

  function render(status) {
    const box = $(state.box);
    if (!box) return;
    const total = state.receivedSamples / RATE;
    const played = state.playedSamples / RATE;
    const fill = box.querySelector(".pg-live-fill");
    const buffer = box.querySelector(".pg-live-buffer");
    const estimate = Math.max(total, 0.001);
    if (fill) fill.style.width = `${Math.min(100, (100 * played) / estimate)}%`;
    if (buffer) buffer.style.width = state.ended ? "100%" : `${total > 0 ? 100 : 0}%`;
    const time = $(`${state.box}-time`);
    if (time) time.textContent = `${fmt(played)} / ${fmt(total)}`;
    if (status !== undefined) {
      const line = $(`${state.box}-status`);
      if (line) line.innerHTML = status;
    }
    const replay = $(`${state.box}-replay`);
    if (replay) replay.disabled = !(state.ended && state.held.length);
  }

  function onWorklet(event) {
    const m = event.data;
    if (m.type === "first") {
      // The worklet has just rendered the first sample; it reaches the speaker after the
      // context's processing and output latency. (Mapping the worklet's clock through
      // getOutputTimestamp() is unreliable right after a context starts.)
      const latency = (state.ctx.baseLatency || 0) + (state.ctx.outputLatency || 0);
      const at = performance.now() + latency * 1000;
      state.last.firstPlayedAt = at;
      if (state.last.clickAt !== null) {
        state.last.heardMs = Math.max(0, at - state.last.clickAt);
        render(`▶ Heard <b>${Math.round(state.last.heardMs)} ms</b> after you pressed ${state.button}.`);
        fillMetrics();
      }
    } else if (m.type === "progress") {
      state.playedSamples = m.played;
      render();
    } else if (m.type === "ended") {
      state.playing = false;
      state.playedSamples = m.played;
      render(
        state.last.heardMs !== null
          ? `Done. First audio was heard ${Math.round(state.last.heardMs)} ms after ${state.button}.`
          : "Done.",
      );
    }
  }

  function ensureAudio() {
    if (!state.ready) {
      state.ctx = new AudioContext({ sampleRate: RATE, latencyHint: "interactive" });
      state.ready = state.ctx.audioWorklet.addModule("/pg-static/pcm-worklet.js").then(() => {
        state.node = new AudioWorkletNode(state.ctx, "pg-pcm-player", { outputChannelCount: [1] });
        state.node.port.onmessage = onWorklet;
        state.node.connect(state.ctx.destination);
      });
    }
    if (state.ctx.state !== "running") state.ctx.resume();
    return state.ready;
  }

  function stopPcm() {
    if (state.abort) state.abort.abort();
    state.abort = null;
    state.playing = false;
    if (state.node) state.node.port.postMessage({ type: "stop" });
  }

  // One sound at a time, and the latest intent wins. Every media element that plays is
  // tracked (Gradio's players play through detached <audio> elements, which the DOM's
  // "play" event misses). When one starts, the studio player and the others stop, unless
  // Play was the user's latest click and the studio is still playing: then the newcomer
  // is a late autoplay (a voice preview that arrived after Play was pressed) and it yields.
  const media = new Set();
  const clicks = { play: -1, other: -1 };
  const nativePlay = HTMLMediaElement.prototype.play;

  function studioBusy() {
    return state.playing;
  }

  function arbitrate(element) {
    media.add(element);
    if (clicks.play > clicks.other && studioBusy()) {
      return false; // a stale autoplay: the studio keeps the floor
    }
    stopPcm();
    pauseOtherAudio(element);
    return true;
  }

  HTMLMediaElement.prototype.play = function (...args) {
    const result = nativePlay.apply(this, args);
    if (!arbitrate(this)) {
      // pause as soon as it really starts (pausing a pending play() would reject it)
      result.then(() => this.pause()).catch(() => {});
    }
    return result;
  };

  function pauseOtherAudio(except) {
    for (const m of [...media, ...document.querySelectorAll("audio, video")]) {
      if (m !== except && !m.paused) m.pause();
    }
  }

  function mediaPlaying() {
    return [...media].filter((m) => !m.paused).length;
  }

  function post(samples) {
    state.node.port.postMessage({ type: "chunk", samples });
  }

  async function play(token, box = "pg-live") {
    if (!token) return;
    state.box = box;
    await ensureAudio();
    stopPcm();
    state.held = [];
    state.receivedSamples = 0;
    state.playedSamples = 0;
    state.ended = false;
    Object.assign(state.last, { firstChunkAt: null, firstPlayedAt: null, streamEndAt: null, heardMs: null });
    render("Generating… playback starts with the first sentence.");
    const abort = new AbortController();
    state.abort = abort;
    state.playing = true;
    let carry = null; // an odd byte waiting for its pair
    try {
      const response = await fetch(`/studio/pcm/${encodeURIComponent(token)}`, { signal: abort.signal });
      if (response.status === 404) {
        refreshKey(); // a key from before a server restart, or expired: the next play has a fresh one
        if (state.token !== token) return; // superseded (adopt): that stream has the floor
        state.playing = false;
        render("Nothing to play: the note under Play says what to fix.");
        return;
      }
      if (!response.ok) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        let bytes = value;
        if (carry !== null) {
          const joined = new Uint8Array(bytes.length + 1);
          joined[0] = carry;
          joined.set(bytes, 1);
          bytes = joined;
          carry = null;
        }
        if (bytes.length % 2) {
          carry = bytes[bytes.length - 1];
          bytes = bytes.subarray(0, bytes.length - 1);
        }
        if (!bytes.length) continue;
        const ints = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
        const samples = new Float32Array(ints.length);
        for (let i = 0; i < ints.length; i++) samples[i] = ints[i] / 32768;
        if (state.last.firstChunkAt === null) state.last.firstChunkAt = performance.now();
        state.held.push(samples);
        state.receivedSamples += samples.length;
        post(samples.slice());
        render();
      }
      state.last.streamEndAt = performance.now();
      state.ended = true;
      state.abort = null;
      state.node.port.postMessage({ type: "end" });
      render();
    } catch (err) {
      if (err.name !== "AbortError") {
        state.playing = false;
        render(`⚠️ Playback stopped: ${err.message}`);
      }
    }
  }

  // The server waits briefly for a run whose token our page made (the stream is opened
  // before Play has registered it) only if the token carries this person's stream key;
  // any other unknown token is answered 404 at once.
  async function refreshKey() {
    try {
      const response = await fetch("/studio/key", { cache: "no-store" });
      if (!response.ok) return;
      const body = await response.json();
      state.key = body.key;
      clearTimeout(refreshKey.timer);
      refreshKey.timer = setTimeout(refreshKey, Math.min(3600, body.max_age_s / 2) * 1000);
    } catch (err) {
      setTimeout(refreshKey, 30000);
    }
  }

  function newToken() {
    if (!state.key) return ""; // no key yet: the server makes the token and the page adopts it
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    const nonce = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    return `${state.key}.${nonce}`;
  }

  // Called by the Play event before its request leaves: a fresh token, whose stream
  // is opened at once (the server waits briefly for the run to be registered). Async
  // only for a click that came before the page had its key.
  async function begin(box = "pg-live") {
    if (!state.key) await refreshKey();
    const token = newToken();
    if (box !== "pg-live" && (state.last.clickAt === null || performance.now() - state.last.clickAt > 1000)) {
      // sent with Enter: no click to measure from, so from now
      clicks.play = state.last.clickAt = performance.now();
      state.button = "Enter";
      pauseOtherAudio(null);
    }
    state.box = box;
    state.token = token;
    if (token) play(token, box);
    return token;
  }

  // The token the server answered Play with: the same as ours, or (when ours had no key
  // or an old one) its own, which is played from here.
  function adopt(token) {
    if (!token || token === state.token) return;
    state.token = token;
    refreshKey(); // ours was missing or refused: the next play has a fresh one
    play(token, state.box);
  }

  async function replay() {
    if (!state.held.length) return;
    await ensureAudio();
    pauseOtherAudio(null);
    stopPcm();
    state.playedSamples = 0;
    for (const chunk of state.held) post(chunk.slice());
    state.node.port.postMessage({ type: "end" });
    state.playing = true;
    render("Playing again.");
  }

  function stop() {
    stopPcm();
    render("Stopped.");
  }

  // Resolves once the first sample has played (or after ``ms``): the Play event waits on
  // it before asking for the metrics, so that request does not compete with the first sentence.
  function settled(ms = 2500) {
    return new Promise((resolve) => {
      const start = performance.now();
      const poll = () => {
        if (state.last.firstPlayedAt !== null || performance.now() - start > ms) resolve();
        else setTimeout(poll, 20);
      };
      poll();
    });
  }

  function fillMetrics() {
    if (state.last.heardMs === null) return;
    document.querySelectorAll(".pg-heard").forEach((el) => {
      el.textContent = `${Math.round(state.last.heardMs)} ms`;
    });
  }

  // Arm on the Play click itself: the click is the user gesture that lets audio start,
  // and its time is where "first audio" is measured from. Capture phase: before Gradio.
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      const send = target.closest("#pg-play, #pg-ac-send");
      if (send) {
        clicks.play = performance.now();
        state.button = send.id === "pg-play" ? "Play" : "Send";
        Object.assign(state.last, {
          clickAt: performance.now(),
          firstChunkAt: null,
          firstPlayedAt: null,
          streamEndAt: null,
          heardMs: null,
        });
        pauseOtherAudio(null);
        stopPcm();
        state.playing = true; // the studio claims the floor from the click on
        ensureAudio();
      } else if (target.closest("#pg-live-stop, #pg-ac-live-stop")) {
        stop();
      } else if (target.closest("#pg-live-replay, #pg-ac-live-replay")) {
        clicks.play = performance.now();
        state.box = target.closest("#pg-ac-live-replay") ? "pg-ac-live" : "pg-live";
        replay();
      } else {
        clicks.other = performance.now();
      }
    },
    true,
  );

  // One sound at a time: any <audio> that starts (a voice preview, a compare column)
  // silences the studio player and every other <audio> on the page.
  document.addEventListener(
    "play",
    (event) => {
      if (event.target instanceof HTMLMediaElement && !arbitrate(event.target)) event.target.pause();
    },
    true,
  );

  refreshKey();
  window.pgStudio = { begin, adopt, play, stop, replay, settled, fillMetrics, mediaPlaying, state };
})();
