// Tensor: a strided view (shape, strides in elements, offset) onto reference-counted Storage, plus
// the autograd fields (requires_grad, grad, grad_fn). Host-only header; device memory is opaque here.
#pragma once
#include <atomic>
#include <functional>
#include <memory>

#include "ckeras/dtype.h"
#include "ckeras/error.h"

namespace ckeras {

struct Node;  // autograd.h

// A block of memory on one device. `owner` frees it (our allocator, or a NumPy/DLPack producer).
struct Storage {
    void* data = nullptr;
    int64_t nbytes = 0;
    Device device;
    std::shared_ptr<void> owner;
    std::atomic<uint64_t> version{0};  // bumped by in-place writes (assign, optimizer steps)
};

// Allocates `nbytes` on `device` (64-byte aligned on the CPU). MemoryError names the bytes requested.
std::shared_ptr<Storage> allocate_storage(int64_t nbytes, Device device);

// The CPU allocator behind allocate_storage (core/cpu_allocator.cpp): aligned blocks, large ones
// recycled through a capped cache.
std::shared_ptr<void> cpu_allocate(int64_t nbytes);
int64_t cpu_cache_bytes();
void cpu_cache_release();
void set_cpu_cache_limit(int64_t bytes);

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    Shape strides;  // in elements
    int64_t offset = 0;  // in elements
    DType dtype = DType::Float32;
    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;   // accumulated by backward() on leaves
    std::shared_ptr<Node> grad_fn;      // set on results of recorded ops
    std::string name;                   // optional, for error messages
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // New contiguous tensor, uninitialised.
    static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = {});
    static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = {});
    static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = {});
    static Tensor scalar(double value, DType dtype = DType::Float32, Device device = {});
    // Wraps existing memory without copying; `owner` keeps it alive.
    static Tensor from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype,
                            std::shared_ptr<void> owner, Device device = {});

    bool defined() const { return impl_ != nullptr; }
    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

    const Shape& shape() const { return impl_->shape; }
    const Shape& strides() const { return impl_->strides; }
    int64_t offset() const { return impl_->offset; }
    int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
    int64_t size(int64_t d) const;  // negative d counts from the end
    int64_t numel() const;
    DType dtype() const { return impl_->dtype; }
    Device device() const { return impl_->storage->device; }
    size_t itemsize() const { return dtype_size(impl_->dtype); }
    bool is_contiguous() const;

    void* data_ptr() const {
        return static_cast<char*>(impl_->storage->data) + impl_->offset * static_cast<int64_t>(itemsize());
    }
    template <class T> T* data() const { return static_cast<T*>(data_ptr()); }

    // Autograd fields.
    bool requires_grad() const { return impl_->requires_grad; }
    void set_requires_grad(bool r);
    Tensor grad() const { return Tensor(impl_->grad); }
    void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
    const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
    bool is_leaf() const { return impl_->grad_fn == nullptr; }
    // Same data, no history.
    Tensor detach() const;
    // Runs reverse mode from this tensor (a scalar unless `grad` is given), accumulating into leaves.
    void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

    // Reads element `i` of a contiguous-order walk as double (tests, debugging, `item()`).
    double item() const;
    std::vector<double> to_vector() const;

private:
    std::shared_ptr<TensorImpl> impl_;
};

}  // namespace ckeras
