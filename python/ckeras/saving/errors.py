"""The error every refused model or weights file raises."""


class LoadError(ValueError):
    """A model or weights file that ckeras refuses to load: truncated, corrupt, of another format, or
    asking for something the loader does not allow (code, paths, unknown classes). A ValueError, so
    code written for Keras's loader catches it too."""
