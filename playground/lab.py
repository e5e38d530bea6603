"""What the notebooks share: a provider that works with or without a key, and small
ipywidgets apps built on the same specs, runner and snippet renderer as the web app.

``provider()`` is OpenAI when ``OPENAI_API_KEY`` is set (or the server at
``OPENAI_BASE_URL``), and otherwise the embedded backend, started once per kernel on a
free loopback port, so every notebook runs top to bottom with no key and no network.
Widget apps keep their handlers as plain methods, so tests drive them by setting values
and clicking buttons programmatically.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from playground.client.providers import Provider, embedded_provider, resolve_provider
from playground.client.results import SpeechResult
from playground.client.runner import Runner
from playground.core.catalog import get_catalog
from playground.core.snippets import render
from playground.core.specs import SpeechSpec
from playground.core.vibes import Vibe, builtin_vibes_dir, load_vibes

__all__ = ["MiniStudio", "audio_player", "provider", "vibes"]

_SERVER: Any = None
_PROVIDER: Provider | None = None


def provider() -> Provider:
    """The provider the notebooks talk to (the embedded backend when there is no key)."""
    global _SERVER, _PROVIDER
    if _PROVIDER is not None:
        return _PROVIDER
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        _PROVIDER = resolve_provider()
        return _PROVIDER
    from playground.backend.app import create_standalone_app
    from playground.backend.settings import BackendSettings
    from playground.serving import BackgroundServer

    _SERVER = BackgroundServer(create_standalone_app(BackendSettings(api_key=None), warm=True))
    url = _SERVER.start()
    atexit.register(_SERVER.stop)
    _PROVIDER = embedded_provider(url)
    return _PROVIDER


def vibes() -> list[Vibe]:
    """The built-in vibe presets (the same files the Studio's chips come from)."""
    return load_vibes(builtin_vibes_dir(), voices=get_catalog().voice_ids)


def audio_player(result: SpeechResult, *, autoplay: bool = False) -> Any:
    """An inline player for a speech result (``IPython.display.Audio``)."""
    from IPython.display import Audio

    return Audio(data=result.audio, autoplay=autoplay)


class MiniStudio:
    """The Studio in a notebook: voice, vibe chips, instructions, speed, Play, and the code.

    ``play()`` is what the Play button calls; ``last`` holds the last ``SpeechResult``.
    """

    def __init__(self, script: str = "Hello from the notebook studio. Pick a voice and a vibe.") -> None:
        import ipywidgets as w

        cat = get_catalog()
        self._vibes = {v.name: v for v in vibes()[:8]}
        self.voice = w.Dropdown(options=cat.voice_ids, value=cat.speech_defaults["voice"], description="Voice")
        self.vibe = w.ToggleButtons(options=["(none)", *self._vibes], value="(none)", description="Vibe")
        self.instructions = w.Textarea(description="Instructions", layout=w.Layout(width="95%", height="90px"))
        self.script = w.Textarea(value=script, description="Script", layout=w.Layout(width="95%", height="70px"))
        self.speed = w.FloatSlider(value=1.0, min=cat.speed.min, max=cat.speed.max, step=0.05, description="Speed")
        self.button = w.Button(description="▶ Play", button_style="primary")
        self.status = w.HTML()
        self.player = w.Output()
        self.code = w.HTML()
        self.last: SpeechResult | None = None
        self.vibe.observe(self._vibe_changed, names="value")
        for widget in (self.voice, self.instructions, self.script, self.speed):
            widget.observe(lambda _: self._show_code(), names="value")
        self.button.on_click(lambda _: self.play())
        self.widget = w.VBox([self.voice, self.vibe, self.instructions, self.script, self.speed,
                              w.HBox([self.button, self.status]), self.player, self.code])  # fmt: skip
        self._show_code()

    def spec(self) -> SpeechSpec:
        return SpeechSpec(
            input=self.script.value,
            voice=self.voice.value,
            model="gpt-4o-mini-tts",
            instructions=self.instructions.value.strip(),
            speed=float(self.speed.value),
            response_format="wav",
        )

    def _vibe_changed(self, change: dict[str, Any]) -> None:
        vibe = self._vibes.get(change["new"])
        if vibe is not None:
            self.instructions.value = vibe.instructions_text

    def _show_code(self) -> None:
        import html

        spec = self.spec()
        problems = spec.problems()
        if problems:
            self.code.value = "<b>Fix the settings:</b> " + html.escape("; ".join(str(p) for p in problems))
            return
        code = render(spec, "python", base_url=provider().snippet_base_url)
        self.code.value = f"<pre>{html.escape(code)}</pre>"

    def play(self) -> SpeechResult | None:
        """Run the spec through the runner, show the player and the timings."""
        spec = self.spec()
        problems = spec.problems()
        if problems:
            self.status.value = "⚠️ " + "; ".join(str(p) for p in problems)
            return None
        self.status.value = "Generating…"
        result = Runner(provider()).speech(spec)
        self.last = result
        self.status.value = (
            f"first byte {result.ttfb_ms:.0f} ms · total {result.total_ms:.0f} ms · {result.duration_s or 0:.2f} s"
        )
        # set the output's content directly: capturing with ``with self.player:`` left a
        # kernel run by nbclient waiting for an idle message that never came (1 run in 3)
        self.player.outputs = ()
        self.player.append_display_data(audio_player(result))
        return result
