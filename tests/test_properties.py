"""Property tests: whatever array goes in, aekit answers with a result or an AekitError.

Random shapes (empty, 1-D up to 5-D, the wrong width), values (NaN, Inf, 1e38, subnormals) and
dtypes (floats, ints, bool, complex, object, strings, datetimes) go through ``load_data`` and a
trained model's ``encode``/``decode``/``reconstruct``. A result must have the promised shape and
dtype, and be finite when the input is finite and moderate; any other exception is a bug.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aekit
from aekit import AekitError
from aekit.data import load_data

# Finite inputs past float32's range (3e38 and up) overflow to inf inside encode/decode, and
# numpy warns; the tests only ask for no exception there, so the warning is noise here.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
EXAMPLES = settings(max_examples=60, deadline=None)
MODERATE = 1e4  # inputs within this are "moderate": a sound model's outputs must be finite

FLOAT_DTYPES = [np.dtype(name) for name in ("float16", "float32", "float64")]
INT_DTYPES = [np.dtype(name) for name in ("int8", "int16", "int32", "int64", "uint8", "uint64")]
OTHER_DTYPES = [
    np.dtype(name) for name in ("bool", "complex64", "complex128", "O", "U4", "S4", "datetime64[s]")
]
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, 1e38, -1e38, 3.5e38, 1e-40, 5e-324, 0.0, -0.0]
FLOATS = st.sampled_from(SPECIAL_FLOATS) | st.floats(-10, 10) | st.floats()
OBJECTS = st.none() | st.integers(-5, 5) | st.floats(-5, 5) | st.text(max_size=3)


@st.composite
def arrays(draw, shapes):
    """An array of a random dtype and one of ``shapes``, rich in special float values."""
    shape = draw(shapes)
    dtype = draw(st.sampled_from(FLOAT_DTYPES + INT_DTYPES + OTHER_DTYPES))
    if dtype.kind == "f":
        values = draw(hnp.arrays(np.float64, shape, elements=FLOATS))
        with np.errstate(over="ignore"):  # 1e38 as float16 is inf: one more special value
            return values.astype(dtype)
    if dtype.kind == "O":
        return draw(hnp.arrays(dtype, shape, elements=OBJECTS))
    return draw(hnp.arrays(dtype, shape))


def shapes_around(sample_shape: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes a model of ``sample_shape`` takes, their near misses, and anything at all."""
    n = st.integers(0, 4)
    width = math.prod(sample_shape)
    return st.one_of(
        n.map(lambda k: (k, *sample_shape)),
        n.map(lambda k: (k, width)),
        n.map(lambda k: (k, width - 1)),
        st.just(sample_shape),
        hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4),
    )


def is_clean(x: np.ndarray) -> bool:
    """Real numbers, all finite and moderate, even as float32."""
    if x.dtype.kind not in "iuf" or x.size == 0:
        return False
    with np.errstate(over="ignore"):
        values = x.astype(np.float32)
    return bool(np.isfinite(values).all() and np.abs(values).max() <= MODERATE)


def n_samples(x: np.ndarray, single: tuple[tuple[int, ...], ...]) -> int:
    """Samples in ``x``; a shape in ``single`` is one sample without its batch axis."""
    return 1 if x.shape in single else x.shape[0]


def one_sample_shapes(model: aekit.Autoencoder) -> tuple[tuple[int, ...], ...]:
    """Shapes ``encode`` reads as one sample: the sample shape, and (H, W) for grey images."""
    shape = model.sample_shape
    return (shape, shape[1:]) if len(shape) == 3 and shape[0] == 1 else (shape,)


def takes(x: np.ndarray, single: tuple[tuple[int, ...], ...]) -> bool:
    """Whether a model must take ``x``: clean numbers, one sample or (n, ...) samples of a shape
    it was trained on; data of another layout is refused, never reshaped."""
    batch = x.ndim >= 2 and x.shape[1:] in single
    return is_clean(x) and (x.shape in single or batch)


@pytest.fixture(scope="module")
def vector_model():
    x = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    return aekit.train(x, code_size=2, hidden=[4], epochs=1, progress=False)


@pytest.fixture(scope="module")
def image_model():
    x = np.random.default_rng(0).random((40, 1, 5, 5)).astype(np.float32)
    return aekit.train(x, code_size=2, hidden=[4], backbone="mlp", epochs=1, progress=False)


@EXAMPLES
@given(
    x=arrays(shapes_around((6,)) | shapes_around((1, 5, 5)))
    | st.lists(st.lists(FLOATS, max_size=3), max_size=3)
)
def test_load_data_gives_clean_samples_or_a_data_error(x):
    try:
        data = load_data(x)
    except AekitError:
        return
    array = np.asarray(x)
    assert data.x.dtype == np.float32 and data.x.flags.c_contiguous
    assert data.x.ndim in (2, 4) and data.x.size > 0 and np.isfinite(data.x).all()
    assert len(data) == array.shape[0] and data.x.size == array.size
    assert data.y is None


def check_encode(model: aekit.Autoencoder, x: np.ndarray) -> None:
    single = one_sample_shapes(model)
    try:
        codes = model.encode(x)
    except AekitError:
        assert not takes(x, single), "valid input was refused"
        return
    assert codes.shape == (n_samples(x, single), model.code_size)
    assert codes.dtype == np.float32
    if is_clean(x):
        assert np.isfinite(codes).all()


@EXAMPLES
@given(x=arrays(shapes_around((6,))))
def test_vector_model_encode(vector_model, x):
    check_encode(vector_model, x)


@EXAMPLES
@given(x=arrays(shapes_around((1, 5, 5)) | shapes_around((5, 5))))
def test_image_model_encode(image_model, x):
    check_encode(image_model, x)


def check_decode(model: aekit.Autoencoder, z: np.ndarray) -> None:
    single = ((model.code_size,),)
    try:
        out = model.decode(z)
    except AekitError:
        valid = z.shape in single or (z.ndim == 2 and z.shape[1] == model.code_size)
        assert not (is_clean(z) and valid), "valid codes were refused"
        return
    assert out.shape == (n_samples(z, single), *model.output_shape)
    assert out.dtype == np.float32
    if is_clean(z):
        assert np.isfinite(out).all()


CODES = arrays(shapes_around((2,)))


@EXAMPLES
@given(z=CODES)
def test_vector_model_decode(vector_model, z):
    check_decode(vector_model, z)


@EXAMPLES
@given(z=CODES)
def test_image_model_decode(image_model, z):
    check_decode(image_model, z)


@EXAMPLES
@given(x=arrays(shapes_around((6,))))
def test_vector_model_reconstruct(vector_model, x):
    try:
        out = vector_model.reconstruct(x)
    except AekitError:
        assert not takes(x, one_sample_shapes(vector_model)), "valid input was refused"
        return
    # shaped like x when it holds the same number of values, else like the training data
    n = n_samples(x, one_sample_shapes(vector_model))
    assert out.shape == (x.shape if out.size == x.size else (n, *vector_model.output_shape))
    assert out.dtype == np.float32
    if is_clean(x):
        assert np.isfinite(out).all()
