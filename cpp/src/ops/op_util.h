// Helpers shared by the op files: kernel lookup for a tensor's device, device checks, views, and a
// base for backward nodes that keep saved tensors.
#pragma once
#include "ckeras/autograd.h"
#include "ckeras/device.h"
#include "ckeras/kernels.h"
#include "ckeras/ops.h"

namespace ckeras {

// The kernel table for x's device, with that device made current (a no-op on the CPU).
inline KernelTable& kt(const Tensor& x) {
    Device d = x.device();
    if (d.type != DeviceType::CPU) accelerator().set_device(d.index);
    return kernel_table(d.type);
}

// The kernel `slot` for x's device, or NotImplemented naming op and device.
#define CKERAS_KERNEL(x, slot, opname) ::ckeras::require_kernel(::ckeras::kt(x).slot, opname, (x).device())

inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
    CKERAS_CHECK(a.device() == b.device(), op, ": inputs are on different devices (", a.device().str(), " and ",
                 b.device().str(), ")");
}

// Mixed devices: a 0-d tensor (a Python scalar) moves to the device of an operand with data (rank >= 1);
// of two 0-d tensors, the CPU one moves. Anything else on two devices is an error naming both.
inline void follow_device(const char* op, Tensor& a, Tensor& b) {
    if (a.device() == b.device()) return;
    bool a_moves = a.dim() == 0 && (b.dim() > 0 || a.device().type == DeviceType::CPU);
    bool b_moves = !a_moves && b.dim() == 0 && (a.dim() > 0 || b.device().type == DeviceType::CPU);
    if (a_moves) a = to_device(a, b.device());
    else if (b_moves) b = to_device(b, a.device());
    else check_same_device(op, a, b);
}

inline void check_defined(const char* op, const Tensor& x) {
    CKERAS_CHECK(x.defined(), op, ": got an undefined tensor");
}

// x itself, or a detached copy of its handle when an op on it would record (views and copies made only to
// feed a kernel must not). Detaching costs three allocations, so the common no-gradient call skips it.
inline Tensor detach_if_recording(const Tensor& x) { return needs_grad({&x}) ? x.detach() : x; }

// A view of x's storage with new geometry (no autograd wiring).
Tensor make_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset);

// Tensor with x's dtype/device and `shape`, uninitialised.
inline Tensor empty_like_shape(const Tensor& x, const Shape& shape, DType dtype) {
    return Tensor::empty(shape, dtype, x.device());
}

// Most ops are simple: a lambda backward with captured saved tensors. Capture an op's own output
// only as out.detach(), or the node would keep itself alive through it.
struct LambdaNode : Node {
    using Fn = std::function<std::vector<Tensor>(const Tensor&)>;
    LambdaNode(const char* name, Fn fn) : name_(name), fn_(std::move(fn)) {}
    std::vector<Tensor> backward(const Tensor& dout) override {
        if (!fn_)
            throw_error(ErrorKind::Runtime, "backward through ", name_, " a second time: its saved tensors were "
                        "freed; use a persistent GradientTape (retain_graph) to differentiate twice");
        return fn_(dout);
    }
    const char* name() const override { return name_; }
    void release() override { fn_ = nullptr; }
    const char* name_;
    Fn fn_;
};

// Records `fn` as out's backward when any of `inputs` needs a gradient.
template <class Fn>
void record_fn(Tensor& out, const char* name, std::initializer_list<const Tensor*> inputs, Fn&& fn) {
    if (!needs_grad(inputs)) return;
    record(out, std::make_shared<LambdaNode>(name, std::forward<Fn>(fn)), inputs);
}

}  // namespace ckeras
