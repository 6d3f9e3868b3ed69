"""The sweep's grid: values from CLI text and Python keywords, checked before anything trains."""

import pytest

from aekit.cli.commands import build_parser, main
from aekit.errors import ConfigError
from aekit.models import option_fields
from aekit.options.declaring import flag_of, spec_of
from aekit.sweeps.grid import grid_from_keywords, grid_from_texts, value_text

OPTIONS = option_fields()


def test_scalar_options_take_commas_list_options_take_settings():
    grid = grid_from_texts(
        {
            "lr": ["1e-3,3e-3"],
            "code_size": ["2,4"],
            "hidden": ["128", "512,128"],
            "loss": ["mse,bce"],
            "epochs": ["3"],
        }
    )
    assert grid.swept == {
        "code_size": [2, 4],
        "hidden": [[128], [512, 128]],
        "loss": ["mse", "bce"],
        "lr": [0.001, 0.003],
    }
    assert grid.fixed == {"epochs": 3}
    settings = grid.settings()
    assert len(settings) == 16
    assert grid.options(settings[0]) == dict(
        code_size=2, hidden=[128], loss="mse", lr=0.001, epochs=3
    )
    # named in the options' declared order, whatever order they were given in
    assert grid.folder_name(settings[-1]) == "code=4,hidden=512-128,loss=bce,lr=0.003"
    assert grid.label(settings[-1]) == "code=4 hidden=512,128 loss=bce lr=0.003"


def test_python_keywords_make_the_same_grid_as_the_command_line():
    from_texts = grid_from_texts({"code_size": ["2,4"], "hidden": ["128", "512,128"]})
    from_keywords = grid_from_keywords({"code_size": [2, 4], "hidden": [[128], [512, 128]]})
    assert from_keywords == from_texts
    # one list of sizes is one setting; one value in a list is fixed too
    fixed = grid_from_keywords({"hidden": [512, 128], "code_size": [8], "lr": 1})
    assert fixed.swept == {} and fixed.fixed == {"code_size": 8, "hidden": [512, 128], "lr": 1.0}
    assert fixed.settings() == [{}] and fixed.folder_name({}) == "run"


def test_none_noise_and_switches():
    grid = grid_from_texts(
        {"noise": ["none", "gaussian:0.3,mask:0.25"], "early_stopping": ["on,off"]}
    )
    assert grid.swept["noise"] == [None, ["gaussian:0.3", "mask:0.25"]]
    assert grid.swept["early_stopping"] == [True, False]
    names = [grid.folder_name(setting) for setting in grid.settings()]
    assert "early-stopping=off,noise=gaussian_0.3-mask_0.25" in names
    assert "early-stopping=on,noise=none" in names
    # a choice's own "none" stays a choice (a linear autoencoder), not the default
    assert grid_from_texts({"activation": ["none"]}).fixed == {"activation": "none"}


@pytest.mark.parametrize(
    "texts, message",
    [
        ({"code_size": ["2,0"]}, "code_size must be an integer from 1 to 2147483647, got 0"),
        ({"code_size": ["2,x"]}, "--code: 'x' is not an integer"),
        ({"loss": ["mse,huber"]}, "loss must be one of mse, bce, mae; got 'huber'"),
        ({"hidden": ["128", "64,0"]}, "hidden size must be an integer from 1"),
        ({"lr": ["0.001,-1"]}, "lr must be in (0.0, inf], got -1.0"),
        ({"noise": ["gaussian:abc"]}, "gaussian:abc"),
        ({"code_size": ["2,4,2"]}, "code_size lists 2 twice"),
        ({"code_size": [","]}, "--code: ',' holds no value"),
        (
            {"backbone": ["mlp,conv"], "dropout": ["0.1"]},
            "the run backbone=conv: dropout=0.1 is not used by the conv backbone",
        ),
        ({"code_sise": ["2"]}, "unknown option 'code_sise'; did you mean 'code_size'?"),
    ],
)
def test_bad_values_are_refused_naming_the_option_and_value(texts, message):
    with pytest.raises(ConfigError) as error:
        grid_from_texts(texts)
    assert message in str(error.value)


def test_every_declared_option_reads_back_from_its_own_text():
    """No hand-written list of options: each one's default (or a value of its kind) written
    as the command line spells it reads back as that value."""
    for option in OPTIONS:
        spec = spec_of(option)
        value = option.default
        if value is None:
            value = spec.choices[0] if spec.choices else None
        text = value_text(option.name, value)
        assert grid_from_texts({option.name: [text]}).fixed == {option.name: value}, option.name


def test_every_option_has_a_sweep_flag():
    parser = build_parser()
    for option in OPTIONS:
        args = ["sweep", "digits", flag_of(option), "x"]
        assert getattr(parser.parse_args(args), option.name) is not None, option.name
    args = parser.parse_args(
        ["sweep", "digits", "--code", "2,4", "--code", "8", "--hidden", "128", "512,128"]
    )
    assert args.code_size == ["2,4", "8"] and args.hidden == ["128", "512,128"]
    assert parser.parse_args(["sweep", "digits", "--no-early-stopping"]).early_stopping == ["off"]
    assert parser.parse_args(["sweep", "digits", "--early-stopping"]).early_stopping == ["on"]


def test_a_bad_value_stops_the_command_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "digits", "--out", str(out), "--code", "4,0", "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert error.strip() == (
        "aekit: error: code_size must be an integer from 1 to 2147483647, got 0"
    )
    assert not out.exists()
