// Realtime voice chat: microphone → /relay/realtime → provider, and the reply back to
// the speakers, with interruption, a transcript, an event log, latency and cost.
//
// The page never holds a key: Connect asks the server (a Gradio handler) for a one-time
// relay ticket and the session settings, then opens the relay WebSocket with it. Audio
// runs in one AudioContext at 24 kHz (static/realtime-worklets.js): the capture worklet
// sends 40 ms PCM16 frames, the player worklet plays deltas through a jitter buffer and
// counts what it really played, per item, for conversation.item.truncate.
(() => {
  const RATE = 24000;
  const FRAME = 960; // 40 ms
  const PREBUFFER = 1440; // 60 ms of jitter buffer
  const LOG_MAX = 600; // rows kept in the event log
  const REC_MAX_S = 600; // conversation audio kept for export
  const IMAGE_MAX = 8 * 1024 * 1024;
  const LATENCY_MAX = 200; // latency rows kept (the table scrolls)
  const PTT_MIN = 2400; // 100 ms: the least a push-to-talk hold must capture to be committed
  const CONNECT_WAIT_MS = 20000; // a Connect click that never got its settings frees the button again

  const { escape, statusLine, b64, unb64, isOpen, relayUrl, microphone, captureNode } = window.pgCommon;
  const $ = (id) => document.getElementById(id);
  const now = () => performance.now();
  const status = statusLine("pg-rt-status", "pg-rt-bad");

  // what one conversation accumulates; Connect starts from a fresh set
  function conversation() {
    return {
      micStartAt: null,
      capturedSamples: 0,
      connectedOnce: false,
      response: null, // {id, active}
      received: {}, // item_id -> samples received
      played: {}, // item_id -> samples played
      playingItem: null,
      turns: [], // latency records (the last LATENCY_MAX)
      turnCount: 0,
      turn: null,
      owed: false, // a user turn the server could not answer while a reply was running: asked for after it
      lastStoppedAt: null,
      usage: { cost: 0, priced: true, input: 0, output: 0 },
      entries: {}, // item_id -> transcript entry {role, text, el, interrupted}
      order: [],
      log: [],
      lastRow: null,
      errors: [],
      lastTruncate: null,
      truncates: [],
      cut: new Set(), // items interrupted: late deltas for them are not played
      rec: { user: [], assistant: [], userSamples: 0 }, // export
      sentAppends: 0, // input_audio_buffer.append events sent in this conversation
      sentAudioBytes: 0, // and their PCM16 bytes
      pttSamples: 0, // samples sent during the current push-to-talk hold
      notes: [], // plain-words explanations shown for errors and unheard turns
      endedAt: null,
    };
  }

  const state = {
    ws: null,
    cfg: null,
    ctx: null,
    ready: null,
    mic: null, // MediaStream
    source: null, // MediaStreamAudioSourceNode
    capture: null, // the pg-mic-capture node: at most one exists at a time
    capturesCreated: 0, // capture graphs built on this page (one per connection)
    capturesLive: 0, // capture graphs not torn down yet: never more than 1
    gen: 0, // bumped by every Connect and Disconnect: a late getUserMedia of an old one is dropped
    starting: false, // connect() is between its start and the socket
    clickedAt: null, // Connect was clicked; its settings are on their way
    player: null,
    connectedAt: null,
    muted: false,
    pttHeld: false,
    stopWaiters: {},
    stopSeq: 0,
    level: 0,
    ...conversation(),
  };

  // ---------------------------------------------------------------- audio

  function ensureAudio() {
    if (!state.ready) {
      state.ctx = new AudioContext({ sampleRate: RATE, latencyHint: "interactive" });
      state.ready = state.ctx.audioWorklet.addModule("/pg-static/realtime-worklets.js").then(() => {
        state.player = new AudioWorkletNode(state.ctx, "pg-realtime-player", {
          outputChannelCount: [1],
          processorOptions: { prebufferSamples: PREBUFFER },
        });
        state.player.port.onmessage = onPlayer;
        state.player.connect(state.ctx.destination);
      });
    }
    if (state.ctx.state !== "running") state.ctx.resume();
    return state.ready;
  }

  // One capture graph (mic stream → source node → capture worklet) exists at a time: it
  // is built for a connection and fully torn down (worklet closed, nodes disconnected,
  // tracks stopped, port handler dropped) when that connection ends, before any other is
  // built. Frames from a node that is no longer the current one are ignored.
  async function startMic(gen) {
    stopMic();
    let mic;
    try {
      mic = await microphone(true);
    } catch (err) {
      if (gen === state.gen) status(`⚠️ No microphone (${err.name}): you can still type messages.`, true);
      return;
    }
    if (gen !== state.gen || !state.ws) {
      // disconnected (or connected again) while the browser asked for the microphone
      mic.getTracks().forEach((t) => t.stop());
      return;
    }
    stopMic();
    state.mic = mic;
    state.source = state.ctx.createMediaStreamSource(mic);
    const node = captureNode(state.ctx, FRAME);
    node.port.onmessage = (event) => {
      if (state.capture === node) onFrame(event.data);
    };
    state.capture = node;
    state.capturesCreated += 1;
    state.capturesLive += 1;
    state.source.connect(node);
    state.micStartAt = now();
  }

  function stopMic() {
    if (state.capture) {
      const node = state.capture;
      node.port.onmessage = null;
      node.port.postMessage({ type: "close" });
      node.disconnect();
      state.capturesLive -= 1;
    }
    if (state.source) state.source.disconnect();
    if (state.mic) state.mic.getTracks().forEach((t) => t.stop());
    state.capture = null;
    state.source = null;
    state.mic = null;
    state.level = 0;
    meter();
  }

  function sending() {
    if (!state.cfg || state.muted) return false;
    return state.cfg.manual ? state.pttHeld : true;
  }

  function onFrame(m) {
    const live = sending();
    state.level = live ? m.rms : 0;
    meter();
    const pcm = new Int16Array(m.pcm);
    if (state.rec.userSamples < REC_MAX_S * RATE) {
      state.rec.user.push(live ? pcm : new Int16Array(pcm.length));
      state.rec.userSamples += pcm.length;
    }
    state.capturedSamples += pcm.length;
    if (live && open()) {
      send({ type: "input_audio_buffer.append", audio: b64(pcm.buffer) }, true);
      state.sentAppends += 1;
      state.sentAudioBytes += pcm.byteLength;
      if (state.pttHeld) state.pttSamples += pcm.length;
    }
  }

  function onPlayer(event) {
    const m = event.data;
    if (m.type === "start") {
      state.playingItem = m.item;
      const seg = state.rec.assistant.find((x) => x.item === m.item) || pendingSegment(m.item);
      if (seg.at === null) seg.at = recPosition();
      const turn = turnFor(m.item);
      if (turn && turn.heardAt === null) {
        turn.heardAt = now() + ((state.ctx.baseLatency || 0) + (state.ctx.outputLatency || 0)) * 1000;
        renderTurns();
      }
    } else if (m.type === "progress" || m.type === "idle") {
      if (m.item !== null) state.played[m.item] = m.played;
      if (m.type === "idle") state.playingItem = null;
    } else if (m.type === "stopped") {
      if (m.item !== null) state.played[m.item] = m.played;
      state.playingItem = null;
      const waiter = state.stopWaiters[m.id];
      delete state.stopWaiters[m.id];
      if (waiter) waiter(m);
    }
  }

  function stopPlayback() {
    return new Promise((resolve) => {
      if (!state.player) return resolve({ item: null, played: 0 });
      const id = ++state.stopSeq;
      state.stopWaiters[id] = resolve;
      state.player.port.postMessage({ type: "stop", id });
      setTimeout(() => {
        if (state.stopWaiters[id]) {
          delete state.stopWaiters[id];
          resolve({ item: state.playingItem, played: state.played[state.playingItem] || 0 });
        }
      }, 250);
    });
  }

  function recPosition() {
    // the capture clock when there is a microphone, wall time otherwise
    if (state.micStartAt !== null) return state.capturedSamples;
    return Math.round(((now() - state.connectedAt) / 1000) * RATE);
  }

  // ---------------------------------------------------------------- wire

  function open() {
    return isOpen(state.ws);
  }

  function send(event, quiet) {
    if (!open()) return false;
    const text = JSON.stringify(event);
    state.ws.send(text);
    addLog("sent", event, text.length, quiet ? event.audio : null);
    return true;
  }

  async function connect(cfgText) {
    let cfg;
    try {
      cfg = typeof cfgText === "string" ? JSON.parse(cfgText) : cfgText;
    } catch (err) {
      return status(`⚠️ ${err.message}`, true);
    }
    if (state.ws || state.starting) return; // connecting or connected already: Connect is off until it ends
    state.clickedAt = null;
    if (!cfg || cfg.error) {
      buttons();
      return status(`⚠️ ${cfg ? cfg.error : "No settings."}`, true);
    }
    state.starting = true;
    const gen = ++state.gen;
    stopMic();
    reset();
    state.cfg = cfg;
    status("Connecting…");
    buttons();
    try {
      await ensureAudio();
    } catch (err) {
      state.starting = false;
      buttons();
      return status(`⚠️ Audio could not start (${escape(err.message || err.name)}).`, true);
    }
    state.starting = false;
    if (gen !== state.gen) return buttons(); // Disconnect was pressed meanwhile
    state.connectedAt = now();
    const ws = new WebSocket(relayUrl(cfg.ticket));
    state.ws = ws;
    ws.onopen = () => {
      if (state.ws !== ws) return;
      status(`Connected to ${escape(cfg.label)}. ${cfg.manual ? "Hold <b>Push to talk</b> (or Space) to speak." : "Speak any time."}`);
      buttons();
    };
    ws.onmessage = (event) => {
      if (state.ws === ws) onEvent(event.data);
    };
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      // the socket dropped (the relay or the provider closed it): the same teardown as Disconnect
      state.ws = null;
      state.gen += 1;
      ended("the connection closed");
      status(`Disconnected${event.reason ? `: ${escape(event.reason)}` : ""}.`, state.errors.length > 0 && !state.connectedOnce);
      buttons();
    };
    buttons();
    await startMic(gen);
    buttons();
  }

  function disconnect(quiet) {
    state.gen += 1;
    state.clickedAt = null;
    const was = state.ws;
    if (state.ws) {
      const ws = state.ws;
      state.ws = null;
      ws.close();
    }
    if (was || state.capture) ended("you disconnected");
    else stopMic();
    if (!quiet) status("Disconnected.");
    buttons();
  }

  // the end of a conversation, however it came: no capture graph, no playback, no bubble left pending
  function ended(why) {
    stopMic();
    if (state.pttHeld) state.pttHeld = false;
    if (state.player) state.player.port.postMessage({ type: "stop", id: 0 });
    if (state.response) state.response.active = false;
    state.endedAt = now();
    settleUsers(`the session ended (${why}) before it was heard`, `no transcript: the session ended (${why}) first`);
  }

  function update(cfgText) {
    let cfg;
    try {
      cfg = typeof cfgText === "string" ? JSON.parse(cfgText) : cfgText;
    } catch {
      return;
    }
    if (!cfg || cfg.error || !state.cfg) return;
    const changed = JSON.stringify(cfg.session) !== JSON.stringify(state.cfg.session);
    state.cfg = { ...state.cfg, session: cfg.session, manual: cfg.manual, interrupt: cfg.interrupt, prices: cfg.prices };
    if (changed && open()) send({ type: "session.update", session: cfg.session });
    buttons();
  }

  // ---------------------------------------------------------------- events

  function onEvent(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (event.type === "relay.sent") {
      addLog("sent", event.event, JSON.stringify(event.event).length, null, "relay");
      onRelaySent(event.event);
      return;
    }
    addLog("received", event, text.length, event.type === "response.output_audio.delta" ? event.delta : null);
    const handler = HANDLERS[event.type];
    if (handler) handler(event);
  }

  const HANDLERS = {
    "session.created": () => {
      state.connectedOnce = true;
    },
    "session.updated": () => {},
    "input_audio_buffer.speech_started": (e) => {
      // an earlier turn that never reached speech_stopped is over: nothing more will come for it
      settleUsers("not heard: the server lost the end of it", null, (en) => en.stage === "speaking" && en.id !== e.item_id);
      userEntry(e.item_id, "speaking");
      if (state.cfg && state.cfg.interrupt) interrupt("speech");
    },
    "input_audio_buffer.speech_stopped": (e) => {
      state.lastStoppedAt = now();
      startTurn(e.item_id, "spoken");
    },
    "input_audio_buffer.committed": (e) => {
      const en = userEntry(e.item_id, "committed");
      if (!transcribing()) settle(en, "spoken; input transcription is off");
    },
    "input_audio_buffer.cleared": () => {
      settleUsers("not heard: the audio buffer was cleared", null, (en) => en.stage === "speaking");
    },
    "conversation.item.deleted": (e) => {
      const en = state.entries[e.item_id];
      if (en && en.role === "user" && en.stage !== "done") settle(en, "removed from the conversation");
    },
    "conversation.item.input_audio_transcription.delta": (e) => {
      const en = entry(e.item_id, "user");
      en.text = (en.partial ? en.text : "") + e.delta;
      en.partial = true;
      renderEntry(en);
    },
    "conversation.item.input_audio_transcription.completed": (e) => {
      const en = entry(e.item_id, "user");
      en.text = e.transcript || "(nothing heard)";
      en.partial = false;
      en.stage = "done";
      renderEntry(en);
    },
    "conversation.item.input_audio_transcription.failed": (e) => {
      const en = entry(e.item_id, "user");
      en.text = "";
      en.partial = false;
      settle(en, `heard, but not transcribed: ${(e.error && e.error.message) || "the transcription failed"}`);
    },
    "response.created": (e) => {
      state.response = { id: e.response.id, active: true };
      state.owed = false;
      if (!state.turn) startTurn(null, "follow-up"); // a response nobody asked for directly (after a tool)
      if (!state.turn.responseId) state.turn.responseId = e.response.id;
    },
    "response.output_item.added": (e) => {
      if (e.item.type === "message") {
        entry(e.item.id, "assistant", "");
        if (state.turn && !state.turn.item && (!e.response_id || state.turn.responseId === e.response_id)) state.turn.item = e.item.id;
      } else if (e.item.type === "function_call") {
        const en = entry(e.item.id, "tool", `${e.item.name}(…)`);
        en.call = e.item.call_id;
      }
    },
    "response.output_audio.delta": (e) => {
      const ints = unb64(e.delta);
      const samples = new Float32Array(ints.length);
      for (let i = 0; i < ints.length; i++) samples[i] = ints[i] / 32768;
      state.received[e.item_id] = (state.received[e.item_id] || 0) + samples.length;
      if (state.cut.has(e.item_id)) return;
      if (state.player) state.player.port.postMessage({ type: "chunk", item: e.item_id, samples });
      const seg = state.rec.assistant.find((s) => s.item === e.item_id) || pendingSegment(e.item_id);
      seg.chunks.push(ints.slice());
      const turn = turnFor(e.item_id);
      if (turn && turn.firstAudioAt === null) {
        turn.firstAudioAt = now();
        renderTurns();
      }
    },
    "response.output_audio_transcript.delta": (e) => appendAssistant(e.item_id, e.delta),
    "response.output_text.delta": (e) => appendAssistant(e.item_id, e.delta),
    "response.function_call_arguments.done": (e) => {
      const en = entry(e.item_id, "tool");
      en.text = `${e.name || en.text.replace("(…)", "")}(${e.arguments})`;
      renderEntry(en);
    },
    "response.done": (e) => {
      const r = e.response;
      if (state.response && state.response.id === r.id) state.response.active = false;
      if (state.player) state.player.port.postMessage({ type: "end" });
      for (const item of r.output || []) {
        const en = state.entries[item.id];
        if (en && r.status === "cancelled") {
          en.interrupted = true;
          renderEntry(en);
        }
      }
      addUsage(r.usage);
      const turn = state.turns.find((t) => t.responseId === r.id);
      if (turn) {
        turn.doneAt = now();
        turn.status = r.status;
        renderTurns();
      }
      if (state.turn && state.turn.responseId === r.id) state.turn = null;
      if (state.owed && open() && !(state.response && state.response.active)) {
        // the turn that came in while this reply was running is answered now
        state.owed = false;
        send({ type: "response.create" });
        if (!state.turn) startTurn(null, "queued");
      }
    },
    "conversation.item.truncated": (e) => {
      const en = state.entries[e.item_id];
      if (en) {
        en.interrupted = true;
        en.cutAt = e.audio_end_ms;
        renderEntry(en);
      }
    },
    error: (e) => {
      const err = e.error || {};
      state.errors.push(err);
      const said = explain(err);
      if (state.lastRow && state.lastRow.type === "error") {
        state.lastRow.explained = said.text;
        renderRow(state.lastRow);
      }
      note(said.text, said.quiet);
      if (!said.quiet) status(`⚠️ ${escape(said.text)}`, true);
    },
  };

  // ---------------------------------------------------------------- errors in plain words

  // What an error event means for the person talking, in words, and what the page does
  // about it. The server's message stays in the event log's JSON.
  function explain(err) {
    const code = err.code || "";
    const msg = err.message || "";
    const answering = state.response && state.response.active;
    const justStopped = state.lastStoppedAt !== null && now() - state.lastStoppedAt < 3000;
    if (
      code === "conversation_already_has_active_response" ||
      /already has an active response/i.test(msg) ||
      // the embedded backend reports a turn that ended during a reply as an audio failure
      (code === "audio_processing_failed" && answering && justStopped)
    ) {
      state.owed = true;
      if (state.turn && !state.turn.responseId) {
        state.turn.status = "waits for the reply";
        renderTurns();
      }
      return {
        text:
          "The assistant was still answering when your turn ended, so it could not reply at once; " +
          "your turn was heard and will be answered when this reply ends.",
      };
    }
    if (code === "input_audio_buffer_commit_empty" || /buffer too small/i.test(msg)) {
      return {
        text: state.muted
          ? "Nothing was sent: the microphone is muted. Unmute it, then hold Push to talk while you speak."
          : "Nothing was recorded to send: hold Push to talk while you speak (at least 0.1 s).",
      };
    }
    if (code === "response_cancel_not_active") {
      return { text: "The reply had already finished when you interrupted it; there was nothing to cancel.", quiet: true };
    }
    if (code === "input_audio_buffer_full") {
      return { text: "Too much audio is waiting to be sent without a turn ending; release Push to talk or clear it." };
    }
    if (code === "invalid_ticket") return { text: "This connection expired before it opened; press Connect again." };
    if (code === "upstream_unavailable") return { text: `The model could not be reached: ${msg}` };
    if (code === "audio_processing_failed") {
      return { text: "The server could not process this audio (its log has the details); try speaking again." };
    }
    return { text: msg || "The server reported an error." };
  }

  // a line in the transcript that is not a turn: an error explained, a turn that was not heard
  function note(text, quiet) {
    state.notes.push(text);
    const box = $("pg-rt-transcript");
    if (!box) return;
    const last = box.lastElementChild;
    if (last && last.classList.contains("pg-rt-note") && last.dataset.text === text) {
      // the same thing again, right after: count it instead of repeating the sentence
      last.dataset.count = String(Number(last.dataset.count || "1") + 1);
      last.textContent = `${text} (×${last.dataset.count})`;
      return;
    }
    const el = document.createElement("div");
    el.dataset.text = text;
    el.className = `pg-rt-turn pg-rt-note${quiet ? " pg-rt-muted" : " pg-rt-bad"}`;
    el.textContent = text;
    box.appendChild(el);
    box.scrollTop = box.scrollHeight;
  }

  function transcribing() {
    const input = state.cfg && state.cfg.session && state.cfg.session.audio && state.cfg.session.audio.input;
    return !!(input && input.transcription && input.transcription.model);
  }

  // user bubbles: "speaking" (speech started) → "committed" (in the conversation) → "done"
  function userEntry(id, stage) {
    const en = entry(id, "user");
    if (en.stage !== "done" && !(en.stage === "committed" && stage === "speaking")) en.stage = stage;
    renderEntry(en);
    return en;
  }

  function settle(en, why) {
    if (en.stage === "done") return;
    en.stage = "done";
    en.partial = false;
    en.unheard = why;
    renderEntry(en);
  }

  // resolve every pending user bubble: `speaking` ones were never heard, `committed` ones
  // were heard but their transcript will not come
  function settleUsers(speaking, committed, only) {
    for (const id of state.order) {
      const en = state.entries[id];
      if (!en || en.role !== "user" || !en.stage || en.stage === "done") continue;
      if (only && !only(en)) continue;
      if (en.stage === "speaking") settle(en, speaking);
      else if (committed) settle(en, en.text ? null : committed);
    }
  }

  function pendingSegment(item) {
    // audio received before the player started it: placed when it starts
    const seg = { item, at: null, chunks: [], played: 0 };
    state.rec.assistant.push(seg);
    return seg;
  }

  function onRelaySent(event) {
    if (event.type === "conversation.item.create" && event.item && event.item.type === "function_call_output") {
      const en = Object.values(state.entries).find((x) => x.call === event.item.call_id);
      if (en) {
        en.result = event.item.output;
        renderEntry(en);
      }
    }
  }

  function appendAssistant(item, delta) {
    const en = entry(item, "assistant");
    en.text += delta;
    renderEntry(en);
  }

  // ---------------------------------------------------------------- interruption

  // Stop playback at once; cancel the response if it is still being produced (the server
  // has already done so itself when its VAD heard speech with interrupt_response on);
  // truncate the item at what was really played, never beyond what was received, and
  // not at all when nothing had played yet.
  async function interrupt(reason) {
    const item = state.playingItem;
    const active = state.response && state.response.active;
    if (!item && !active) return null;
    const stopped = await stopPlayback();
    if (active && !(reason === "speech" && serverInterrupts())) send({ type: "response.cancel" });
    const target = stopped.item || item;
    const played = stopped.played || 0;
    if (target) state.cut.add(target);
    if (!target || played <= 0) return null;
    const receivedMs = Math.floor(((state.received[target] || 0) * 1000) / RATE);
    const audioEndMs = Math.min(Math.floor((played * 1000) / RATE), receivedMs);
    const seg = state.rec.assistant.find((s) => s.item === target);
    if (seg) seg.played = played;
    state.lastTruncate = { item: target, audio_end_ms: audioEndMs, received_ms: receivedMs, reason };
    state.truncates.push(state.lastTruncate);
    send({ type: "conversation.item.truncate", item_id: target, content_index: 0, audio_end_ms: audioEndMs });
    const en = state.entries[target];
    if (en) {
      en.interrupted = true;
      renderEntry(en);
    }
    return state.lastTruncate;
  }

  function serverInterrupts() {
    const td = state.cfg && state.cfg.session.audio && state.cfg.session.audio.input.turn_detection;
    return !!(td && td.interrupt_response !== false);
  }

  async function sendText(text) {
    text = (text || "").trim();
    if (!text || !open()) return;
    await interrupt("text");
    const id = `item_user_${Date.now()}`;
    entry(id, "user", text);
    send({ type: "conversation.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text }] } });
    send({ type: "response.create" });
    startTurn(null, "typed");
  }

  function sendImage(file) {
    if (!file || !open()) return;
    if (file.size > IMAGE_MAX) return status(`⚠️ The image is ${(file.size / 1048576).toFixed(1)} MB; 8 MB at most.`, true);
    const reader = new FileReader();
    reader.onload = () => {
      const item = {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "Here is an image." },
          { type: "input_image", image_url: reader.result },
        ],
      };
      entry(`item_image_${Date.now()}`, "user", `[image: ${file.name}]`);
      send({ type: "conversation.item.create", item });
    };
    reader.readAsDataURL(file);
  }

  async function pttDown() {
    if (!open() || state.pttHeld) return;
    if (state.muted) {
      // nothing would be recorded: say so instead of committing an empty buffer
      status("🔇 The microphone is muted: press <b>Unmute mic</b>, then hold <b>Push to talk</b> while you speak.", true);
      return;
    }
    // hold first (a release during the interruption still counts), clear what VAD-less
    // audio may be left, then stop the reply
    state.pttHeld = true;
    state.pttSamples = 0;
    send({ type: "input_audio_buffer.clear" });
    buttons();
    await interrupt("push-to-talk");
  }

  function pttUp() {
    if (!state.pttHeld) return;
    state.pttHeld = false;
    buttons();
    if (!open()) return;
    if (state.pttSamples < PTT_MIN) {
      // a tap, or a hold with nothing captured: committing would only earn "buffer too small"
      send({ type: "input_audio_buffer.clear" });
      note("Nothing was sent: hold Push to talk while you speak (at least 0.1 s).", true);
      return;
    }
    send({ type: "input_audio_buffer.commit" });
    send({ type: "response.create" });
    startTurn(null, "push-to-talk");
  }

  function setMuted(muted) {
    if (state.muted === muted) return;
    state.muted = muted;
    if (muted && open()) {
      if (state.pttHeld) {
        // muted mid-hold: what was said is dropped, not answered
        state.pttHeld = false;
        send({ type: "input_audio_buffer.clear" });
        note("Push to talk was cancelled: you muted the microphone.", true);
      } else if (Object.values(state.entries).some((en) => en.role === "user" && en.stage === "speaking")) {
        // muted mid-sentence: no more audio reaches the server's VAD, so the turn would never end
        send({ type: "input_audio_buffer.clear" });
        settleUsers("not heard: you muted the microphone mid-sentence", null, (en) => en.stage === "speaking");
      }
    }
    buttons();
  }

  // ---------------------------------------------------------------- latency and cost

  function startTurn(item, kind) {
    const previous = state.turn;
    if (previous && !previous.responseId && previous.status === "waits for the reply") {
      previous.status = `answered with #${state.turnCount + 1}`;
      renderTurns();
    }
    state.turnCount += 1;
    state.turn = { n: state.turnCount, kind, stoppedAt: now(), item: null, userItem: item, responseId: null, firstAudioAt: null, heardAt: null, doneAt: null, status: null };
    state.turns.push(state.turn);
    if (state.turns.length > LATENCY_MAX) state.turns.shift();
  }

  function turnFor(item) {
    let turn = state.turns.find((t) => t.item === item);
    if (!turn && state.turn && !state.turn.item) {
      state.turn.item = item;
      turn = state.turn;
    }
    return turn;
  }

  function ms(a, b) {
    return a !== null && b !== null ? `${Math.round(a - b)} ms` : "–";
  }

  function renderTurns() {
    const box = $("pg-rt-latency");
    if (!box) return;
    const rows = state.turns.map(
      (t) =>
        `<tr><td>#${t.n} ${t.kind}</td><td>${ms(t.firstAudioAt, t.stoppedAt)}</td><td>${ms(t.heardAt, t.stoppedAt)}</td>` +
        `<td>${ms(t.doneAt, t.stoppedAt)}</td><td>${t.status || "…"}</td></tr>`,
    );
    const stuck = box.scrollTop + box.clientHeight >= box.scrollHeight - 4; // follow the newest row
    const older = state.turnCount > state.turns.length ? state.turnCount - state.turns.length : 0;
    box.style.maxHeight = "16em";
    box.style.overflowY = "auto";
    box.innerHTML =
      "<table><thead><tr><th>turn</th><th>end of speech (or send) → first audio</th><th>→ heard</th>" +
      "<th>→ response.done</th><th></th></tr></thead>" +
      `<tbody>${rows.join("")}</tbody></table>` +
      (older ? `<div class="pg-rt-muted">The ${older} oldest turns are not shown (the table keeps ${LATENCY_MAX}).</div>` : "");
    if (stuck) box.scrollTop = box.scrollHeight;
  }

  function addUsage(u) {
    if (!u) return;
    const p = (state.cfg && state.cfg.prices) || {};
    const inD = u.input_token_details || {};
    const outD = u.output_token_details || {};
    const cached = (inD.cached_tokens_details && inD.cached_tokens_details.audio_tokens) || 0;
    const parts = [
      [inD.text_tokens || 0, p.text_input],
      [Math.max(0, (inD.audio_tokens || 0) - cached), p.audio_input],
      [cached, p.audio_cached_input ?? p.audio_input],
      [outD.text_tokens || 0, p.text_output],
      [outD.audio_tokens || 0, p.audio_output],
    ];
    for (const [tokens, price] of parts) {
      if (tokens && price === undefined) state.usage.priced = false;
      state.usage.cost += (tokens * (price || 0)) / 1e6;
    }
    state.usage.input += u.input_tokens || 0;
    state.usage.output += u.output_tokens || 0;
    const box = $("pg-rt-cost");
    if (box) {
      const cost = state.usage.cost < 0.01 ? state.usage.cost.toFixed(4) : state.usage.cost.toFixed(3);
      box.innerHTML =
        `Tokens in <b>${state.usage.input}</b> · out <b>${state.usage.output}</b> · est. <b>$${cost}</b>` +
        (state.usage.priced ? "" : " <span title='the catalog has no price for some token kinds'>(partly priced)</span>") +
        (state.cfg && state.cfg.local ? " <span class='pg-rt-muted'>(OpenAI's price; local runs are free)</span>" : "");
    }
  }

  // ---------------------------------------------------------------- transcript

  function entry(id, role, text) {
    let en = state.entries[id];
    if (!en) {
      en = { id, role, text: text || "", interrupted: false, el: null };
      state.entries[id] = en;
      state.order.push(id);
      const box = $("pg-rt-transcript");
      if (box) {
        en.el = document.createElement("div");
        en.el.className = `pg-rt-turn pg-rt-${role}`;
        box.appendChild(en.el);
      }
      renderEntry(en);
    } else if (text !== undefined && text !== "…" && !en.text) {
      en.text = text;
      renderEntry(en);
    }
    return en;
  }

  function renderEntry(en) {
    if (!en.el) return;
    const who = { user: "You", assistant: "Assistant", tool: "Tool call" }[en.role] || en.role;
    const pending = en.role === "user" && (en.stage === "speaking" || en.stage === "committed");
    const text = en.text || (en.interrupted ? "(stopped before it spoke)" : pending ? "…" : "");
    let html = `<span class="pg-rt-who">${who}</span> ${escape(text)}`;
    if (en.unheard) html += ` <span class="pg-rt-unheard">(${escape(en.unheard)})</span>`;
    en.el.classList.toggle("pg-rt-pending", pending);
    if (en.result !== undefined) html += `<div class="pg-rt-result">→ ${escape(en.result)}</div>`;
    if (en.interrupted) html += ` <span class="pg-rt-cut">interrupted${en.cutAt !== undefined ? ` at ${(en.cutAt / 1000).toFixed(2)} s` : ""}</span>`;
    en.el.innerHTML = html;
    en.el.classList.toggle("pg-rt-interrupted", en.interrupted);
    const box = en.el.parentElement;
    if (box) box.scrollTop = box.scrollHeight;
  }

  // ---------------------------------------------------------------- event log

  function shown(event, audio) {
    // the event as the log shows it: audio payloads as their size, not megabytes of base64
    const copy = JSON.parse(JSON.stringify(event));
    const bytes = (s) => `<${Math.floor((s.length * 3) / 4)} bytes of audio>`;
    if (audio && copy.audio) copy.audio = bytes(copy.audio);
    if (audio && copy.delta) copy.delta = bytes(copy.delta);
    if (copy.item && copy.item.content) {
      for (const part of copy.item.content) {
        if (part.audio) part.audio = bytes(part.audio);
        if (part.image_url && part.image_url.length > 120) part.image_url = `${part.image_url.slice(0, 40)}… <${part.image_url.length} chars>`;
      }
    }
    return copy;
  }

  function addLog(direction, event, size, audio, by) {
    const t = state.connectedAt === null ? 0 : (now() - state.connectedAt) / 1000;
    const type = event.type || "?";
    const last = state.lastRow;
    if (last && last.type === type && last.direction === direction && /(\.delta|\.append)$/.test(type)) {
      last.count += 1;
      last.bytes += audio ? Math.floor((audio.length * 3) / 4) : 0;
      renderRow(last);
      return;
    }
    const row = { t, direction, type, count: 1, bytes: audio ? Math.floor((audio.length * 3) / 4) : 0, size, by, event: shown(event, audio), el: null };
    state.log.push(row);
    state.lastRow = row;
    const box = $("pg-rt-log");
    if (box) {
      row.el = document.createElement("details");
      row.el.className = `pg-rt-row pg-rt-${direction}${type === "error" ? " pg-rt-error" : ""}`;
      box.appendChild(row.el);
      renderRow(row);
      while (box.children.length > LOG_MAX) box.removeChild(box.firstChild);
      box.scrollTop = box.scrollHeight;
    }
    while (state.log.length > LOG_MAX) state.log.shift();
  }

  function renderRow(row) {
    if (!row.el) return;
    const arrow = row.direction === "sent" ? "▲" : "▼";
    const extra = [];
    if (row.count > 1) extra.push(`×${row.count}`);
    if (row.bytes) extra.push(`${(row.bytes / 1024).toFixed(1)} KB audio`);
    if (row.by) extra.push(`by ${row.by}`);
    if (row.type === "error" && row.event.error) extra.push(escape(row.explained || row.event.error.message || ""));
    const open = row.el.open;
    row.el.innerHTML =
      `<summary><span class="pg-rt-dir">${arrow}</span><span class="pg-rt-t">${row.t.toFixed(3)}</span>` +
      `<span class="pg-rt-type">${escape(row.type)}</span><span class="pg-rt-extra">${extra.join(" · ")}</span></summary>` +
      `<pre>${escape(JSON.stringify(row.event, null, 2))}</pre>`;
    row.el.open = open;
  }

  // ---------------------------------------------------------------- export

  function exportWav() {
    const user = state.rec.user;
    let length = state.rec.userSamples;
    const segs = state.rec.assistant.filter((s) => s.at !== null && s.chunks.length);
    for (const s of segs) {
      const total = s.chunks.reduce((a, c) => a + c.length, 0);
      s.length = s.played && s.played < total ? s.played : total;
      length = Math.max(length, s.at + s.length);
    }
    length = Math.min(length, REC_MAX_S * RATE);
    const data = new Int16Array(length * 2); // stereo: left you, right the assistant
    let pos = 0;
    for (const chunk of user) {
      for (let i = 0; i < chunk.length && pos < length; i++, pos++) data[pos * 2] = chunk[i];
    }
    for (const s of segs) {
      let p = s.at;
      let left = s.length;
      for (const chunk of s.chunks) {
        for (let i = 0; i < chunk.length && left > 0 && p < length; i++, p++, left--) data[p * 2 + 1] = chunk[i];
      }
    }
    const header = new DataView(new ArrayBuffer(44));
    const str = (o, s) => [...s].forEach((c, i) => header.setUint8(o + i, c.charCodeAt(0)));
    str(0, "RIFF");
    header.setUint32(4, 36 + data.byteLength, true);
    str(8, "WAVEfmt ");
    header.setUint32(16, 16, true);
    header.setUint16(20, 1, true);
    header.setUint16(22, 2, true);
    header.setUint32(24, RATE, true);
    header.setUint32(28, RATE * 4, true);
    header.setUint16(32, 4, true);
    header.setUint16(34, 16, true);
    str(36, "data");
    header.setUint32(40, data.byteLength, true);
    download(new Blob([header.buffer, data.buffer], { type: "audio/wav" }), "conversation.wav");
  }

  function transcript() {
    return {
      mode: state.cfg && state.cfg.mode,
      model: state.cfg && state.cfg.model,
      session: state.cfg && state.cfg.session,
      turns: state.order.map((id) => {
        const en = state.entries[id];
        const out = { item_id: id, role: en.role, text: en.text, interrupted: en.interrupted };
        if (en.cutAt !== undefined) out.audio_end_ms = en.cutAt;
        if (en.result !== undefined) out.result = en.result;
        if (en.unheard) out.note = en.unheard;
        return out;
      }),
      latency_ms: state.turns.map((t) => ({
        turn: t.n,
        kind: t.kind,
        first_audio: t.firstAudioAt && Math.round(t.firstAudioAt - t.stoppedAt),
        heard: t.heardAt && Math.round(t.heardAt - t.stoppedAt),
        done: t.doneAt && Math.round(t.doneAt - t.stoppedAt),
        status: t.status,
      })),
      notes: state.notes,
      usage: { input_tokens: state.usage.input, output_tokens: state.usage.output, estimated_cost_usd: state.usage.cost },
    };
  }

  function exportJson() {
    download(new Blob([JSON.stringify(transcript(), null, 2)], { type: "application/json" }), "conversation.json");
  }

  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  }

  // ---------------------------------------------------------------- page

  function meter() {
    const fill = document.querySelector("#pg-rt-meter .pg-rt-meter-fill");
    if (fill) fill.style.width = `${Math.min(100, Math.sqrt(state.level) * 180)}%`;
  }

  function connectButton() {
    // #pg-rt-connect is the Gradio button itself (elem_id); the page owns its disabled state
    const el = $("pg-rt-connect");
    return el && el.tagName !== "BUTTON" ? el.querySelector("button") : el;
  }

  function busy() {
    if (state.clickedAt !== null && now() - state.clickedAt > CONNECT_WAIT_MS) state.clickedAt = null;
    return !!state.ws || state.starting || state.clickedAt !== null;
  }

  function buttons() {
    const connected = open();
    const connectBtn = connectButton();
    if (connectBtn) {
      const off = busy();
      connectBtn.disabled = off;
      connectBtn.title = off ? "Connected (or connecting): press Disconnect first" : "";
    }
    const mute = $("pg-rt-mute");
    if (mute) {
      mute.disabled = !connected;
      mute.textContent = state.muted ? "Unmute mic" : "Mute mic";
    }
    const ptt = $("pg-rt-ptt");
    if (ptt) {
      const manual = !!(state.cfg && state.cfg.manual);
      ptt.disabled = !connected || !manual || state.muted;
      ptt.title = manual && state.muted ? "The microphone is muted: unmute it to talk" : "Hold to talk (or hold Space)";
      ptt.textContent = manual && state.muted ? "Push to talk (muted)" : "Push to talk";
      ptt.classList.toggle("pg-rt-held", state.pttHeld);
    }
    for (const id of ["pg-rt-send", "pg-rt-image-btn"]) {
      const b = $(id);
      if (b) b.disabled = !connected;
    }
    const dot = $("pg-rt-dot");
    if (dot) dot.className = connected ? "pg-rt-on" : "";
  }

  function reset() {
    Object.assign(state, conversation());
    for (const id of ["pg-rt-transcript", "pg-rt-log", "pg-rt-latency", "pg-rt-cost"]) {
      const box = $(id);
      if (box) box.innerHTML = "";
    }
  }

  document.addEventListener("click", (event) => {
    const t = event.target instanceof Element ? event.target : null;
    if (!t) return;
    if (t.closest("#pg-rt-connect")) {
      // Gradio's handler fetches the ticket; until the socket is settled, further clicks do nothing
      if (!busy()) {
        state.clickedAt = now();
        setTimeout(buttons, 0); // after Gradio's own click handler has run
        setTimeout(buttons, CONNECT_WAIT_MS + 100);
      }
    } else if (t.closest("#pg-rt-mute")) {
      setMuted(!state.muted);
    } else if (t.closest("#pg-rt-send")) {
      const box = $("pg-rt-text");
      sendText(box.value);
      box.value = "";
    } else if (t.closest("#pg-rt-image-btn")) {
      $("pg-rt-image").click();
    } else if (t.closest("#pg-rt-export-wav")) {
      exportWav();
    } else if (t.closest("#pg-rt-export-json")) {
      exportJson();
    }
  });
  document.addEventListener("change", (event) => {
    if (event.target && event.target.id === "pg-rt-image") {
      sendImage(event.target.files[0]);
      event.target.value = "";
    }
  });
  document.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t && t.id === "pg-rt-text" && event.key === "Enter") {
      event.preventDefault();
      sendText(t.value);
      t.value = "";
    } else if (event.code === "Space" && !event.repeat && state.cfg && state.cfg.manual && open()) {
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
      event.preventDefault();
      pttDown();
    }
  });
  document.addEventListener("keyup", (event) => {
    if (event.code === "Space" && state.pttHeld) pttUp();
  });
  for (const kind of ["pointerdown", "pointerup", "pointerleave"]) {
    document.addEventListener(kind, (event) => {
      const t = event.target instanceof Element ? event.target.closest("#pg-rt-ptt") : null;
      if (kind === "pointerdown" && t && !t.disabled) pttDown();
      else if (kind !== "pointerdown" && state.pttHeld && (t || kind === "pointerup")) pttUp();
    });
  }

  // `receive` feeds one server event to the page as if the relay had sent it (tests, demos)
  window.pgRealtime = { connect, disconnect, update, interrupt, sendText, exportWav, transcript, state, setMuted, receive: onEvent };
})();
