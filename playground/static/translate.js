// Translate tab: live speech translation through /relay/realtime (relay "translation" mode).
//
// Start asks the server for a one-time relay ticket (the key never reaches the page). Once
// the session is updated the source goes out as 40 ms PCM16 frames at 24 kHz from the voice
// chat's capture worklet (/pg-static/realtime-worklets.js, "pg-mic-capture"): the microphone,
// or an uploaded file played into the same worklet in real time, then two seconds of silence
// and session.close. The translated speech plays through the voice chat's player worklet
// ("pg-realtime-player") as it arrives. A phrase is keyed by its elapsed_ms (the input
// position of the frame it ended in); its latency is from when this page had sent the audio
// up to that position to the first translated audio of the phrase.
(() => {
  const RATE = 24000;
  const FRAME = 960; // 40 ms
  const TAIL_MS = 2000; // silence after a file, so its last phrase ends
  const CLOSE_WAIT_MS = 20000; // the longest Stop waits for session.closed
  const ROWS_MAX = 200;

  const { escape, clock, statusLine, b64, unb64, sendJson, relayUrl, dispatch, ensureWorklets, microphone, captureNode } = window.pgCommon;
  const $ = (id) => document.getElementById(id);
  const fresh = () => ({
    phase: "idle", // idle | connecting | running | closing
    samples: 0, // source samples sent
    sentAt: [], // performance.now() when each 40 ms frame went out
    source: "",
    translation: "",
    phrases: new Map(), // elapsed_ms -> {elapsed_ms, source, translation, latency_ms, el}
    out: [], // translated PCM16 chunks (Int16Array)
    outSamples: 0,
    playedByItem: {},
    played: 0, // translated samples the player has rendered
    errors: [],
    log: [],
    updated: false,
    sessionClosed: false,
    stopping: false,
  });
  const state = { ws: null, ctx: null, ready: null, cfg: null, mic: null, node: null, capture: null, player: null, tail: null, endTimer: null, closed: null, ...fresh() };

  const status = statusLine("pg-tl-status");

  function fail(message) {
    state.errors.push({ message });
    status(`⚠️ ${escape(message)}`, true);
  }

  function startButton(enabled) {
    const b = $("pg-tl-start");
    if (b) b.disabled = !enabled;
  }

  const send = (event) => sendJson(state.ws, event);
  const inputMs = () => (state.samples * 1000) / RATE;

  function meter() {
    const c = $("pg-tl-clock");
    if (c) c.textContent = clock(inputMs());
    const cost = $("pg-tl-cost");
    const price = state.cfg && state.cfg.price_per_minute;
    if (cost) cost.textContent = `cost so far: ${price == null ? "n/a" : `$${((inputMs() / 60000) * price).toFixed(4)}`}`;
    const p = $("pg-tl-played");
    if (p) p.textContent = `played ${(state.played / RATE).toFixed(1)} s`;
  }

  // -- phrases -------------------------------------------------------------------------

  function phrase(elapsed) {
    let key = Number.isFinite(elapsed) ? elapsed : null;
    if (key === null) key = state.phrases.size ? [...state.phrases.keys()].pop() : 0; // no timing: the latest
    let p = state.phrases.get(key);
    if (!p) {
      p = { elapsed_ms: key, source: "", translation: "", latency_ms: null, el: null };
      state.phrases.set(key, p);
      const body = document.querySelector("#pg-tl-phrases tbody");
      if (body) {
        p.el = document.createElement("tr");
        p.el.dataset.elapsed = String(key);
        body.appendChild(p.el);
        while (body.children.length > ROWS_MAX) body.removeChild(body.firstChild);
      }
    }
    return p;
  }

  function drawRow(p) {
    if (!p.el) return;
    const latency = p.latency_ms == null ? "…" : `${Math.round(p.latency_ms)} ms`;
    p.el.innerHTML = `<td>${clock(p.elapsed_ms)}</td><td>${escape(p.source)}</td><td>${escape(p.translation)}</td><td class="pg-tl-latency">${latency}</td>`;
    const box = p.el.closest(".pg-tl-table");
    if (box) box.scrollTop = box.scrollHeight;
  }

  function drawText(id, text) {
    const box = $(id);
    if (!box) return;
    box.textContent = text;
    box.scrollTop = box.scrollHeight;
  }

  // when the page had sent the audio up to `elapsed` ms (the frame that crossed it)
  function sentAt(elapsed) {
    const k = Math.max(0, Math.ceil((elapsed * RATE) / 1000 / FRAME) - 1);
    return state.sentAt[Math.min(k, state.sentAt.length - 1)];
  }

  // -- server events ---------------------------------------------------------------------

  function onAudio(e) {
    const pcm = unb64(e.delta || "");
    if (!pcm.length) return;
    const p = phrase(e.elapsed_ms);
    if (p.latency_ms == null) {
      const sent = sentAt(p.elapsed_ms);
      p.latency_ms = sent == null ? null : Math.max(0, performance.now() - sent);
      drawRow(p);
    }
    if (state.outSamples < (state.cfg.max_seconds || 600) * RATE) {
      state.out.push(pcm);
      state.outSamples += pcm.length;
    }
    const samples = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
    if (state.player) state.player.port.postMessage({ type: "chunk", item: String(p.elapsed_ms), samples }, [samples.buffer]);
    clearTimeout(state.endTimer); // a pause in the deltas: let the player play the tail
    state.endTimer = setTimeout(() => state.player && state.player.port.postMessage({ type: "end" }), 300);
  }

  // a transcript delta: onto the whole text (`key`: "source" or "translation", shown in box `id`) and its phrase's
  const onText = (key, id) => (e) => {
    state[key] += e.delta || "";
    drawText(id, state[key]);
    const p = phrase(e.elapsed_ms);
    p[key] += e.delta || "";
    drawRow(p);
  };

  const HANDLERS = {
    "session.updated": () => {
      if (state.updated) return;
      state.updated = true;
      beginSource();
    },
    "session.input_transcript.delta": onText("source", "pg-tl-source"),
    "session.output_transcript.delta": onText("translation", "pg-tl-target"),
    "session.output_audio.delta": onAudio,
    "session.closed": () => {
      state.sessionClosed = true;
    },
    error: (e) => {
      const err = e.error || {};
      state.errors.push(err);
      const where = err.param ? ` (${escape(err.param)})` : "";
      status(`⚠️ ${escape(err.message || "The provider reported an error.")}${where}`, true);
      if (!state.updated && state.ws) state.ws.close(); // the settings were refused: nothing to translate
    },
  };

  // -- audio -----------------------------------------------------------------------------

  function onFrame(capture, m) {
    if (capture !== state.capture || state.phase !== "running") return;
    const fill = document.querySelector("#pg-tl-meter .pg-tl-fill");
    if (fill) fill.style.width = `${Math.min(100, Math.sqrt(m.rms) * 180)}%`;
    if (send({ type: "session.input_audio_buffer.append", audio: b64(m.pcm) })) {
      state.samples += m.pcm.byteLength / 2;
      state.sentAt.push(performance.now());
      meter();
    }
  }

  function silence(ms, then) {
    let left = Math.ceil(ms / 40);
    const frame = new Int16Array(FRAME);
    state.tail = setInterval(() => {
      if (left-- <= 0 || state.phase !== "running") {
        clearInterval(state.tail);
        state.tail = null;
        if (left < 0) then();
        return;
      }
      onFrame(state.capture, { pcm: frame.slice().buffer, rms: 0 });
    }, 40);
  }

  function beginSource() {
    const cfg = state.cfg;
    const capture = captureNode(state.ctx, FRAME);
    capture.port.onmessage = (event) => onFrame(capture, event.data);
    state.capture = capture;
    state.phase = "running";
    if (cfg.source === "file") {
      const node = state.ctx.createBufferSource();
      node.buffer = state.fileBuffer;
      node.connect(capture);
      node.onended = () => {
        if (node !== state.node || state.phase !== "running") return;
        status(`The file has been sent; finishing the last phrase…`);
        silence(TAIL_MS, () => finish());
      };
      state.node = node;
      node.start();
    } else {
      state.node = state.ctx.createMediaStreamSource(state.mic);
      state.node.connect(capture);
    }
    const dot = $("pg-tl-dot");
    if (dot) dot.className = "pg-on";
    startButton(false);
    status(`Translating into <b>${escape(cfg.language)}</b> through ${escape(cfg.label)}${cfg.source === "file" ? ": streaming the file in real time." : ": speak, and pause between sentences."}`);
  }

  function stopSource() {
    if (state.tail) clearInterval(state.tail);
    state.tail = null;
    if (state.node) {
      try {
        if (state.node.stop) state.node.stop();
      } catch {}
      state.node.disconnect();
    }
    if (state.capture) {
      state.capture.port.onmessage = null;
      state.capture.port.postMessage({ type: "close" });
      state.capture.disconnect();
    }
    if (state.mic) state.mic.getTracks().forEach((t) => t.stop());
    Object.assign(state, { node: null, capture: null, mic: null });
    const dot = $("pg-tl-dot");
    if (dot) dot.className = "";
  }

  function makePlayer() {
    const player = new AudioWorkletNode(state.ctx, "pg-realtime-player", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { prebufferSamples: 2400 },
    });
    player.port.onmessage = (event) => {
      const m = event.data;
      if (player !== state.player || m.played == null) return;
      state.playedByItem[m.item] = Math.max(state.playedByItem[m.item] || 0, m.played);
      state.played = Object.values(state.playedByItem).reduce((a, b) => a + b, 0);
      meter();
    };
    player.connect(state.ctx.destination);
    return player;
  }

  // -- the session -----------------------------------------------------------------------

  function reset() {
    Object.assign(state, fresh());
    drawText("pg-tl-source", "");
    drawText("pg-tl-target", "");
    const body = document.querySelector("#pg-tl-phrases tbody");
    if (body) body.innerHTML = "";
    meter();
  }

  async function prepareSource(cfg) {
    if (cfg.source === "file") {
      const response = await fetch(cfg.file_url);
      if (!response.ok) throw new Error(`could not load the file (${response.status})`);
      state.fileBuffer = await state.ctx.decodeAudioData(await response.arrayBuffer());
      return;
    }
    try {
      state.mic = await microphone();
    } catch (err) {
      throw new Error(`no microphone (${err.name})`);
    }
  }

  function connect(cfg) {
    const ws = new WebSocket(relayUrl(cfg.ticket));
    state.ws = ws;
    state.closed = new Promise((resolve) => {
      ws.onclose = (event) => {
        if (state.ws !== ws) return resolve();
        state.ws = null;
        stopSource();
        if (state.player) state.player.port.postMessage({ type: "end" });
        const wasRunning = state.phase !== "idle";
        state.phase = "idle";
        startButton(true);
        if (!state.sessionClosed && !state.stopping && !state.errors.length && wasRunning) {
          fail(`The connection dropped${event.code && event.code !== 1000 ? ` (code ${event.code})` : ""}: press Start to go on.`);
        } else if (!state.errors.length) {
          status(`Finished: ${state.phrases.size} phrase(s), ${clock(inputMs())} of source. Export keeps both transcripts and the translated speech.`);
        }
        resolve();
      };
    });
    ws.onmessage = (event) => dispatch(event.data, HANDLERS, state.log);
  }

  function connecting() {
    startButton(false);
    status("Connecting…");
  }

  async function start(cfgText) {
    let cfg;
    try {
      cfg = typeof cfgText === "string" ? JSON.parse(cfgText) : cfgText;
    } catch (err) {
      cfg = { error: err.message };
    }
    await stop();
    reset();
    if (!cfg || cfg.error) {
      fail(cfg ? cfg.error : "No settings.");
      return startButton(true);
    }
    state.cfg = cfg;
    state.phase = "connecting";
    connecting();
    try {
      await ensureWorklets(state, RATE);
      if (!state.player) state.player = makePlayer();
      await prepareSource(cfg);
    } catch (err) {
      state.phase = "idle";
      stopSource();
      fail(`Could not start: ${err.message}.`);
      return startButton(true);
    }
    connect(cfg);
  }

  // the source is done: session.close, then wait for session.closed (the server closes)
  async function finish() {
    const ws = state.ws;
    if (!ws) return;
    state.phase = "closing";
    stopSource();
    if (send({ type: "session.close" })) status("Finishing the last phrase…");
    const deadline = performance.now() + CLOSE_WAIT_MS;
    while (state.ws === ws && !state.sessionClosed && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    state.stopping = true;
    if (state.ws === ws) ws.close();
    await state.closed;
  }

  async function stop() {
    if (!state.ws) return;
    if (state.phase === "running") return finish();
    state.stopping = true;
    state.ws.close();
    await state.closed;
  }

  function exportPayload() {
    const all = new Int16Array(state.outSamples);
    let at = 0;
    for (const chunk of state.out) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return JSON.stringify({
      source: state.source,
      translation: state.translation,
      input_ms: inputMs(),
      phrases: [...state.phrases.values()].map(({ el, ...row }) => row),
      audio: b64(all.buffer),
    });
  }

  window.pgTranslate = { start, stop, connecting, exportPayload, state };
})();
