// Element types and the devices tensors live on. Host-only header.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ckeras {

enum class DType : uint8_t { Float32, Float64, Int32, Int64, Bool };

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);              // "float32", ...
DType dtype_from_name(const std::string& name);  // ValueError naming the supported list
inline bool is_floating(DType dt) { return dt == DType::Float32 || dt == DType::Float64; }
inline bool is_integral(DType dt) { return dt == DType::Int32 || dt == DType::Int64; }
// NumPy-style promotion restricted to our dtypes (bool < int32 < int64 < float32 < float64, except
// int64 with float32 gives float32, as Keras/JAX do, to keep float32 compute).
DType promote_types(DType a, DType b);

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
    DeviceType type = DeviceType::CPU;
    int index = 0;
    bool operator==(const Device& o) const { return type == o.type && index == o.index; }
    bool operator!=(const Device& o) const { return !(*this == o); }
    std::string str() const;  // "cpu" or "cuda:0"
};
inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }
inline std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

using Shape = std::vector<int64_t>;

// Checked int64 arithmetic: OverflowError-free shapes. Product of dims, ValueError on negative dims and
// on overflow (message names the shape).
int64_t checked_numel(const Shape& shape);
int64_t checked_mul(int64_t a, int64_t b, const Shape& shape_for_msg);
std::string shape_str(const Shape& s);  // "(2, 3)"
// Row-major strides (in elements) of a contiguous tensor of `shape`.
Shape contiguous_strides(const Shape& shape);
// Normalises a possibly negative axis; IndexError "axis 2 is out of bounds for tensor of rank 2".
int64_t normalize_axis(int64_t axis, int64_t rank);

}  // namespace ckeras
