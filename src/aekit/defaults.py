"""What ``aekit.train`` picks for options left open, and the measurements behind each choice.

building.py applies these to the data; the option declarations (config.py) quote them in their
help, so ``--help`` and the README say what the code does.
"""

# The conv preset: three stride-2 stages take 28x28 to 4x4. Measured on Fashion-MNIST, code 32,
# 5 minutes on 2 CPU cores (benchmarks/quality.py --hidden/--lr/--batch-size), test MSE against
# PCA-32's: 32-64-128 ran too few epochs; 16-32-64 reached 0.414x, 16-48-96 0.400x and 16-64-128
# 0.396x: capacity at low resolution is cheap, at full resolution it is what costs time.
# Batches of 64 at lr 3e-3 beat 256 at 1e-3 (0.414x against 0.485x for 16-32-64).
CONV_PRESET_CHANNELS = [16, 64, 128]
# SiLU over ReLU in the conv preset: in the epochs the 2-core CPU reaches in 5 minutes (9, bf16),
# validation MSE 0.407x PCA-32 against 0.424x (two seeds each 0.407); GELU 0.415x (8 epochs),
# no batch norm 0.423x, a fourth stage 0.505x, an extra decoder block per stage 0.433x. Searched
# on a GPU, each config trained for the epochs it reaches on the 2-core CPU, chosen on the
# validation part (the test figures moved the same way).
BACKBONE_ACTIVATIONS = {"mlp": "relu", "conv": "silu"}
# Without an explicit epochs, training runs at least 50 epochs and at least this many optimiser
# steps: 50 epochs of a 1,300-sample set at batch 256 are only 300 steps, which leaves the model
# far worse than PCA; early stopping ends the run once validation stops improving.
DEFAULT_EPOCHS = 50
MIN_DEFAULT_STEPS = 5000
MAX_DEFAULT_EPOCHS = 2000
# Defaults of batch_size and lr per backbone, used where the user sets none.
BACKBONE_DEFAULTS = {
    "mlp": {"batch_size": 256, "lr": 1e-3},
    "conv": {"batch_size": 64, "lr": 3e-3},
}
# Batches of about a tenth of the training set on small data (but at least this many samples):
# early stopping counts epochs, and at 256 a set of 300 rows gives one or two steps an epoch,
# so patience ran out after some 20 steps, before a network started at PCA (which improves
# slowly at first) had moved. Ten steps an epoch give it 100.
MIN_SMALL_DATA_BATCH = 16
# Without code_size, a code a quarter of the data's width, between these two sizes.
MIN_DEFAULT_CODE_SIZE = 2
MAX_DEFAULT_CODE_SIZE = 32
CODE_SIZE_RULE = f"min({MAX_DEFAULT_CODE_SIZE}, max({MIN_DEFAULT_CODE_SIZE}, d // 4))"


def default_code_size(width: int) -> int:
    """The code size for data of ``width`` values per sample: ``CODE_SIZE_RULE``."""
    return min(MAX_DEFAULT_CODE_SIZE, max(MIN_DEFAULT_CODE_SIZE, width // 4))
