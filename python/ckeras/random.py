"""`ckeras.random`: seeded random tensors from the engine's counter-based (Philox) generator."""
