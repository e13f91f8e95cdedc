// Bindings for the neural-network ops: random numbers, dropout and optimizer steps. The GIL is released
// while kernels run; ckeras.random and ckeras.optimizers build on these.
#include "bind_common.h"

#include "ckeras/optim.h"

namespace ckeras::bind {

using Release = py::call_guard<py::gil_scoped_release>;

static void bind_random(py::module_& m) {
    using RandomFn = Tensor (*)(const Shape&, double, double, DType, uint64_t, uint64_t);
    auto def_random = [&m](const char* name, RandomFn fn, const char* a, const char* b) {
        m.def(name, [fn](const Shape& shape, double pa, double pb, py::object dtype, uint64_t seed,
                         uint64_t offset) {
            DType dt = parse_dtype(dtype);
            py::gil_scoped_release nogil;
            return fn(shape, pa, pb, dt, seed, offset);
        }, py::arg("shape"), py::arg(a), py::arg(b), py::arg("dtype") = "float32", py::arg("seed") = 0,
           py::arg("offset") = 0);
    };
    def_random("random_uniform", &random_uniform, "minval", "maxval");
    def_random("random_normal", &random_normal, "mean", "stddev");
    def_random("truncated_normal", &truncated_normal, "mean", "stddev");
    m.def("dropout", &dropout, py::arg("x"), py::arg("rate"), py::arg("seed") = 0, py::arg("offset") = 0,
          Release());
}

static void bind_optimizer(py::module_& m) {
    py::enum_<OptimizerKind>(m, "OptimizerKind")
        .value("SGD", OptimizerKind::SGD)
        .value("Adam", OptimizerKind::Adam)
        .value("RMSprop", OptimizerKind::RMSprop)
        .value("Adagrad", OptimizerKind::Adagrad)
        .value("Adamax", OptimizerKind::Adamax)
        .value("Nadam", OptimizerKind::Nadam)
        .value("Lion", OptimizerKind::Lion);
    py::class_<OptimizerStep>(m, "OptimizerStep")
        .def(py::init<>())
        .def_readwrite("kind", &OptimizerStep::kind)
        .def_readwrite("learning_rate", &OptimizerStep::learning_rate)
        .def_readwrite("beta_1", &OptimizerStep::beta_1)
        .def_readwrite("beta_2", &OptimizerStep::beta_2)
        .def_readwrite("epsilon", &OptimizerStep::epsilon)
        .def_readwrite("momentum", &OptimizerStep::momentum)
        .def_readwrite("rho", &OptimizerStep::rho)
        .def_readwrite("nesterov", &OptimizerStep::nesterov)
        .def_readwrite("amsgrad", &OptimizerStep::amsgrad)
        .def_readwrite("centered", &OptimizerStep::centered)
        .def_readwrite("weight_decay", &OptimizerStep::weight_decay)
        .def_readwrite("clip_value", &OptimizerStep::clip_value)
        .def_readwrite("step", &OptimizerStep::step)
        .def_readwrite("nadam_u_product", &OptimizerStep::nadam_u_product);
    py::class_<ClipOptions>(m, "ClipOptions")
        .def(py::init([](double clipnorm, double global_clipnorm, double clipvalue) {
            return ClipOptions{clipnorm, global_clipnorm, clipvalue};
        }), py::arg("clipnorm") = 0.0, py::arg("global_clipnorm") = 0.0, py::arg("clipvalue") = 0.0)
        .def_readwrite("clipnorm", &ClipOptions::clipnorm)
        .def_readwrite("global_clipnorm", &ClipOptions::global_clipnorm)
        .def_readwrite("clipvalue", &ClipOptions::clipvalue);
    m.def("optimizer_apply", &optimizer_apply, py::arg("step"), py::arg("clip"), py::arg("params"),
          py::arg("grads"), py::arg("slots"), py::arg("decay") = std::vector<bool>{}, Release());
    m.def("optimizer_slot_count", &optimizer_slot_count, py::arg("step"));
}

void bind_nn(py::module_& m) {
    bind_random(m);
    bind_optimizer(m);
}

}  // namespace ckeras::bind
