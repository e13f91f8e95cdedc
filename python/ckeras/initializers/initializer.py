"""Base class of `ckeras.initializers`: a callable `(shape, dtype) -> Tensor` with a config."""


class Initializer:
    """Initializer base class: subclasses implement `__call__(shape, dtype=None)`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"Initializer {self.__class__.__name__} does not implement `__call__()`.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"
