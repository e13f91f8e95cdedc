"""Where the downloadable data sets come from: Keras's public bucket, unless overridden."""
import os

# The folder Keras downloads its data sets from; a mirror (e.g. a local test server) can be set with
# the `CKERAS_DATASETS_ORIGIN` environment variable or by assigning `_ORIGIN` in this module.
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def origin(fname):
    base = os.environ.get("CKERAS_DATASETS_ORIGIN") or _ORIGIN
    return base.rstrip("/") + "/" + fname
