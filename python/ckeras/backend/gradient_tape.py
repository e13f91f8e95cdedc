"""`ckeras.GradientTape`: TensorFlow's tape API over the C++ reverse-mode engine.

Ops record their backward nodes only while a tape is active (or another enabled recording scope);
`gradient()` runs the engine from the target to the sources.
"""
from ckeras import _core
from ckeras.ops.core import _tensor


# id -> (tensor, number of open tapes watching it). Watching is per tape, as in TensorFlow: a tensor a
# tape watched stops requiring gradients when the last tape watching it closes.
_watch_counts = {}
# Tapes inside an open `with` block. Tapes that were open together share recorded nodes, so neither
# may free them after its gradient() (TensorFlow records each tape separately).
_open_tapes = []


def _flatten(structure):
    if isinstance(structure, dict):
        return [v for k in sorted(structure) for v in _flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [v for s in structure for v in _flatten(s)]
    return [structure]


def _pack(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        if isinstance(s, (list, tuple)):
            items = [build(v) for v in s]
            return type(s)(items) if isinstance(s, list) else tuple(items)
        return next(it)
    return build(structure)


class GradientTape:
    """Records operations for automatic differentiation.

    Args:
        persistent: Allow several `gradient()` calls (keeps the recorded graph alive).
        watch_accessed_variables: Trainable Variables are always watched; kept for API compatibility.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._used = False
        self._recording = False
        self._prev = None
        self._watched = {}  # id -> tensor, the tensors this tape made require gradients
        self._shared = False  # another tape was open while this one recorded
        self._window = None  # [first, last) node seqs recorded while this tape was open

    def __enter__(self):
        self._prev = _core.grad_enabled()
        _core.set_grad_enabled(True)
        self._recording = True
        self._window = [_core.next_node_seq(), None]
        for t in _open_tapes:
            t._shared = self._shared = True
        _open_tapes.append(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        _core.set_grad_enabled(self._prev)
        self._recording = False
        self._window[1] = _core.next_node_seq()
        _open_tapes.remove(self)
        for key, v in self._watched.items():
            n = _watch_counts[key][1]
            if n == 1:
                del _watch_counts[key]
            else:
                _watch_counts[key] = (v, n - 1)
        self._set_watched(False)
        return False

    def _set_watched(self, on):
        for key, v in self._watched.items():
            if on or key not in _watch_counts:  # leave alone what another open tape still watches
                v.requires_grad = on

    def watch(self, tensor):
        """Makes gradients with respect to `tensor` (a Tensor, Variable or nested list) available."""
        for t in _flatten(tensor):
            v = _tensor(t)
            if v.dtype not in ("float32", "float64"):
                continue  # TensorFlow ignores non-float tensors here too
            key = id(v)
            if key in self._watched or v.grad_fn is not None:
                continue
            if v.requires_grad and key not in _watch_counts:
                continue  # a trainable Variable's value, or requires_grad set by hand
            self._watched[key] = v
            _watch_counts[key] = (v, _watch_counts.get(key, (v, 0))[1] + 1)
            v.requires_grad = True

    def stop_recording(self):
        """Context manager that pauses recording."""
        tape = self

        class _Pause:
            def __enter__(self_inner):
                self_inner.prev = _core.grad_enabled()
                _core.set_grad_enabled(False)

            def __exit__(self_inner, *exc):
                _core.set_grad_enabled(self_inner.prev)
                return False
        del tape
        return _Pause()

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of `target` (summed if not scalar) with respect to `sources`.

        Returns the same structure as `sources`, with None (or zeros, when
        `unconnected_gradients="zero"`) where a source does not affect the target.
        """
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of "
                               "gradients (or jacobians)")
        self._used = True
        targets = [_tensor(t) for t in _flatten(target)]
        flat_sources = _flatten(sources)
        src = [_tensor(s) for s in flat_sources]
        seeds = [] if output_gradients is None else [None if g is None else _tensor(g)
                                                     for g in _flatten(output_gradients)]
        if not self._recording:
            self._set_watched(True)  # gradient(x, x) after the block still sees x as watched
        try:
            live = [t for t in targets if t.requires_grad]
            if not live:
                grads = [None] * len(src)
            else:
                idx = [i for i, t in enumerate(targets) if t.requires_grad]
                lo, hi = self._window or (0, None)
                # Only what this tape recorded is differentiated through, as in TensorFlow.
                grads = _core.grad(live, src, [seeds[i] for i in idx] if seeds else [],
                                   self._persistent or self._shared, lo, 2**64 - 1 if hi is None else hi)
        finally:
            if not self._recording:
                self._set_watched(False)
        if unconnected_gradients == "zero":
            grads = [g if g is not None else _core.zeros(list(s.shape), s.dtype) for g, s in zip(grads, src)]
        return _pack(sources, grads)
