"""Live speech translation (``RealtimeTranslationSpec``): an interpreter session at
``/v1/realtime/translations``. Re-exported by ``specs``.

A translation session takes only three settings, all under ``audio``: the output
language, an optional source-language transcript and noise reduction. The model is set
when connecting (``client.realtime.translations.connect(model=...)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.core.catalog import Catalog, get_catalog
from playground.core.errors import Problem
from playground.core.spec_base import _default, _one_of, _SpecBase
from playground.core.spec_realtime import _noise_reduction, _strength_problems


@dataclass(frozen=True)
class RealtimeTranslationSpec(_SpecBase):
    """A realtime translation session: ``translations.connect(model=...)`` then ``session.update``."""

    model: str = _default("translation", "default_model")
    #: ISO-639-1 code of one of the catalog's output languages
    output_language: str = _default("translation", "default_output_language")
    #: model of the source-language transcript; empty = no source transcript
    transcription_model: str = _default("translation", "transcription_model")
    #: "near_field", "far_field" or "" (off)
    noise_reduction: str = ""
    #: 0–1 noise suppression strength (with noise_reduction on); None = server default
    noise_reduction_strength: float | None = None

    kind = "realtime_translation"
    endpoint = "/realtime/translations"

    def problems(self, catalog: Catalog | None = None) -> list[Problem]:
        cat = catalog or get_catalog()
        tr = cat.translation
        out = [
            p
            for p in (
                _one_of("model", self.model, list(tr.models)),
                _one_of("output_language", self.output_language, list(tr.output_languages)),
            )
            if p is not None
        ]
        if self.transcription_model and self.transcription_model not in cat.realtime.transcription_models:
            out.append(
                _one_of("transcription_model", self.transcription_model, [*cat.realtime.transcription_models, ""])
            )
        if self.noise_reduction and self.noise_reduction not in cat.realtime.noise_reduction:
            out.append(_one_of("noise_reduction", self.noise_reduction, [*cat.realtime.noise_reduction, ""]))
        out.extend(_strength_problems(self.noise_reduction, self.noise_reduction_strength))
        return out

    def to_kwargs(self) -> dict[str, Any]:
        """``client.realtime.translations.connect(**kwargs)``."""
        return {"model": self.model}

    def to_session(self) -> dict[str, Any]:
        """The ``session`` object for ``session.update`` (and a client secret's, with the model)."""
        transcription = {"model": self.transcription_model} if self.transcription_model else None
        return {
            "audio": {
                "input": {
                    "transcription": transcription,
                    "noise_reduction": _noise_reduction(self.noise_reduction, self.noise_reduction_strength),
                },
                "output": {"language": self.output_language},
            }
        }

    @property
    def language_name(self) -> str:
        return get_catalog().translation.output_languages.get(self.output_language, self.output_language)
