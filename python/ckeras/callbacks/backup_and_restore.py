"""`BackupAndRestore`: backs up the training state (weights, optimizer state, epoch) while `fit` runs, so
that a `fit` interrupted by an exception resumes where the last backup left off when called again."""
import json
import os
import zlib

from ckeras.callbacks._save_freq import BatchCounter, check_save_freq
from ckeras.callbacks.callback import Callback
from ckeras.saving.atomic import atomic_write
from ckeras.saving.config_guard import loads
from ckeras.saving.errors import LoadError
from ckeras.saving.object_state import load_weights_from_bytes, weights_bytes

_WEIGHTS = "latest.weights.h5"
_METADATA = "training_metadata.json"
_PREVIOUS = "_"  # prefix of the backup kept from the save before, used if the latest one is unreadable


class BackupAndRestore(Callback):
    """Callback to back up and restore the training state.

    At the end of each epoch (or every `save_freq` batches) the model's weights with the optimizer state
    (`latest.weights.h5`) and the number of finished epochs (`training_metadata.json`) are written to
    `backup_dir`. When `fit` starts with a backup there, the weights and optimizer state are restored
    and training starts at the epoch after the last one backed up. When `fit` completes, the backup is
    deleted (unless `delete_checkpoint=False`).

    The model must be the same (and built) when restoring; `fit`'s arguments should be the same too.

    Args:
        backup_dir: Directory for the backup; use it for nothing else.
        save_freq: `"epoch"` or an integer: back up every this many batches.
        delete_checkpoint: Delete the backup once training has finished.

    Files are written atomically, each checked with a CRC-32 on restore; if the latest backup cannot be
    read, the one before it is used.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_save_freq(save_freq, "Invalid value for argument `save_freq`. Received: "
                                                    f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                                                    "value.")
        self.delete_checkpoint = delete_checkpoint
        self._batches = BatchCounter(save_freq)
        self._current_epoch = 0

    def _path(self, name, previous=False):
        return os.path.join(self.backup_dir, (_PREVIOUS if previous else "") + name)

    # ---- restore ----
    def on_train_begin(self, logs=None):
        if not os.path.exists(self._path(_METADATA)) and not os.path.exists(self._path(_METADATA, True)):
            return
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built before you call "
                             f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling it "
                             "on a batch of data.")
        try:
            epoch = self._restore(previous=False)
        except (OSError, ValueError) as latest_error:
            try:
                epoch = self._restore(previous=True)
            except (OSError, ValueError):
                raise latest_error from None
        self.model._initial_epoch = epoch

    def _restore(self, previous):
        meta_path, weights_path = self._path(_METADATA, previous), self._path(_WEIGHTS, previous)
        with open(meta_path, "rb") as f:
            metadata = loads(f.read(), what=meta_path, max_bytes=1 << 16, max_depth=2)
        with open(weights_path, "rb") as f:
            data = f.read()
        epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0 or \
                metadata.get("weights_crc32") != zlib.crc32(data):
            raise LoadError(f"{meta_path} does not describe the backup in {weights_path}")
        load_weights_from_bytes(self.model, data, weights_path)
        return epoch

    # ---- back up ----
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._batches.should_save(batch):
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._batches.new_epoch()
        if self.save_freq == "epoch":
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        for name in (_WEIGHTS, _METADATA):
            if os.path.exists(self._path(name)):
                with open(self._path(name), "rb") as src, atomic_write(self._path(name, True)) as dst:
                    dst.write(src.read())
        data = weights_bytes(self.model)
        with atomic_write(self._path(_WEIGHTS)) as f:
            f.write(data)
        metadata = {"epoch": self._current_epoch, "batch": self._batches.last_batch,
                    "weights_crc32": zlib.crc32(data)}
        with atomic_write(self._path(_METADATA)) as f:
            f.write(json.dumps(metadata).encode())

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for name in (_METADATA, _WEIGHTS):  # only the files this callback writes, then the folder if empty
            for previous in (False, True):
                if os.path.exists(self._path(name, previous)):
                    os.remove(self._path(name, previous))
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)
