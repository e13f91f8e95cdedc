// DLPack exchange (the legacy "dltensor" capsule of DLPack 0.8, which NumPy, PyTorch, JAX and CuPy all
// read and write): Tensor.__dlpack__/__dlpack_device__ and from_dlpack(), both zero-copy.
#include "bind_common.h"
#include "ckeras/device.h"

namespace ckeras::bind {
namespace {

// The DLPack ABI (dlpack.h, v0.8), declared here to avoid a dependency for five structs.
struct DLDevice { int32_t device_type; int32_t device_id; };
struct DLDataType { uint8_t code; uint8_t bits; uint16_t lanes; };
struct DLTensor {
    void* data;
    DLDevice device;
    int32_t ndim;
    DLDataType dtype;
    int64_t* shape;
    int64_t* strides;
    uint64_t byte_offset;
};
struct DLManagedTensor {
    DLTensor dl_tensor;
    void* manager_ctx;
    void (*deleter)(DLManagedTensor* self);
};
constexpr int32_t kDLCPU = 1, kDLCUDA = 2;
constexpr uint8_t kDLInt = 0, kDLFloat = 2, kDLBool = 6;

struct ExportCtx {
    Tensor tensor;  // keeps the storage alive
    Shape shape, strides;
};

DLDataType to_dl(DType dt) {
    switch (dt) {
        case DType::Float32: return {kDLFloat, 32, 1};
        case DType::Float64: return {kDLFloat, 64, 1};
        case DType::Int32: return {kDLInt, 32, 1};
        case DType::Int64: return {kDLInt, 64, 1};
        case DType::Bool: return {kDLBool, 8, 1};
    }
    return {kDLFloat, 32, 1};
}

DType from_dl(DLDataType t) {
    if (t.lanes == 1) {
        if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
        if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
        if (t.code == kDLInt && t.bits == 32) return DType::Int32;
        if (t.code == kDLInt && t.bits == 64) return DType::Int64;
        if (t.code == kDLBool && t.bits == 8) return DType::Bool;
    }
    throw py::value_error("from_dlpack: unsupported dtype (code " + std::to_string(t.code) + ", " +
                          std::to_string(t.bits) + " bits, " + std::to_string(t.lanes) +
                          " lanes); supported dtypes are float32, float64, int32, int64, bool");
}

void capsule_destructor(PyObject* capsule) {
    // Only a capsule nobody consumed still owns its tensor.
    if (PyCapsule_IsValid(capsule, "dltensor")) {
        auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
        if (m && m->deleter) m->deleter(m);
    }
}

py::object to_dlpack(const Tensor& t) {
    auto* ctx = new ExportCtx{t, t.shape(), t.strides()};
    auto* m = new DLManagedTensor{};
    m->dl_tensor.data = t.impl()->storage->data;
    m->dl_tensor.byte_offset = static_cast<uint64_t>(t.offset()) * t.itemsize();
    if (t.offset() < 0) {  // cannot happen for our views, but never hand out a negative offset
        m->dl_tensor.data = t.data_ptr();
        m->dl_tensor.byte_offset = 0;
    }
    m->dl_tensor.device = {t.device().type == DeviceType::CPU ? kDLCPU : kDLCUDA, t.device().index};
    m->dl_tensor.ndim = static_cast<int32_t>(t.dim());
    m->dl_tensor.dtype = to_dl(t.dtype());
    m->dl_tensor.shape = ctx->shape.data();
    m->dl_tensor.strides = ctx->strides.data();
    m->manager_ctx = ctx;
    m->deleter = [](DLManagedTensor* self) {
        delete static_cast<ExportCtx*>(self->manager_ctx);
        delete self;
    };
    PyObject* cap = PyCapsule_New(m, "dltensor", capsule_destructor);
    if (!cap) {
        m->deleter(m);
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(cap);
}

Tensor from_dlpack_capsule(py::capsule cap) {
    if (!PyCapsule_IsValid(cap.ptr(), "dltensor"))
        throw py::value_error("from_dlpack: expected an unconsumed 'dltensor' capsule");
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
    const DLTensor& d = m->dl_tensor;
    if (d.device.device_type != kDLCPU) {
        if (m->deleter) m->deleter(m);
        PyCapsule_SetName(cap.ptr(), "used_dltensor");
        throw py::value_error("from_dlpack: only CPU tensors can be imported so far; copy a GPU tensor to the "
                              "host first (e.g. torch's .cpu()), then move it with .to('gpu:0')");
    }
    DType dt = from_dl(d.dtype);
    Shape shape(d.shape, d.shape + d.ndim);
    Shape strides = d.strides ? Shape(d.strides, d.strides + d.ndim) : contiguous_strides(shape);
    void* data = static_cast<char*>(d.data) + d.byte_offset;
    PyCapsule_SetName(cap.ptr(), "used_dltensor");  // we own it now
    std::shared_ptr<void> owner(m, [](void* p) {
        auto* mt = static_cast<DLManagedTensor*>(p);
        if (mt->deleter) mt->deleter(mt);
    });
    return Tensor::from_blob(data, shape, strides, dt, owner);
}

}  // namespace

void bind_dlpack(py::module_& m) {
    py::class_<Tensor> cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
    cls.def("__dlpack__", [](const Tensor& t, py::object stream, py::object max_version, py::object dl_device,
                             py::object copy) {
        (void)stream, (void)max_version, (void)dl_device;
        Tensor out = !copy.is_none() && copy.cast<bool>() ? ckeras::copy(t).detach() : t;
        // The consumer reads on its own stream: our queued writes must be finished first.
        if (out.device().type != DeviceType::CPU) {
            py::gil_scoped_release nogil;
            device_synchronize(out.device());
        }
        return to_dlpack(out);
    }, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
       py::arg("dl_device") = py::none(), py::arg("copy") = py::none());
    cls.def("__dlpack_device__", [](const Tensor& t) {
        return py::make_tuple(t.device().type == DeviceType::CPU ? kDLCPU : kDLCUDA, t.device().index);
    });
    m.def("from_dlpack", [](py::object obj) {
        if (py::isinstance<py::capsule>(obj)) return from_dlpack_capsule(obj.cast<py::capsule>());
        if (!py::hasattr(obj, "__dlpack__"))
            throw py::type_error("from_dlpack: expected an object with __dlpack__ (a NumPy array, a torch "
                                 "tensor, ...) or a DLPack capsule");
        return from_dlpack_capsule(obj.attr("__dlpack__")().cast<py::capsule>());
    }, py::arg("x"));
}

}  // namespace ckeras::bind
