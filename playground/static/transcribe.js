// Transcription tab: a word or segment button plays the audio from its start time.
(() => {
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest(".pg-tr-seek") : null;
    if (!target) return;
    const player = document.getElementById("pg-tr-player");
    if (!player) return;
    player.currentTime = Number(target.dataset.t) || 0;
    player.play();
    document.querySelectorAll(".pg-tr-seek.pg-on").forEach((b) => b.classList.remove("pg-on"));
    target.classList.add("pg-on");
  });
})();

// Live mode: the microphone through /relay/realtime into a realtime transcription session.
//
// Record asks the server for a one-time relay ticket (the key never reaches the page),
// then captures 40 ms PCM16 frames at 24 kHz with the voice chat's capture worklet
// (/pg-static/realtime-worklets.js, "pg-mic-capture") and appends them. Each VAD turn
// becomes a line stamped with where it starts in the recording; its text grows with the
// transcription deltas and is settled by "completed". Stop commits a turn still being
// spoken and waits for its text before closing, so the relay's copy of the recording is
// whole when it is handed to file transcription.
(() => {
  const RATE = 24000;
  const FRAME = 960; // 40 ms
  const FLUSH_MS = 15000; // the longest Stop waits for the last turn's text

  const { escape, clock, statusLine, b64, isOpen, sendJson, relayUrl, dispatch, ensureWorklets, microphone, captureNode } = window.pgCommon;
  const $ = (id) => document.getElementById(id);
  const state = {
    ws: null,
    ctx: null,
    ready: null,
    mic: null,
    capture: null,
    recording: false,
    samples: 0, // captured and sent, on the audio clock
    speaking: false,
    turns: {}, // item_id -> {start, text, partial, done, el}
    order: [],
    pending: new Set(), // committed or speaking items without their completed yet
    errors: [],
    log: [], // event types received, for tests and debugging
    closed: null, // resolves when the socket has closed
  };

  const status = statusLine("pg-lt-status");
  const open = () => isOpen(state.ws);
  const send = (event) => sendJson(state.ws, event);

  function turn(id, start) {
    let t = state.turns[id];
    if (!t) {
      t = { id, start: start ?? Math.round((state.samples * 1000) / RATE), text: "", partial: true, done: false, el: null };
      state.turns[id] = t;
      state.order.push(id);
      const box = $("pg-lt-text");
      if (box) {
        t.el = document.createElement("div");
        t.el.className = "pg-lt-turn";
        box.appendChild(t.el);
      }
    }
    return t;
  }

  function render(t) {
    if (!t.el) return;
    const text = t.text || (t.done ? "(nothing heard)" : "…");
    t.el.innerHTML = `<span class="pg-lt-t">${clock(t.start)}</span><span class="${t.done ? "" : "pg-lt-partial"}">${escape(text)}</span>`;
    t.el.dataset.item = t.id;
    const box = t.el.parentElement;
    if (box) box.scrollTop = box.scrollHeight;
  }

  const HANDLERS = {
    "input_audio_buffer.speech_started": (e) => {
      state.speaking = true;
      state.pending.add(e.item_id);
      render(turn(e.item_id, e.audio_start_ms));
    },
    "input_audio_buffer.speech_stopped": () => {
      state.speaking = false;
    },
    "input_audio_buffer.committed": (e) => {
      state.pending.add(e.item_id);
      render(turn(e.item_id));
    },
    "conversation.item.input_audio_transcription.delta": (e) => {
      const t = turn(e.item_id);
      t.text += e.delta || "";
      render(t);
    },
    "conversation.item.input_audio_transcription.completed": (e) => {
      const t = turn(e.item_id);
      t.text = e.transcript || "";
      t.done = true;
      state.pending.delete(e.item_id);
      render(t);
    },
    "conversation.item.input_audio_transcription.failed": (e) => {
      const t = turn(e.item_id);
      t.text = `(transcription failed: ${(e.error && e.error.message) || "?"})`;
      t.done = true;
      state.pending.delete(e.item_id);
      render(t);
    },
    error: (e) => {
      state.errors.push(e.error || {});
      if (!state.recording) state.pending.clear(); // e.g. a final commit refused: nothing more will come
      status(`⚠️ ${escape((e.error && e.error.message) || "error")}`, true);
    },
  };

  function onFrame(m) {
    if (!state.recording) return;
    const fill = document.querySelector("#pg-lt-meter .pg-lt-fill");
    if (fill) fill.style.width = `${Math.min(100, Math.sqrt(m.rms) * 180)}%`;
    state.samples += FRAME;
    const c = $("pg-lt-clock");
    if (c) c.textContent = clock(Math.round((state.samples * 1000) / RATE));
    send({ type: "input_audio_buffer.append", audio: b64(m.pcm) });
  }

  function stopMic() {
    state.recording = false;
    if (state.capture) state.capture.disconnect();
    if (state.mic) state.mic.getTracks().forEach((t) => t.stop());
    state.capture = null;
    state.mic = null;
    const dot = $("pg-lt-dot");
    if (dot) dot.className = "";
  }

  async function start(cfgText) {
    let cfg;
    try {
      cfg = typeof cfgText === "string" ? JSON.parse(cfgText) : cfgText;
    } catch (err) {
      return status(`⚠️ ${escape(err.message)}`, true);
    }
    if (!cfg || cfg.error) return status(`⚠️ ${escape(cfg ? cfg.error : "No settings.")}`, true);
    await stop();
    Object.assign(state, { samples: 0, speaking: false, turns: {}, order: [], pending: new Set(), errors: [], log: [] });
    const box = $("pg-lt-text");
    if (box) box.innerHTML = "";
    status("Connecting…");
    await ensureWorklets(state, RATE);
    try {
      state.mic = await microphone();
    } catch (err) {
      return status(`⚠️ No microphone (${escape(err.name)}).`, true);
    }
    const ws = new WebSocket(relayUrl(cfg.ticket));
    state.ws = ws;
    state.closed = new Promise((resolve) => {
      ws.onclose = (event) => {
        if (state.ws === ws) state.ws = null;
        stopMic();
        if (!state.errors.length) status(`Stopped${event.reason ? `: ${escape(event.reason)}` : ""}.`);
        resolve();
      };
    });
    ws.onmessage = (event) => dispatch(event.data, HANDLERS, state.log);
    ws.onopen = () => {
      const source = state.ctx.createMediaStreamSource(state.mic);
      state.capture = captureNode(state.ctx, FRAME);
      state.capture.port.onmessage = (event) => onFrame(event.data);
      source.connect(state.capture);
      state.recording = true;
      const dot = $("pg-lt-dot");
      if (dot) dot.className = "pg-on";
      status(`Recording through ${escape(cfg.label)}: speak, and pause between sentences.`);
    };
  }

  // Stop capturing; finish the turn in progress and wait for every pending text, then close.
  async function stop() {
    const ws = state.ws;
    if (!ws) return;
    const wasRecording = state.recording;
    stopMic();
    if (open() && wasRecording && state.speaking) send({ type: "input_audio_buffer.commit" });
    const deadline = performance.now() + FLUSH_MS;
    while (open() && state.pending.size && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (state.ws === ws) ws.close();
    await state.closed;
  }

  function transcript() {
    return state.order.map((id) => ({ item_id: id, start_ms: state.turns[id].start, text: state.turns[id].text, done: state.turns[id].done }));
  }

  window.pgLive = { start, stop, transcript, state };
})();
