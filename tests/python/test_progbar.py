"""The Keras 3 progress bar (KERAS.md 3.8): exact strings with a fake clock, ANSI and plain, and via fit."""
import re

import numpy as np
import pytest

import ckeras
from ckeras.utils import progbar as progbar_module
from ckeras.utils.progbar import Progbar
from trainer_models import Linear, blobs

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BAR = "━"


class FakeClock:
    def __init__(self, t=1000.0):
        self.t = t

    def time(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(progbar_module, "time", c)
    return c


def screen(text):
    """What a terminal shows: ANSI codes dropped, each line's last redraw after `\\r` kept."""
    text = ANSI.sub("", text).replace("\b", "")
    return [line.split("\r")[-1].rstrip() for line in text.split("\n") if line.split("\r")[-1].strip()]


def test_exact_ansi_output(clock, capsys):
    bar = Progbar(3)
    bar._dynamic_display = True
    clock.t += 0.01
    bar.update(1, [("loss", 0.5)])
    first = capsys.readouterr().out
    assert first == ("\r\x1b[1m1/3\x1b[0m \x1b[32m" + BAR * 6 + "\x1b[0m\x1b[37m" + BAR * 14 + "\x1b[0m"
                     " \x1b[1m0s\x1b[0m 10ms/step - loss: 0.5000")
    clock.t += 1.99
    bar.update(3, [("loss", 0.25)])
    last = capsys.readouterr().out
    assert last == ("\b" * 52 + "\r\x1b[1m3/3\x1b[0m \x1b[32m" + BAR * 20 + "\x1b[0m\x1b[37m\x1b[0m"
                    " \x1b[1m2s\x1b[0m 995ms/step - loss: 0.2500\n")


def test_shorter_redraw_is_padded_with_spaces(clock, capsys):
    bar = Progbar(2)
    bar._dynamic_display = True
    clock.t += 0.5
    bar.update(1, [("loss", 12345.5)])
    capsys.readouterr()
    clock.t += 0.5
    bar.update(2, [("loss", 1.0)])
    out = capsys.readouterr().out
    # widths: "1/2 " + 20 + " 1s" + " 500ms/step" + " - loss: 12345.5000" = 57; the last line has 53.
    assert out.startswith("\b" * 57 + "\r") and out.endswith("loss: 1.0000" + " " * 4 + "\n")


def test_plain_text_and_redraw(clock, capsys):
    bar = Progbar(1875, interval=0)
    for step in range(1, 1876):
        clock.t += 0.002
        bar.update(step, [("accuracy", 0.9), ("loss", 0.3)])
    out = capsys.readouterr().out
    assert screen(out) == [f"1875/1875 {BAR * 20} 4s 2ms/step - accuracy: 0.9000 - loss: 0.3000"]
    assert out.count("\n") == 1 and out.count("\r") == 1875


def test_counter_is_right_aligned_and_eta_formats(clock, capsys):
    bar = Progbar(100)
    clock.t += 100.0
    bar.update(5)
    assert screen(capsys.readouterr().out) == [f"  5/100 {BAR}{BAR * 19} 31:40 20s/step"]
    bar = Progbar(5000)
    clock.t += 1.0
    bar.update(1)
    assert screen(capsys.readouterr().out) == [f"   1/5000 {BAR * 0}{BAR * 20} 1:23:19 1s/step"]
    bar = Progbar(10)
    clock.t += 1e-5
    bar.update(2, [("loss", 1e-4), ("delta", -0.5)])
    assert screen(capsys.readouterr().out) == [f" 2/10 {BAR * 4}{BAR * 16} 0s 5us/step - loss: 1.0000e-04 - "
                                               "delta: -0.5000"]


def test_first_step_is_left_out_of_the_estimate(clock, capsys):
    bar = Progbar(3, interval=0)
    clock.t += 5.0  # a slow first step (building)
    bar.update(1)
    clock.t += 0.1
    bar.update(2)
    clock.t += 0.1
    bar.update(3)
    assert screen(capsys.readouterr().out)[-1] == f"3/3 {BAR * 20} 5s 100ms/step"


def test_verbose_2_single_line_and_quirk(clock, capsys):
    bar = Progbar(2, verbose=2)
    clock.t += 1.0
    bar.update(1, [("accuracy", 0.5)])
    assert capsys.readouterr().out == ""
    clock.t += 2.0
    bar.update(2, [("accuracy", 0.47916), ("loss", 0.73431), ("neg", -0.25), ("val_accuracy", 0.3125),
                   ("val_loss", 0.81204)])
    # Keras tests `avg > 1e-3` here, so negatives print in scientific notation.
    assert capsys.readouterr().out == ("2/2 - 3s - 2s/step - accuracy: 0.4792 - loss: 0.7343 - neg: -2.5000e-01"
                                       " - val_accuracy: 0.3125 - val_loss: 0.8120\n")


def test_verbose_0_is_silent_and_unknown_target(clock, capsys):
    bar = Progbar(3, verbose=0)
    bar.update(3, [("loss", 1.0)])
    assert capsys.readouterr().out == ""
    bar = Progbar(None)
    clock.t += 3
    bar.update(3)
    assert screen(capsys.readouterr().out) == ["      3/Unknown 3s 1s/step"]


def test_newline_redraw_without_dynamic_display(clock, capsys):
    bar = Progbar(2, interval=0)
    bar._dynamic_display = False
    clock.t += 1
    bar.update(1)
    clock.t += 1
    bar.update(2)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out and out.startswith("\n")
    assert [ANSI.sub("", line) for line in out.split("\n") if line] == [f"1/2 {BAR * 10}{BAR * 10} 1s 1s/step",
                                                                        f"2/2 {BAR * 20} 2s 1s/step"]


def test_stateful_and_stateless_metrics(clock, capsys):
    bar = Progbar(4, interval=0, stateful_metrics=["acc"])
    for step, v in enumerate([1.0, 3.0, 5.0], start=1):
        clock.t += 1
        bar.update(step, [("acc", v), ("loss", v)])
    assert screen(capsys.readouterr().out)[-1].endswith("- acc: 5.0000 - loss: 3.0000")  # loss averaged
    with pytest.raises(ValueError):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


STEP_LINE = rf"{BAR * 20} \d+s \d+(us|ms|s)/step"


def test_fit_progress_output(capsys):
    x, y = blobs(100, 3, 2)
    model = Linear(3, 2, activation="softmax")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2)
    lines = screen(capsys.readouterr().out)
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):
        assert re.fullmatch(rf"3/3 {STEP_LINE} - accuracy: \d\.\d{{4}} - loss: \d\.\d{{4}} - "
                            r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}", line), line
    model.fit(x, y, epochs=1, batch_size=50)
    lines = screen(capsys.readouterr().out)
    assert len(lines) == 1 and re.fullmatch(rf"2/2 {STEP_LINE} - accuracy: \d\.\d{{4}} - loss: \d\.\d{{4}}",
                                            lines[0])  # no "Epoch" line for a single epoch
    model.fit(x, y, epochs=2, verbose=2, batch_size=50)
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and "\x1b" not in lines[1]
    assert re.fullmatch(r"2/2 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[1])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_progress_output(capsys):
    x, y = blobs(70, 3, 2)
    model = Linear(3, 2, activation="softmax")
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x, y)
    lines = screen(capsys.readouterr().out)
    assert len(lines) == 1 and re.fullmatch(rf"3/3 {STEP_LINE} - accuracy: \d\.\d{{4}} - loss: \d\.\d{{4}}",
                                            lines[0])
    model.predict(x)
    assert re.fullmatch(rf"3/3 {STEP_LINE}", screen(capsys.readouterr().out)[0])
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
