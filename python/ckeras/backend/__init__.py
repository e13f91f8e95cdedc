"""Engine-facing pieces of ckeras: Variable and GradientTape."""
