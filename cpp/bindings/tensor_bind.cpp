// The Tensor class in Python: NumPy conversion both ways (buffer protocol, __array__ with NumPy 2's
// dtype/copy arguments), attributes, and the conversion of arbitrary Python values to tensors.
#include <cstdint>
#include <cstring>

#include "bind_common.h"
#include "ckeras/autograd.h"
#include "ckeras/device.h"

namespace ckeras::bind {

static std::optional<DType> numpy_dtype_to_ours(const py::dtype& dt) {
    char kind = dt.kind();
    size_t size = dt.itemsize();
    if (kind == 'f' && size == 4) return DType::Float32;
    if (kind == 'f' && size == 8) return DType::Float64;
    if (kind == 'i' && size == 4) return DType::Int32;
    if (kind == 'i' && size == 8) return DType::Int64;
    if (kind == 'b') return DType::Bool;
    return std::nullopt;
}

// The dtype a NumPy array of an unsupported-but-convertible dtype is widened to, or nullopt.
static std::optional<DType> widened_dtype(const py::dtype& dt) {
    char kind = dt.kind();
    size_t size = dt.itemsize();
    if (kind == 'f' && size == 2) return DType::Float32;
    if ((kind == 'i' && size < 4) || (kind == 'u' && size < 4)) return DType::Int32;
    if (kind == 'u' && size == 4) return DType::Int64;
    return std::nullopt;
}

static py::dtype to_numpy_dtype(DType dt) {
    switch (dt) {
        case DType::Float32: return py::dtype::of<float>();
        case DType::Float64: return py::dtype::of<double>();
        case DType::Int32: return py::dtype::of<int32_t>();
        case DType::Int64: return py::dtype::of<int64_t>();
        case DType::Bool: return py::dtype::of<bool>();
    }
    return py::dtype::of<float>();
}

static std::shared_ptr<void> keep_alive(py::object obj) {
    auto* holder = new py::object(std::move(obj));
    return std::shared_ptr<void>(holder, [](void* p) {
        py::gil_scoped_acquire gil;
        delete static_cast<py::object*>(p);
    });
}

Tensor from_numpy(py::array arr) {
    py::dtype dt = arr.dtype();
    std::optional<DType> ours = numpy_dtype_to_ours(dt);
    if (!ours) {
        std::optional<DType> wide = widened_dtype(dt);
        if (!wide)
            throw py::value_error("unsupported dtype '" + std::string(py::str(dt)) +
                                  "'; supported dtypes are float32, float64, int32, int64, bool (float16 and "
                                  "small integer types are widened)");
        return from_numpy(py::array(py::module_::import("numpy").attr("asarray")(arr, to_numpy_dtype(*wide))));
    }
    if (!dt.attr("isnative").cast<bool>())  // byte-swapped ('>f4' on a little-endian machine)
        return from_numpy(py::array(arr.attr("astype")(dt.attr("newbyteorder")("="))));
    Shape shape(arr.shape(), arr.shape() + arr.ndim());
    Shape strides(arr.ndim());
    int64_t isz = static_cast<int64_t>(dtype_size(*ours));
    bool whole = true;
    for (int64_t d = 0; d < arr.ndim(); ++d) {
        if (arr.strides(d) % isz != 0) whole = false;
        strides[d] = arr.strides(d) / isz;
    }
    // A fresh copy: np.ascontiguousarray would hand back a misaligned C-contiguous array unchanged.
    if (!whole || (reinterpret_cast<uintptr_t>(arr.data()) % isz) != 0)
        return from_numpy(py::array(arr.attr("copy")("C")));
    return Tensor::from_blob(const_cast<void*>(arr.data()), shape, strides, *ours, keep_alive(arr));
}

py::array to_numpy(const Tensor& t_in) {
    Tensor t = t_in;
    if (t.device().type != DeviceType::CPU) {  // a device tensor arrives as a host copy
        py::gil_scoped_release nogil;
        t = to_device(t_in.detach(), Device{});
    }
    std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
    for (int64_t s : t.strides()) strides.push_back(s * static_cast<int64_t>(t.itemsize()));
    // The capsule keeps the storage alive as long as the array lives.
    auto* keep = new std::shared_ptr<Storage>(t.impl()->storage);
    py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
    py::array a(to_numpy_dtype(t.dtype()), shape, strides, t.data_ptr(), owner);
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return a;
}

DType parse_dtype(py::handle dtype) {
    if (py::isinstance<py::str>(dtype)) return dtype_from_name(dtype.cast<std::string>());
    // numpy dtypes and scalar types (np.float32) both stringify through np.dtype(x).name
    py::object np_dtype = py::module_::import("numpy").attr("dtype")(dtype);
    return dtype_from_name(np_dtype.attr("name").cast<std::string>());
}

Device parse_device(const std::string& s) {
    std::string low;
    for (char c : s) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (low == "cpu" || low == "cpu:0" || low == "/cpu:0") return Device{DeviceType::CPU, 0};
    for (const char* prefix : {"cuda", "gpu", "/gpu"}) {
        std::string p(prefix);
        if (low.rfind(p, 0) == 0) {
            std::string rest = low.substr(p.size());
            int idx = rest.empty() ? 0 : (rest[0] == ':' ? std::stoi(rest.substr(1)) : -1);
            CKERAS_CHECK(idx >= 0, "invalid device '", s, "'; expected 'cpu', 'gpu', 'gpu:N' or 'cuda:N'");
            return Device{DeviceType::CUDA, idx};
        }
    }
    throw_error(ErrorKind::Value, "invalid device '", s, "'; expected 'cpu', 'gpu', 'gpu:N' or 'cuda:N'");
}

static bool fits_int64(py::handle obj) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    return overflow == 0;
}

// True when every value of the integer array `arr` fits in int32 (an empty one does).
static bool int32_range(const py::object& np, const py::object& arr) {
    if (arr.attr("size").cast<int64_t>() == 0) return true;
    return np.attr("min")(arr).cast<int64_t>() >= INT32_MIN && np.attr("max")(arr).cast<int64_t>() <= INT32_MAX;
}

// A plain numpy.ndarray (not a subclass): np.asarray would hand it back unchanged.
bool is_exact_ndarray(py::handle obj) {
    return Py_TYPE(obj.ptr()) == reinterpret_cast<PyTypeObject*>(py::detail::npy_api::get().PyArray_Type_);
}

// Host data becomes a tensor on the current device (tensors stay where they are).
static Tensor place(Tensor t) {
    Device d = current_device();
    if (d.type == DeviceType::CPU) return t;
    py::gil_scoped_release nogil;
    return to_device(t, d);
}

Tensor to_tensor(py::handle obj, const char* dtype) {
    Tensor t;
    if (py::isinstance<Tensor>(obj)) {  // the common cases, without the lookups below
        t = obj.cast<Tensor>();
        return dtype ? cast(t, dtype_from_name(dtype)) : t;
    }
    if (is_exact_ndarray(obj)) {
        t = place(from_numpy(py::reinterpret_borrow<py::array>(obj)));
        return dtype ? cast(t, dtype_from_name(dtype)) : t;
    }
    py::object np = py::module_::import("numpy");
    // NumPy scalars keep their dtype (np.float64(1.5) is float64), like 0-d arrays.
    bool np_scalar = py::isinstance(obj, np.attr("generic"));
    if (py::hasattr(obj, "_ckeras_tensor")) {  // ckeras.Variable and friends
        t = obj.attr("_ckeras_tensor").cast<Tensor>();
    } else if (py::isinstance<py::bool_>(obj)) {
        t = Tensor::scalar(obj.cast<bool>() ? 1 : 0, DType::Bool);
    } else if (py::isinstance<py::int_>(obj) && !dtype && !np_scalar && fits_int64(obj)) {
        // int32 as in Keras, or int64 when the value does not fit (as NumPy does); stored exactly.
        int64_t v = obj.cast<int64_t>();
        bool small = v >= INT32_MIN && v <= INT32_MAX;
        t = Tensor::empty({}, small ? DType::Int32 : DType::Int64);
        if (small) *t.data<int32_t>() = static_cast<int32_t>(v);
        else *t.data<int64_t>() = v;
    } else if (py::isinstance<py::float_>(obj) && !dtype && !np_scalar) {
        t = Tensor::scalar(obj.cast<double>(), DType::Float32);
    } else {
        py::object arr = np.attr("asarray")(obj);
        std::string kind(1, arr.attr("dtype").attr("kind").cast<char>());
        bool python_values = !py::isinstance<py::array>(obj) && !np_scalar;
        if (kind == "f" && !dtype && python_values)
            arr = np.attr("asarray")(arr, "float32");  // Python lists of floats become float32, as in Keras
        if (kind == "i" && !dtype && python_values && int32_range(np, arr))
            arr = np.attr("asarray")(arr, "int32");
        t = from_numpy(py::array(arr));
    }
    if (!py::hasattr(obj, "_ckeras_tensor")) t = place(t);
    if (dtype) t = cast(t, dtype_from_name(dtype));
    return t;
}

void bind_tensor(py::module_& m) {
    py::class_<Tensor>(m, "Tensor", py::buffer_protocol(), py::dynamic_attr())
        .def_buffer([](const Tensor& t) -> py::buffer_info {
            CKERAS_CHECK(t.device().type == DeviceType::CPU, "a tensor on ", t.device().str(),
                         " has no host buffer; copy it to the cpu first");
            std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
            for (int64_t s : t.strides()) strides.push_back(s * static_cast<int64_t>(t.itemsize()));
            std::string fmt = py::format_descriptor<float>::format();
            switch (t.dtype()) {
                case DType::Float32: fmt = py::format_descriptor<float>::format(); break;
                case DType::Float64: fmt = py::format_descriptor<double>::format(); break;
                case DType::Int32: fmt = py::format_descriptor<int32_t>::format(); break;
                case DType::Int64: fmt = py::format_descriptor<int64_t>::format(); break;
                case DType::Bool: fmt = "?"; break;
            }
            return py::buffer_info(t.data_ptr(), static_cast<py::ssize_t>(t.itemsize()), fmt,
                                   static_cast<py::ssize_t>(t.dim()), shape, strides, /*readonly=*/true);
        })
        .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
        .def_property_readonly("ndim", &Tensor::dim)
        .def_property_readonly("size", &Tensor::numel)
        .def_property_readonly("dtype", [](const Tensor& t) { return dtype_name(t.dtype()); })
        .def_property_readonly("device", [](const Tensor& t) { return t.device().str(); })
        .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); })
        .def_property_readonly("is_contiguous", &Tensor::is_contiguous)
        .def_property("requires_grad", &Tensor::requires_grad, &Tensor::set_requires_grad)
        .def_property_readonly("grad", [](const Tensor& t) -> py::object {
            return t.grad().defined() ? py::cast(t.grad()) : py::none();
        })
        .def("zero_grad", [](Tensor& t) { t.set_grad(Tensor()); })
        .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
            if (!t.grad_fn()) return py::none();
            return py::str(t.grad_fn()->name());
        })
        .def("numpy", [](const Tensor& t) { return to_numpy(t); },
             "A read-only NumPy view of the tensor's memory (a copy for tensors on a GPU).")
        .def("to", [](const Tensor& t, const std::string& device) {
            Device d = parse_device(device);
            py::gil_scoped_release nogil;
            return to_device(t, d);
        }, py::arg("device"), "This tensor on `device` ('cpu', 'gpu:0'): itself when already there, else a copy.")
        .def("__array__", [](const Tensor& t, py::object dtype, py::object copy) {
            py::object np = py::module_::import("numpy");
            py::object a = to_numpy(t);
            bool must_copy = !copy.is_none() && copy.cast<bool>();
            bool same_dtype = dtype.is_none() || np.attr("dtype")(dtype).equal(a.attr("dtype"));
            // NumPy 2's protocol: copy=False must not copy, so a dtype change is an error.
            if (!copy.is_none() && !copy.cast<bool>() && !same_dtype)
                throw py::value_error(std::string("Unable to avoid copy while creating an array as requested: "
                                                  "the tensor is ") + dtype_name(t.dtype()) + ", not " +
                                      std::string(py::str(np.attr("dtype")(dtype))));
            if (!same_dtype) a = a.attr("astype")(dtype, py::arg("copy") = must_copy);
            else if (must_copy) a = a.attr("copy")();
            return a;
        }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
        .def("item", [](const Tensor& t) -> py::object {
            double v = t.item();
            if (is_floating(t.dtype())) return py::float_(v);
            if (t.dtype() == DType::Bool) return py::bool_(v != 0);
            return py::int_(static_cast<int64_t>(v));
        })
        .def("__len__", [](const Tensor& t) {
            if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
            return t.shape()[0];
        })
        .def("detach", &Tensor::detach)
        .def("backward", [](const Tensor& t, py::object g, bool retain) {
            Tensor seed = g.is_none() ? Tensor() : to_tensor(g);
            py::gil_scoped_release nogil;
            t.backward(seed, retain);
        }, py::arg("gradient") = py::none(), py::arg("retain_graph") = false);

    m.def("from_numpy", &from_numpy, py::arg("array"));
    m.def("convert_to_tensor", [](py::handle x, py::object dtype) {
        if (dtype.is_none()) return to_tensor(x);
        std::string name = dtype_name(parse_dtype(dtype));
        return to_tensor(x, name.c_str());
    }, py::arg("x"), py::arg("dtype") = py::none());
    m.def("_storage_id", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.impl()->storage.get()); });
}

}  // namespace ckeras::bind
