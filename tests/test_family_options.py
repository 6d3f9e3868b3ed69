"""A family owns its options: each is declared in its family's file, refused for another family
with a message naming who uses it, and reaches the CLI, the TOML file, the estimators and the
saved run from that one declaration. What needs flat vector codes says so where a family has
others."""

import dataclasses

import numpy as np
import pytest

import aekit
from aekit.cli.parser import build_parser
from aekit.data import Dataset
from aekit.models import MODELS, make_config, option_fields
from aekit.models.options import OWNERS
from aekit.sklearn import AutoencoderTransformer

X = np.random.default_rng(0).normal(size=(48, 6)).astype(np.float32)
FAMILY_OPTIONS = {
    (name, option.name, option)
    for name, family in MODELS.items()
    for option in dataclasses.fields(family.options_class)
}


def other_value(option):
    """A value of ``option`` other than its default, which its declaration accepts."""
    spec = option.metadata["option"]
    if spec.kind == "choice":
        return next(choice for choice in spec.choices if choice != option.default)
    if spec.kind == "text":
        return "l1:0.001"
    return option.default * 2 + 1


@pytest.mark.parametrize(("owner", "name", "option"), sorted(FAMILY_OPTIONS, key=str))
def test_an_option_of_another_family_is_refused_naming_its_family(owner, name, option):
    value = other_value(option)
    assert getattr(make_config(model=owner, **{name: value}).family_options, name) == value
    for other in sorted(set(MODELS) - set(OWNERS[name])):
        with pytest.raises(aekit.ConfigError) as caught:
            make_config(model=other, **{name: value})
        message = str(caught.value)
        assert f"model={owner!r}" in message and f"model={other!r}" in message
        assert MODELS[owner].display_name in message


def test_the_issue_s_two_silent_cases_are_errors():
    with pytest.raises(aekit.ConfigError, match="beta=4 is an option of model='vae'"):
        aekit.train(X, model="ae", beta=4, epochs=1)
    with pytest.raises(aekit.ConfigError, match="linear_path='off' is an option of model='ae'"):
        aekit.train(X, model="vae", linear_path="off", epochs=1)


def test_another_family_s_options_at_their_defaults_pass():
    """The estimators and sweeps pass every option; those at their defaults are not given."""
    defaults = {f.name: f.default for f in option_fields()}
    for name in MODELS:
        assert make_config(**{**defaults, "model": name}).model == name


def test_every_option_has_one_flag_and_one_estimator_parameter():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    dests = {action.dest for action in train._actions}
    params = set(AutoencoderTransformer().get_params())
    for option in option_fields():
        assert option.name in dests
        assert (option.name if option.name != "seed" else "random_state") in params


def test_a_family_s_options_are_saved_with_it_and_come_back(tmp_path):
    run = tmp_path / "run"
    aekit.train(X, model="vae", beta=2.0, code_size=2, epochs=1, out=run)
    loaded = aekit.load(run)
    assert loaded.train_config.family_options.beta == 2.0
    assert loaded.net.config.beta == 2.0


def test_a_toml_file_sets_family_options(tmp_path):
    path = tmp_path / "options.toml"
    path.write_text('model = "wae"\nmmd_weight = 3.0\n')
    model = aekit.train(X, config=path, code_size=2, epochs=1)
    assert model.net.config.mmd_weight == 3.0


def test_an_evaluation_option_of_another_family_is_refused(tmp_path):
    model = aekit.train(X, code_size=2, epochs=1)
    with pytest.raises(aekit.ConfigError, match="iw_samples=5 is an evaluation option of"):
        aekit.evaluate(model, X[:10], train_data=X, iw_samples=5)


def test_codes_that_are_not_vectors_are_refused_where_vectors_are_needed(monkeypatch, tmp_path):
    """A family whose codes are, say, a grid of codebook indices says so; the probe and the
    code sparsity are left out of its evaluation, and ONNX export refuses with the reason."""
    model = aekit.train(X, code_size=2, epochs=1)
    labels = np.arange(len(X)) % 2
    test = Dataset(x=X[:20], y=labels[:20], name="test")
    train = Dataset(x=X, y=labels, name="train")
    assert "probe_accuracy" in aekit.evaluate(model, test, train_data=train).rows["aekit"]
    family = type(model.net)
    monkeypatch.setattr(family, "vector_codes", False)
    monkeypatch.setattr(family, "code_description", "grids of codebook indices")
    rows = aekit.evaluate(model, test, train_data=train).rows["aekit"]
    assert "probe_accuracy" not in rows and "near_zero_codes" not in rows
    assert "mse" in rows  # the reconstruction beside PCA's still holds
    with pytest.raises(aekit.ConfigError, match="ONNX export needs .* grids of codebook"):
        model.export_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
