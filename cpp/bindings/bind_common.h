// Shared declarations for the pybind11 module ckeras._core: conversions between Python values and
// C++ types, and the per-file binding functions.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ckeras/ops.h"
#include "ckeras/tensor.h"

namespace py = pybind11;

namespace ckeras::bind {

// NumPy array (any layout, any supported dtype) -> Tensor. Shares memory when the dtype is one of ours
// and the strides are whole elements; otherwise copies (and converts small ints/float16 up).
Tensor from_numpy(py::array arr);
// True for an ndarray itself (no subclass).
bool is_exact_ndarray(py::handle obj);
// Tensor -> NumPy array sharing memory (read-only), CPU only.
py::array to_numpy(const Tensor& t);
// Python scalar/list/array/Tensor -> Tensor; dtype (optional name) overrides; `like` gives the dtype
// for Python scalars (Keras weak typing: a Python float next to a float64 tensor stays float64).
Tensor to_tensor(py::handle obj, const char* dtype = nullptr);
DType parse_dtype(py::handle dtype);
Device parse_device(const std::string& s);

void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_nn(py::module_& m);
void bind_losses(py::module_& m);
void bind_autograd(py::module_& m);
void bind_system(py::module_& m);
void bind_dlpack(py::module_& m);
void bind_train_plan(py::module_& m);

}  // namespace ckeras::bind
