// Bindings for the fused loss ops of ops.h (ops/loss.cpp). Arguments arrive as Tensors (ckeras.ops
// converts Python values first); the GIL is released while an op runs.
#include "bind_common.h"

namespace ckeras::bind {

void bind_losses(py::module_& m) {
    using Release = py::call_guard<py::gil_scoped_release>;
    m.def("categorical_crossentropy", &categorical_crossentropy, py::arg("target"), py::arg("output"),
          py::arg("from_logits") = false, py::arg("axis") = -1, Release());
    m.def("sparse_categorical_crossentropy", &sparse_categorical_crossentropy, py::arg("target"), py::arg("output"),
          py::arg("from_logits") = false, py::arg("axis") = -1, Release());
    m.def("binary_crossentropy", &binary_crossentropy, py::arg("target"), py::arg("output"),
          py::arg("from_logits") = false, Release());
    m.def("mean_squared_error", &mean_squared_error, py::arg("target"), py::arg("output"), Release());
    m.def("mean_absolute_error", &mean_absolute_error, py::arg("target"), py::arg("output"), Release());
}

}  // namespace ckeras::bind
