"""`Model.summary()`: Keras 3's table, drawn as `rich` draws it (heavy header box, a rule between rows) but
with no dependency on `rich`. Column widths follow Keras (positions times line_length) and rich's rule for
shrinking them to fit the borders (`_ratio_reduce`)."""
import math
import re
import shutil


def _readable_size(nbytes):
    for unit in ["B", "KB", "MB", "GB", "TB"]:
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


_DTYPE_BYTES = {"float32": 4, "float64": 8, "int32": 4, "int64": 8, "bool": 1, "float16": 2, "bfloat16": 2}


def _count(weights):
    unique = {id(w): w for w in weights}.values()
    n = sum(math.prod(w.shape) for w in unique)
    size = sum(math.prod(w.shape) * _DTYPE_BYTES.get(str(w.dtype), 4) for w in unique)
    return int(n), size


def _ratio_reduce(total, widths):
    """rich's `ratio_reduce` with equal ratios: takes `total` cells off the columns, rounding as it goes."""
    ratio_left, out = len(widths), []
    for w in widths:
        cut = min(w, round(total / ratio_left))
        out.append(w - cut)
        total -= cut
        ratio_left -= 1
    return out


def _wrap(text, width):
    """Word-wraps `text` into lines of at most `width` cells (long words are folded)."""
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _render_table(header, rows, widths, align):
    inner = [w - 2 for w in widths]  # one cell of padding on each side

    def cells(values, sep):
        wrapped = [_wrap(str(v), w) for v, w in zip(values, inner)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for c, w, a in zip(wrapped, inner, align):
                t = c[i] if i < len(c) else ""
                t = t.rjust(w) if a == "right" else t.center(w) if a == "center" else t.ljust(w)
                parts.append(f" {t} ")
            out.append(sep + sep.join(parts) + sep)
        return out

    def rule(left, fill, mid, right):
        return left + mid.join(fill * w for w in widths) + right

    lines = [rule("┏", "━", "┳", "┓")] + cells(header, "┃") + [rule("┡", "━", "╇", "┩")]
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        lines.extend(cells(row, "│"))
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def _format_shape(layer):
    nodes = layer.__dict__.get("_inbound_nodes", [])
    fmt = lambda s: "(" + ", ".join(str(d) for d in s) + ")"  # noqa: E731
    if nodes:
        outs = nodes[-1].output_tensors
        if len(outs) == 1:
            return fmt(outs[0].shape)
        return "[" + ", ".join(fmt(t.shape) for t in outs) + "]"
    return "?"


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    lo = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    hi = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not lo or not hi:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    return min(lo), max(hi) + 1


def summary_text(model, line_length=None, positions=None, expand_nested=False, show_trainable=False,
                 layer_range=None):
    from ckeras.models.functional import Functional
    from ckeras.models.sequential import Sequential
    layers = model.layers
    sequential_like = True
    nodes = []
    if isinstance(model, Functional) and not isinstance(model, Sequential):
        nodes = model._nodes
        uses = {}
        for n in nodes:
            uses[id(n.operation)] = uses.get(id(n.operation), 0) + 1
        sequential_like = all(len(n.input_tensors) <= 1 for n in nodes) and all(v == 1 for v in uses.values()) \
            and len(model._flat_inputs) == 1 and all(
                i == 0 or (n.input_tensors and n.input_tensors[0] in nodes[i - 1].output_tensors)
                for i, n in enumerate(nodes))
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right",
                                                                                      "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths, current = [], 0
    for pos in positions:
        w = int(pos * line_length) - current
        if w < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(w)
        current += w
    widths = [w + 2 for w in widths]  # rich measures a fixed-width column with its padding
    excess = sum(widths) - (line_length - (len(widths) + 1))
    if excess > 0:
        widths = _ratio_reduce(excess, widths)
    node_ids = {id(n) for n in nodes}

    def connections(layer):
        parts = []
        for node in layer.__dict__.get("_inbound_nodes", []):
            if id(node) not in node_ids:
                continue
            for x in node.input_tensors:
                src, ni, ti = x._keras_history
                parts.append(f"{src.name}[{ni}][{ti}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix=""):
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _format_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        if expand_nested and hasattr(layer, "layers") and getattr(layer, "layers", None) and \
                hasattr(layer, "summary"):
            for sub in layer.layers:
                rows.extend(rows_of(sub, level + 1))
        return rows

    lo, hi = _layer_range(layers, layer_range)
    rows = [r for layer in layers[lo:hi] for r in rows_of(layer)]
    trainable, t_size = _count(model.trainable_weights)
    non_trainable, n_size = _count(model.non_trainable_weights)
    lines = [f'Model: "{model.name}"'] + _render_table(header, rows, widths, align)
    total, total_size = trainable + non_trainable, t_size + n_size
    opt = getattr(model, "optimizer", None)
    opt_vars = list(getattr(opt, "variables", []) or []) if opt is not None and getattr(opt, "built", False) \
        else []
    if opt_vars:
        o_count, o_size = _count(opt_vars)
        total, total_size = total + o_count, total_size + o_size
    lines.append(f" Total params: {total:,} ({_readable_size(total_size)})")
    lines.append(f" Trainable params: {trainable:,} ({_readable_size(t_size)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_readable_size(n_size)})")
    if opt_vars:
        lines.append(f" Optimizer params: {o_count:,} ({_readable_size(o_size)})")
    return "\n".join(lines) + "\n"


def print_summary(model, print_fn=None, **kwargs):
    text = summary_text(model, **kwargs)
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)
