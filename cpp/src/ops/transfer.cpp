// Moving tensors between devices. The copy is contiguous; its gradient moves back.
#include "ops/op_util.h"

namespace ckeras {

Tensor to_device(const Tensor& x, Device device) {
    check_defined("to_device", x);
    if (x.device() == device) return x;
    check_device(device);
    Tensor src = contiguous(x.detach());
    Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
    int64_t nbytes = src.numel() * static_cast<int64_t>(src.itemsize());
    device_copy(out.data_ptr(), device, src.data_ptr(), src.device(), nbytes);
    Device from = x.device();
    record_fn(out, "ToDeviceBackward", {&x}, [from](const Tensor& g) {
        return std::vector<Tensor>{to_device(g, from)};
    });
    return out;
}

}  // namespace ckeras
