// Bindings for TrainPlan (ckeras/train_plan.h): the plan description structs and the plan itself. The trainer
// (python/ckeras/trainers/train_plan.py) builds it from a model; the GIL is released while steps run, and
// run_epoch and ForwardPlan.predict_guarded poll for Ctrl-C between batches (KeyboardInterrupt).
#include <algorithm>
#include <cstring>

#include "bind_common.h"

#include "ckeras/autograd.h"
#include "ckeras/device.h"
#include "ckeras/interrupt.h"
#include "ckeras/train_plan.h"

namespace ckeras::bind {

using Release = py::call_guard<py::gil_scoped_release>;

namespace {

struct ForwardPlan {
    std::vector<PlanStage> stages;
};

// plan_forward on x (a Tensor, or an ndarray taken as convert_to_tensor takes it), computed without the GIL: the
// output with the logits attached as `_keras_logits` (what an eager softmax/sigmoid output carries), or None when
// x does not land on the CPU (another default device), for the caller's general path.
// A 2-D C-contiguous aligned native float32 ndarray while the CPU is the current device, borrowed for the call
// (plan_forward's output never aliases its input) without convert_to_tensor's keep-alive; else undefined.
Tensor borrowed_rows(py::handle obj) {
    if (!is_exact_ndarray(obj) || current_device().type != DeviceType::CPU) return Tensor();
    const auto arr = py::reinterpret_borrow<py::array>(obj);
    const py::dtype dt = arr.dtype();
    constexpr int kNeed = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
    if (dt.num() != py::detail::npy_api::NPY_FLOAT_ || dt.byteorder() == '>' || arr.ndim() != 2 ||
        (arr.flags() & kNeed) != kNeed)
        return Tensor();
    const int64_t rows = arr.shape(0), width = arr.shape(1);
    return Tensor::from_blob(const_cast<void*>(arr.data()), {rows, width}, {width, 1}, DType::Float32, nullptr);
}

// (x: x_obj as a Tensor when the caller has it already.)
py::object forward_call(const std::vector<PlanStage>& stages, py::handle x_obj, Tensor x = Tensor()) {
    if (!x.defined()) x = borrowed_rows(x_obj);
    if (!x.defined()) x = to_tensor(x_obj);
    if (x.device().type != DeviceType::CPU) return py::none();
    Tensor logits, out;
    {
        py::gil_scoped_release nogil;
        out = plan_forward(stages, x, &logits);
    }
    py::object result = py::cast(std::move(out));
    if (logits.defined()) result.attr("_keras_logits") = py::cast(std::move(logits));
    return result;
}

// x as a guarded call runs it, when x is what the call was checked for: an ndarray borrowed_rows takes (`borrowed`),
// or a 2-D float32 cpu Tensor (not a subclass), of exactly `shape` (a tuple of ints); else undefined.
Tensor same_input(py::handle x, const Tensor& borrowed, py::handle shape) {
    PyObject* s = shape.ptr();
    if (!PyTuple_Check(s) || PyTuple_GET_SIZE(s) != 2) return Tensor();
    Tensor t = borrowed;
    if (!t.defined()) {
        if (Py_TYPE(x.ptr()) != reinterpret_cast<PyTypeObject*>(py::type::of<Tensor>().ptr())) return Tensor();
        t = x.cast<const Tensor&>();
        if (t.dtype() != DType::Float32 || t.dim() != 2 || t.device().type != DeviceType::CPU) return Tensor();
    }
    for (int i = 0; i < 2; ++i) {
        const long long want = PyLong_AsLongLong(PyTuple_GET_ITEM(s, i));
        if (want == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (t.size(i) != want) return Tensor();
    }
    return t;
}

// The plan on x when nothing it was built from has changed, else None (model(x)'s checked path then runs):
// no gradient recording, x as `same_input` says, and every guard holding. `guards` is a flat tuple (dict, key,
// value, dict, key, value, ...): each dict[key] must still be that very value (a layer list, an activation,
// a kernel Variable...). About 0.1 us in C against about 5 us for the same checks in Python.
bool guards_hold(py::handle guards) {
    PyObject* g = guards.ptr();
    if (!PyTuple_Check(g)) throw py::type_error("ForwardPlan: guards must be a tuple");
    const Py_ssize_t n = PyTuple_GET_SIZE(g);
    if (n % 3 != 0) throw py::value_error("ForwardPlan: guards must be (dict, key, value) triples");
    for (Py_ssize_t i = 0; i < n; i += 3) {
        PyObject* d = PyTuple_GET_ITEM(g, i);
        if (!PyDict_Check(d)) throw py::type_error("ForwardPlan: a guard's first item must be a dict");
        PyObject* now = PyDict_GetItemWithError(d, PyTuple_GET_ITEM(g, i + 1));  // borrowed
        if (now == nullptr && PyErr_Occurred()) throw py::error_already_set();
        if (now != PyTuple_GET_ITEM(g, i + 2)) return false;
    }
    return true;
}

py::object guarded_call(const ForwardPlan& p, py::handle x, py::handle shape, py::handle guards) {
    if (grad_enabled() || !guards_hold(guards)) return py::none();
    const Tensor t = same_input(x, borrowed_rows(x), shape);
    return t.defined() ? forward_call(p.stages, x, t) : py::none();
}

// `predict`'s loop over a whole-chain plan (python/ckeras/trainers/loops.py), when the guards hold: x (an ndarray
// borrowed_rows takes, `width` columns) in batches of batch_size rows, each through plan_forward as the model's
// call on that batch runs it, so the rows get the bits of the batch-by-batch loop; the outputs go straight into
// one new (rows, units) ndarray. Without the GIL; Ctrl-C is polled between batches. None when x or a guard
// does not qualify (the caller's loop then runs).
py::object predict_guarded(const ForwardPlan& p, py::handle x, int64_t width, int64_t batch_size,
                           py::handle guards) {
    if (grad_enabled() || batch_size < 1 || !guards_hold(guards)) return py::none();
    const Tensor t = borrowed_rows(x);
    if (!t.defined() || t.size(1) != width) return py::none();
    const PlanStage* last = nullptr;
    for (const PlanStage& s : p.stages)
        if (s.kind == PlanStage::Kind::Dense) last = &s;
    if (last == nullptr || !last->kernel.defined() || last->kernel.dim() != 2) return py::none();
    const int64_t n = t.size(0), units = last->kernel.size(1);
    py::array_t<float> out({n, units});
    float* dst = out.mutable_data();
    const float* src = t.data<float>();
    {
        py::gil_scoped_release nogil;
        for (int64_t r0 = 0; r0 < n; r0 += batch_size) {
            const int64_t rows = std::min(batch_size, n - r0);
            const Tensor xb = Tensor::from_blob(const_cast<float*>(src + r0 * width), {rows, width}, {width, 1},
                                                DType::Float32, nullptr);
            const Tensor yb = plan_forward(p.stages, xb, nullptr);
            CKERAS_CHECK(yb.is_contiguous() && yb.size(0) == rows && yb.size(1) == units,
                         "ForwardPlan.predict_guarded: unexpected output shape ", yb.shape());
            std::memcpy(dst + r0 * units, yb.data<float>(), sizeof(float) * size_t(rows * units));
            if (r0 + batch_size < n) poll_interrupt();
        }
    }
    return std::move(out);
}

}  // namespace

void bind_train_plan(py::module_& m) {
    py::enum_<PlanActivation>(m, "PlanActivation")
        .value("Linear", PlanActivation::Linear)
        .value("Relu", PlanActivation::Relu)
        .value("Sigmoid", PlanActivation::Sigmoid)
        .value("Tanh", PlanActivation::Tanh)
        .value("Softmax", PlanActivation::Softmax);
    py::enum_<PlanLoss>(m, "PlanLoss")
        .value("CategoricalCrossentropy", PlanLoss::CategoricalCrossentropy)
        .value("SparseCategoricalCrossentropy", PlanLoss::SparseCategoricalCrossentropy)
        .value("BinaryCrossentropy", PlanLoss::BinaryCrossentropy)
        .value("MeanSquaredError", PlanLoss::MeanSquaredError);
    py::enum_<PlanMetric>(m, "PlanMetric")
        .value("CategoricalAccuracy", PlanMetric::CategoricalAccuracy)
        .value("SparseCategoricalAccuracy", PlanMetric::SparseCategoricalAccuracy)
        .value("BinaryAccuracy", PlanMetric::BinaryAccuracy);

    py::class_<PlanStage>(m, "PlanStage")
        .def_static("dense", [](const Tensor& kernel, std::optional<Tensor> bias, PlanActivation activation,
                                bool train_kernel, bool train_bias) {
            PlanStage s;
            s.kind = PlanStage::Kind::Dense;
            s.kernel = kernel;
            if (bias) s.bias = *bias;
            s.activation = activation;
            s.train_kernel = train_kernel;
            s.train_bias = train_bias;
            return s;
        }, py::arg("kernel"), py::arg("bias"), py::arg("activation"), py::arg("train_kernel") = true,
           py::arg("train_bias") = true)
        .def_static("dropout", [](double rate, const Tensor& seed_state) {
            PlanStage s;
            s.kind = PlanStage::Kind::Dropout;
            s.rate = rate;
            s.seed_state = seed_state;
            return s;
        }, py::arg("rate"), py::arg("seed_state"));

    py::class_<PlanLossSpec>(m, "PlanLossSpec")
        .def(py::init([](PlanLoss kind, bool from_logits) { return PlanLossSpec{kind, from_logits}; }),
             py::arg("kind"), py::arg("from_logits") = false);
    py::class_<PlanMetricSpec>(m, "PlanMetricSpec")
        .def(py::init([](PlanMetric kind, const Tensor& total, const Tensor& count, double threshold) {
            return PlanMetricSpec{kind, threshold, total, count};
        }), py::arg("kind"), py::arg("total"), py::arg("count"), py::arg("threshold") = 0.5);
    py::class_<PlanOptimizer>(m, "PlanOptimizer")
        .def(py::init([](const OptimizerStep& step, const ClipOptions& clip, const Tensor& iterations,
                         const Tensor& learning_rate, std::vector<std::vector<Tensor>> slots, std::vector<bool> decay) {
            return PlanOptimizer{step, clip, iterations, learning_rate, std::move(slots), std::move(decay)};
        }), py::arg("step"), py::arg("clip"), py::arg("iterations"), py::arg("learning_rate"), py::arg("slots"),
            py::arg("decay") = std::vector<bool>{});
    py::class_<PlanEpochResult>(m, "PlanEpochResult")
        .def_readonly("loss_total", &PlanEpochResult::loss_total)
        .def_readonly("loss_count", &PlanEpochResult::loss_count)
        .def_readonly("steps", &PlanEpochResult::steps)
        .def_readonly("first_bad_step", &PlanEpochResult::first_bad_step)
        .def_readonly("first_bad_loss", &PlanEpochResult::first_bad_loss);

    m.def("plan_forward", [](const std::vector<PlanStage>& stages, py::handle x) { return forward_call(stages, x); },
          py::arg("stages"), py::arg("x"));
    // The same with the stages converted once (model(x) keeps one per model: _inference_fast.py).
    py::class_<ForwardPlan>(m, "ForwardPlan")
        .def(py::init([](std::vector<PlanStage> stages) { return ForwardPlan{std::move(stages)}; }), py::arg("stages"))
        .def("__call__", [](const ForwardPlan& p, py::handle x) { return forward_call(p.stages, x); }, py::arg("x"))
        .def("call_guarded", &guarded_call, py::arg("x"), py::arg("shape"), py::arg("guards"))
        .def("predict_guarded", &predict_guarded, py::arg("x"), py::arg("width"), py::arg("batch_size"),
             py::arg("guards"));

    py::class_<TrainPlan>(m, "TrainPlan")
        .def(py::init<std::vector<PlanStage>, PlanLossSpec, std::vector<PlanMetricSpec>, PlanOptimizer, int64_t>(),
             py::arg("stages"), py::arg("loss"), py::arg("metrics"), py::arg("optimizer"), py::arg("batch_size"))
        .def("step", &TrainPlan::step, py::arg("x"), py::arg("y"), Release())
        .def("run_epoch", [](TrainPlan& plan, const Tensor& x, const Tensor& y, int64_t batch_size,
                             std::optional<Tensor> permutation, double loss_total, double loss_count,
                             py::object progress, double progress_interval) {
            std::function<void(int64_t)> report;
            if (!progress.is_none())
                report = [&progress](int64_t steps) {  // back to Python for the progress bar
                    py::gil_scoped_acquire gil;
                    progress(steps);
                };
            py::gil_scoped_release nogil;
            return plan.run_epoch(x, y, batch_size, permutation ? *permutation : Tensor(), loss_total, loss_count,
                                  report, progress_interval);
        }, py::arg("x"), py::arg("y"), py::arg("batch_size"), py::arg("permutation") = py::none(),
           py::arg("loss_total") = 0.0, py::arg("loss_count") = 0.0, py::arg("progress") = py::none(),
           py::arg("progress_interval") = 0.05)
        .def("epoch_progress", &TrainPlan::epoch_progress)
        .def("params", &TrainPlan::params)
        .def("grads", &TrainPlan::grads)
        .def("last_output", &TrainPlan::last_output)
        .def_property_readonly("capacity", &TrainPlan::capacity);
}

}  // namespace ckeras::bind
