"""Engine-facing pieces of ckeras: Variable and GradientTape; `clear_session` as in keras.backend."""
from ckeras.utils.session import clear_session  # noqa: F401
