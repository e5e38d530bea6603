// Helpers the page scripts share (realtime.js, transcribe.js, translate.js): loaded first
// from the page head, as window.pgCommon. Each script keeps its own element ids and state;
// these only escape, format, encode and build the pieces they all build alike.
(() => {
  const WORKLETS = "/pg-static/realtime-worklets.js";

  // text for innerHTML
  function escape(s) {
    return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  // milliseconds as m:ss.s
  function clock(ms) {
    const m = Math.floor(ms / 60000);
    return `${m}:${((ms % 60000) / 1000).toFixed(1).padStart(4, "0")}`;
  }

  // a setter for the status line `id`: status(html, bad) marks a bad one with `badClass`
  function statusLine(id, badClass = "pg-bad") {
    return (html, bad) => {
      const line = document.getElementById(id);
      if (!line) return;
      line.innerHTML = html;
      line.classList.toggle(badClass, !!bad);
    };
  }

  // ArrayBuffer -> base64
  function b64(buffer) {
    const bytes = new Uint8Array(buffer);
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  // base64 PCM16 -> Int16Array
  function unb64(text) {
    const s = atob(text);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  }

  const isOpen = (ws) => !!ws && ws.readyState === WebSocket.OPEN;

  // the event as JSON on `ws` if it is open; whether it went
  const sendJson = (ws, event) => isOpen(ws) && (ws.send(JSON.stringify(event)), true);

  // the relay WebSocket's address for a one-time ticket
  const relayUrl = (ticket) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/relay/realtime?ticket=${encodeURIComponent(ticket)}`;

  // a server event (JSON text) to its handler; its type goes on `log` (the last 500)
  function dispatch(text, handlers, log) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    log.push(event.type);
    if (log.length > 500) log.shift();
    const handler = handlers[event.type];
    if (handler) handler(event);
  }

  // the AudioContext at `rate` with the voice chat's worklets, on state.ctx / state.ready (once), running
  async function ensureWorklets(state, rate) {
    if (!state.ready) {
      state.ctx = new AudioContext({ sampleRate: rate, latencyHint: "interactive" });
      state.ready = state.ctx.audioWorklet.addModule(WORKLETS);
    }
    if (state.ctx.state !== "running") await state.ctx.resume();
    return state.ready;
  }

  // the microphone, mono, echo cancelled
  function microphone(noiseSuppression = false) {
    return navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression, autoGainControl: true },
    });
  }

  // a "pg-mic-capture" worklet node that posts PCM16 frames of `frameSamples`
  function captureNode(ctx, frameSamples) {
    return new AudioWorkletNode(ctx, "pg-mic-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      processorOptions: { frameSamples },
    });
  }

  window.pgCommon = { escape, clock, statusLine, b64, unb64, isOpen, sendJson, relayUrl, dispatch, ensureWorklets, microphone, captureNode };
})();
