"""src/aekit/sklearn.pyi writes out the estimators' signatures, which aekit.sklearn builds at
run time from the option declarations; it must say what they declare."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "write_sklearn_stub.py"


def test_the_stub_is_written_from_the_declarations():
    spec = importlib.util.spec_from_file_location("write_sklearn_stub", SCRIPT)
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    assert writer.STUB.read_text() == writer.render(), (
        "src/aekit/sklearn.pyi is out of date: run python scripts/write_sklearn_stub.py"
    )


def test_every_parameter_is_in_the_stub():
    import inspect

    from aekit.sklearn import AutoencoderAnomalyDetector, AutoencoderTransformer

    stub = (SCRIPT.parent.parent / "src" / "aekit" / "sklearn.pyi").read_text()
    for cls in (AutoencoderTransformer, AutoencoderAnomalyDetector):
        for name in list(inspect.signature(cls.__init__).parameters)[1:]:
            assert f"        {name}: " in stub, f"{cls.__name__}({name}=...) is not in the stub"
