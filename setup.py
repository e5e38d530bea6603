"""Packaging only: everything else is in pyproject.toml.

The catalog and vibes live in the top-level ``presets/`` folder (data, beside the code);
a wheel carries them as the ``playground.presets`` package, which pyproject's
``packages.find`` cannot express because that folder is not under ``playground/``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["playground*"]), "playground.presets", "playground.presets.vibes"],
    package_dir={"playground.presets": "presets"},
)
