"""`ckeras.callbacks`: Keras 3's training callbacks."""
from ckeras.callbacks.backup_and_restore import BackupAndRestore
from ckeras.callbacks.callback import Callback
from ckeras.callbacks.callback_list import CallbackList
from ckeras.callbacks.csv_logger import CSVLogger
from ckeras.callbacks.early_stopping import EarlyStopping
from ckeras.callbacks.history import History
from ckeras.callbacks.lambda_callback import LambdaCallback
from ckeras.callbacks.learning_rate_scheduler import LearningRateScheduler
from ckeras.callbacks.model_checkpoint import ModelCheckpoint
from ckeras.callbacks.progbar_logger import ProgbarLogger
from ckeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ckeras.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]
