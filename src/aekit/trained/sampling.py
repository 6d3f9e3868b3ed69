"""Which sampler a trained model draws codes with (``Autoencoder.sample``), or why it cannot.

A model has the sampler "mixture" where its run holds a Gaussian mixture fitted on its training
codes (every family with vector codes, ``models.priors.CodeDensity``) and "prior" where its
family has a prior of its own (``Family.code_prior``); the default is the first it has.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..models import Family
from ..models.priors import SAMPLERS


def chosen_sampler(sampler: str | None, available: tuple[str, ...], net: Family) -> str:
    """``sampler`` (None: the first of ``available``) once the model has it; else a
    ConfigError saying why not and what to use instead."""
    if sampler is None and available:
        return available[0]
    if sampler is None:
        raise ConfigError(
            "this model has no code density to sample from (it was trained in memory without "
            "one, or saved without code_density.json); retrain it with aekit.train"
        )
    if sampler not in SAMPLERS:
        choices = ", ".join(repr(name) for name in sorted(SAMPLERS))
        raise ConfigError(f"unknown sampler {sampler!r}; the samplers are {choices}")
    if sampler in available:
        return sampler
    if sampler == "prior":
        raise ConfigError(
            f"sampler='prior': this {net.display_name} has no prior of its own; "
            "sampler='mixture' draws codes from the Gaussian mixture fitted on its training codes"
        )
    if not net.vector_codes:
        raise ConfigError(
            f"sampler='mixture' fits a Gaussian mixture on codes that are flat vectors; this "
            f"{net.display_name}'s codes are {net.code_description}: use sampler='prior'"
        )
    raise ConfigError(
        "sampler='mixture': this model has no code density (it was saved without "
        "code_density.json, by an aekit before every family had one, or trained in memory "
        "without one); sampler='prior' draws from its prior"
    )


def sampler_description(model, sampler: str | None = None) -> str:
    """Where ``model.sample(sampler=sampler)``'s codes come from, in words, for reports."""
    if chosen_sampler(sampler, model.samplers(), model.net) == "prior":
        return model.net.prior_description()
    components = len(model.code_density.weights_)
    return f"the Gaussian mixture of {components} components fitted on the training codes"
