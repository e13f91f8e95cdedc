// Tensor construction, storage allocation and element access helpers.
#include "ckeras/tensor.h"

#include <cstdlib>
#include <cstring>

#include "ckeras/autograd.h"
#include "ckeras/device.h"
#include "ckeras/kernels.h"
#include "ckeras/ops.h"

namespace ckeras {

std::shared_ptr<Storage> allocate_storage(int64_t nbytes, Device device) {
    CKERAS_ASSERT(nbytes >= 0);
    auto st = std::make_shared<Storage>();
    st->nbytes = nbytes;
    st->device = device;
    if (device.type == DeviceType::CPU) {
        st->owner = cpu_allocate(nbytes);
        st->data = st->owner.get();
    } else {
        void* p = device_malloc(device, nbytes);
        st->data = p;
        st->owner = std::shared_ptr<void>(p, [device](void* q) { device_free(device, q); });
    }
    return st;
}

Shape contiguous_strides(const Shape& shape) {
    Shape s(shape.size());
    int64_t acc = 1;
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
        s[i] = acc;
        acc *= shape[i] > 0 ? shape[i] : 1;
    }
    return s;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
    int64_t n = checked_numel(shape);
    int64_t nbytes = checked_mul(n, static_cast<int64_t>(dtype_size(dtype)), shape);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = allocate_storage(nbytes, device);
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    int64_t n = t.numel();
    if (n) require_kernel(kernel_table(device.type).fill, "fill", device)(dtype, t.data_ptr(), n, value);
    return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype,
                         std::shared_ptr<void> owner, Device device) {
    checked_numel(shape);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>();
    impl->storage->data = data;
    impl->storage->device = device;
    impl->storage->owner = std::move(owner);
    impl->storage->nbytes = -1;  // external: extent unknown
    impl->shape = shape;
    impl->strides = strides;
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return impl_->shape[normalize_axis(d, dim())]; }

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : impl_->shape) n *= d;
    return n;
}

bool Tensor::is_contiguous() const {
    int64_t expected = 1;
    for (int64_t i = dim() - 1; i >= 0; --i) {
        int64_t d = impl_->shape[i];
        if (d == 0) return true;
        if (d != 1 && impl_->strides[i] != expected) return false;
        expected *= d;
    }
    return true;
}

void Tensor::set_requires_grad(bool r) {
    CKERAS_CHECK(!r || is_floating(dtype()), "only floating-point tensors can require gradients, got ",
                 dtype_name(dtype()));
    impl_->requires_grad = r;
}

Tensor Tensor::detach() const {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = impl_->storage;
    impl->shape = impl_->shape;
    impl->strides = impl_->strides;
    impl->offset = impl_->offset;
    impl->dtype = impl_->dtype;
    return Tensor(std::move(impl));
}

std::vector<double> Tensor::to_vector() const {
    if (device().type != DeviceType::CPU) return to_device(*this, Device{}).to_vector();
    int64_t n = numel();
    std::vector<double> out(static_cast<size_t>(n));
    if (n == 0) return out;
    int nd = static_cast<int>(dim());
    Shape out_strides = contiguous_strides(shape());
    kernel_table(DeviceType::CPU)
        .copy_strided(DType::Float64, out.data(), out_strides.data(), dtype(), data_ptr(), strides().data(),
                      shape().data(), nd);
    return out;
}

double Tensor::item() const {
    CKERAS_CHECK(numel() == 1, "item() needs a tensor with one element, got shape ", shape());
    return to_vector()[0];
}

}  // namespace ckeras
