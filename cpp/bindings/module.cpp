// The extension module ckeras._core: exception mapping and the binding files.
#include "bind_common.h"

#include "ckeras/error.h"

PYBIND11_MODULE(_core, m) {
    m.doc() = "ckeras C++ engine: tensors, ops, autograd, optimizers";
    // An accelerator out-of-memory: a MemoryError subclass, so `except MemoryError` still catches it.
    static py::handle oom_type = py::exception<ckeras::Error>(m, "OutOfMemoryError", PyExc_MemoryError).release();
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ckeras::Error& e) {
            PyObject* type = PyExc_RuntimeError;
            switch (e.kind()) {
                case ckeras::ErrorKind::Value: type = PyExc_ValueError; break;
                case ckeras::ErrorKind::Type: type = PyExc_TypeError; break;
                case ckeras::ErrorKind::Index: type = PyExc_IndexError; break;
                case ckeras::ErrorKind::Memory: type = PyExc_MemoryError; break;
                case ckeras::ErrorKind::DeviceMemory: type = oom_type.ptr(); break;
                case ckeras::ErrorKind::Overflow: type = PyExc_OverflowError; break;
                case ckeras::ErrorKind::NotImplemented: type = PyExc_NotImplementedError; break;
                case ckeras::ErrorKind::Interrupt: type = PyExc_KeyboardInterrupt; break;
                case ckeras::ErrorKind::Runtime: type = PyExc_RuntimeError; break;
            }
            PyErr_SetString(type, e.what());
        } catch (const std::bad_alloc&) {
            PyErr_SetString(PyExc_MemoryError, "out of memory (std::bad_alloc)");
        }
    });
    ckeras::bind::bind_tensor(m);
    ckeras::bind::bind_ops(m);
    ckeras::bind::bind_nn(m);
    ckeras::bind::bind_losses(m);
    ckeras::bind::bind_autograd(m);
    ckeras::bind::bind_system(m);
    ckeras::bind::bind_dlpack(m);
    ckeras::bind::bind_train_plan(m);
}
