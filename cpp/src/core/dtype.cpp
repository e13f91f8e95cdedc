// dtype names, sizes and promotion; devices; checked shape arithmetic.
#include "ckeras/dtype.h"

#include "ckeras/error.h"

namespace ckeras {

size_t dtype_size(DType dt) {
    switch (dt) {
        case DType::Float32: return 4;
        case DType::Float64: return 8;
        case DType::Int32: return 4;
        case DType::Int64: return 8;
        case DType::Bool: return 1;
    }
    return 0;
}

const char* dtype_name(DType dt) {
    switch (dt) {
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::Int32: return "int32";
        case DType::Int64: return "int64";
        case DType::Bool: return "bool";
    }
    return "?";
}

DType dtype_from_name(const std::string& name) {
    for (DType dt : {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool})
        if (name == dtype_name(dt)) return dt;
    throw_error(ErrorKind::Value, "unsupported dtype '", name,
                "'; supported dtypes are float32, float64, int32, int64, bool");
}

static int rank_of(DType d) {
    switch (d) {
        case DType::Bool: return 0;
        case DType::Int32: return 1;
        case DType::Int64: return 2;
        case DType::Float32: return 3;
        case DType::Float64: return 4;
    }
    return 0;
}

DType promote_types(DType a, DType b) { return rank_of(a) >= rank_of(b) ? a : b; }

std::string Device::str() const {
    return type == DeviceType::CPU ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::string shape_str(const Shape& s) {
    std::ostringstream os;
    detail::append_one(os, s);
    return os.str();
}

int64_t checked_mul(int64_t a, int64_t b, const Shape& shape_for_msg) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        throw_error(ErrorKind::Value, "shape ", shape_for_msg, " is too large: its size would overflow int64");
    return r;
}

int64_t checked_numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape)
        CKERAS_CHECK(d >= 0, "negative dimension ", d, " in shape ", shape);
    for (int64_t d : shape) n = checked_mul(n, d, shape);
    return n;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        throw_error(ErrorKind::Index, "axis ", axis, " is out of bounds for tensor of rank ", rank);
    return axis < 0 ? axis + rank : axis;
}

}  // namespace ckeras
