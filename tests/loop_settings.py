"""Settings for calling the training loop (``aekit.training.loop.fit``) directly.

``aekit.train`` fills the options left open before the loop sees them; a test that calls the
loop gives lr and the batch size itself, and takes the schedule that ``aekit.train`` gives a
run without a time limit unless it sets one.
"""

from aekit.models.options import make_config
from aekit.options.defaults import SCHEDULE_DEFAULTS
from aekit.options.train_config import TrainConfig


def loop_config(**options) -> TrainConfig:
    """``make_config(**options)`` with the schedule and warm-up filled where not given."""
    return make_config(**{**SCHEDULE_DEFAULTS, **options})
