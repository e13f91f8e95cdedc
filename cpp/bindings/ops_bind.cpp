// Bindings for the tensor ops of ops.h. Arguments arrive as Tensors (ckeras.ops converts Python
// values first); the GIL is released while an op runs.
#include "bind_common.h"
#include "ckeras/device.h"

namespace ckeras::bind {

using Release = py::call_guard<py::gil_scoped_release>;

static std::optional<Axes> axes_arg(py::object axis) {
    if (axis.is_none()) return std::nullopt;
    if (py::isinstance<py::int_>(axis)) return Axes{axis.cast<int64_t>()};
    return axis.cast<Axes>();
}

void bind_ops(py::module_& m) {
    for (int i = 0; i < static_cast<int>(UnaryOp::kCount); ++i) {
        auto op = static_cast<UnaryOp>(i);
        std::string name = std::string("_unary_") + std::to_string(i);
        m.def(name.c_str(), [op](const Tensor& x, double a, double b) { return unary(op, x, a, b); },
              py::arg("x"), py::arg("alpha") = 0.0, py::arg("beta") = 0.0, Release());
    }
    py::dict unary_ids, binary_ids;
    for (int i = 0; i < static_cast<int>(UnaryOp::kCount); ++i) {
        auto op = static_cast<UnaryOp>(i);
        std::string key = op == UnaryOp::GeluTanh ? "gelu_tanh" : unary_op_name(op);
        unary_ids[py::str(key)] = i;
    }
    m.attr("UNARY_OPS") = unary_ids;
    for (int i = 0; i < static_cast<int>(BinaryOp::kCount); ++i) {
        auto op = static_cast<BinaryOp>(i);
        m.def(binary_op_name(op), [op](const Tensor& a, const Tensor& b) { return binary(op, a, b); },
              py::arg("x1"), py::arg("x2"), Release());
        binary_ids[py::str(binary_op_name(op))] = i;
    }
    m.attr("BINARY_OPS") = binary_ids;
    m.def("where", &where, py::arg("condition"), py::arg("x1"), py::arg("x2"), Release());

    m.def("cast", [](const Tensor& x, py::object dtype) {
        DType dt = parse_dtype(dtype);
        py::gil_scoped_release nogil;
        return cast(x, dt);
    }, py::arg("x"), py::arg("dtype"));
    m.def("contiguous", &contiguous, Release());
    m.def("copy", &copy, Release());
    m.def("reshape", &reshape, py::arg("x"), py::arg("newshape"), Release());
    m.def("transpose", [](const Tensor& x, std::optional<Axes> axes) { return transpose(x, axes); },
          py::arg("x"), py::arg("axes") = py::none(), Release());
    m.def("swapaxes", &swapaxes, py::arg("x"), py::arg("axis1"), py::arg("axis2"), Release());
    m.def("expand_dims", &expand_dims, py::arg("x"), py::arg("axis"), Release());
    m.def("squeeze", [](const Tensor& x, py::object axis) { return squeeze(x, axes_arg(axis)); },
          py::arg("x"), py::arg("axis") = py::none());
    m.def("broadcast_to", &broadcast_to, py::arg("x"), py::arg("shape"), Release());
    m.def("broadcast_shapes", &broadcast_shapes, Release());
    m.def("slice", [](const Tensor& x, const std::vector<std::tuple<int64_t, int64_t, int64_t>>& specs) {
        std::vector<SliceSpec> s;
        for (auto& [a, b, c] : specs) s.push_back({a, b, c});
        return slice(x, s);
    }, py::arg("x"), py::arg("specs"), Release());
    m.def("select", &select, py::arg("x"), py::arg("axis"), py::arg("index"), Release());
    m.def("concatenate", &concatenate, py::arg("xs"), py::arg("axis") = 0, Release());
    m.def("stack", &stack, py::arg("xs"), py::arg("axis") = 0, Release());
    m.def("split", &split, py::arg("x"), py::arg("sizes"), py::arg("axis") = 0, Release());
    m.def("take", [](const Tensor& x, const Tensor& idx, std::optional<int64_t> axis) { return take(x, idx, axis); },
          py::arg("x"), py::arg("indices"), py::arg("axis") = py::none(), Release());
    m.def("one_hot", [](const Tensor& x, int64_t n, int64_t axis, py::object dtype) {
        DType dt = parse_dtype(dtype);
        py::gil_scoped_release nogil;
        return one_hot(x, n, axis, dt);
    }, py::arg("x"), py::arg("num_classes"), py::arg("axis") = -1, py::arg("dtype") = "float32");
    m.def("sum_to", &sum_to, Release());

    auto def_reduce = [&m](const char* name, Tensor (*fn)(const Tensor&, std::optional<Axes>, bool)) {
        m.def(name, [fn](const Tensor& x, py::object axis, bool keepdims) {
            std::optional<Axes> axes = axes_arg(axis);
            py::gil_scoped_release nogil;
            return fn(x, axes, keepdims);
        }, py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
    };
    def_reduce("sum", &sum);
    def_reduce("mean", &mean);
    def_reduce("max", &max);
    def_reduce("min", &min);
    def_reduce("prod", &prod);
    def_reduce("var", &var);
    def_reduce("std", &stddev);
    def_reduce("logsumexp", &logsumexp);
    m.def("argmax", &argmax, py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, Release());
    m.def("argmin", &argmin, py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false, Release());

    m.def("matmul", &matmul, py::arg("x1"), py::arg("x2"), Release());
    m.def("softmax", &softmax, py::arg("x"), py::arg("axis") = -1, Release());
    m.def("log_softmax", &log_softmax, py::arg("x"), py::arg("axis") = -1, Release());

    auto creator = [&m](const char* name, double value) {
        m.def(name, [value](const Shape& shape, py::object dtype) {
            DType dt = parse_dtype(dtype);
            py::gil_scoped_release nogil;
            return full(shape, value, dt, current_device());
        }, py::arg("shape"), py::arg("dtype") = "float32");
    };
    creator("zeros", 0.0);
    creator("ones", 1.0);
    m.def("full", [](const Shape& shape, double v, py::object dtype) {
        return full(shape, v, parse_dtype(dtype), current_device());
    },
          py::arg("shape"), py::arg("fill_value"), py::arg("dtype") = "float32");
    m.def("arange", [](double start, double stop, double step, py::object dtype) {
        return arange(start, stop, step, parse_dtype(dtype), current_device());
    }, py::arg("start"), py::arg("stop"), py::arg("step") = 1.0, py::arg("dtype") = "float32");
}

}  // namespace ckeras::bind
