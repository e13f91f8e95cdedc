// Tensor core: checked shape arithmetic (overflow, negative dims), strides and contiguity, views that
// share storage, contiguous(), dtype names and promotion, axis normalisation.
#include <gtest/gtest.h>

#include <limits>

#include "test_util.h"

namespace ckeras {
namespace {

using test::expect_error;
using test::make;

TEST(Tensor, CheckedNumel) {
    EXPECT_EQ(checked_numel({}), 1);
    EXPECT_EQ(checked_numel({2, 3, 4}), 24);
    EXPECT_EQ(checked_numel({5, 0, 7}), 0);
    EXPECT_EQ(checked_numel({int64_t(1) << 62, 1}), int64_t(1) << 62);
    expect_error([] { checked_numel({2, 13, 419, 691, 823, 2977518503}); }, ErrorKind::Value,
                 {"overflow", "(2, 13, 419, 691, 823, 2977518503)"});
    expect_error([] { checked_numel({int64_t(1) << 32, int64_t(1) << 31}); }, ErrorKind::Value, {"overflow"});
    // Checked left to right: a later 0 does not hide an overflowing prefix (its strides would overflow).
    expect_error([] { checked_numel({int64_t(1) << 40, int64_t(1) << 40, 0}); }, ErrorKind::Value, {"overflow"});
    EXPECT_EQ(checked_mul(std::numeric_limits<int64_t>::max(), 1, {}), std::numeric_limits<int64_t>::max());
}

TEST(Tensor, NegativeDimensions) {
    expect_error([] { checked_numel({3, -2}); }, ErrorKind::Value, {"negative dimension", "(3, -2)"});
    expect_error([] { Tensor::empty({-1}); }, ErrorKind::Value, {"negative dimension", "(-1,)"});
    expect_error([] { zeros({-2}); }, ErrorKind::Value, {"negative dimension"});
    expect_error([] { reshape(zeros({6}), {-2, -3}); }, ErrorKind::Value, {"negative dimension", "(-2, -3)"});
    expect_error([] { broadcast_to(zeros({2}), {-1, 2}); }, ErrorKind::Value, {"negative dimension"});
}

TEST(Tensor, OverflowIsCaughtBeforeAllocation) {
    // numel fits in int64, the byte count does not.
    expect_error([] { Tensor::empty({int64_t(1) << 62}, DType::Float32); }, ErrorKind::Value, {"overflow"});
    expect_error([] { reshape(zeros({2}), {2, 13, 419, 691, 823, 2977518503}); }, ErrorKind::Value,
                 {"overflow", "(2, 13, 419, 691, 823, 2977518503)"});
    expect_error([] { reshape(zeros({0}), {int64_t(1) << 40, int64_t(1) << 40, 0, -1}); }, ErrorKind::Value,
                 {"overflow"});
    // A huge but valid request fails as MemoryError naming the bytes.
    expect_error([] { Tensor::empty({int64_t(1) << 48}, DType::Float32); }, ErrorKind::Memory,
                 {std::to_string(int64_t(1) << 50), "bytes"});
}

TEST(Tensor, ShapeStrings) {
    EXPECT_EQ(shape_str({}), "()");
    EXPECT_EQ(shape_str({3}), "(3,)");
    EXPECT_EQ(shape_str({2, 0, 5}), "(2, 0, 5)");
}

TEST(Tensor, ContiguousStrides) {
    EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
    EXPECT_EQ(contiguous_strides({}), Shape{});
    EXPECT_EQ(contiguous_strides({7}), Shape{1});
    Tensor t = Tensor::empty({2, 3, 4});
    EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(t.numel(), 24);
    EXPECT_EQ(t.size(-1), 4);
    EXPECT_TRUE(Tensor::empty({3, 0, 2}).is_contiguous());
}

TEST(Tensor, NormalizeAxis) {
    EXPECT_EQ(normalize_axis(-1, 2), 1);
    EXPECT_EQ(normalize_axis(-2, 2), 0);
    EXPECT_EQ(normalize_axis(1, 2), 1);
    expect_error([] { normalize_axis(2, 2); }, ErrorKind::Index, {"axis 2 is out of bounds for tensor of rank 2"});
    expect_error([] { normalize_axis(-3, 2); }, ErrorKind::Index, {"axis -3 is out of bounds for tensor of rank 2"});
    expect_error([] { sum(zeros({2, 3}), Axes{2}); }, ErrorKind::Index, {"axis 2 is out of bounds for tensor of rank 2"});
    expect_error([] { sum(zeros({2, 3}), Axes{1, -1}); }, ErrorKind::Value, {"duplicate"});
}

TEST(Tensor, ViewsShareStorage) {
    Tensor x = make({0, 1, 2, 3, 4, 5}, {2, 3});
    Tensor r = reshape(x, {3, 2});
    Tensor p = transpose(x);
    Tensor s = slice(x, {{1, 2, 1}, {2, -1, -1}});  // x[1:2, 2::-1]
    Tensor e = expand_dims(x, 1);
    Tensor b = broadcast_to(select(x, 0, 1), {4, 3});
    for (const Tensor& v : {r, p, s, e, b}) EXPECT_EQ(v.impl()->storage, x.impl()->storage);
    EXPECT_EQ(r.data_ptr(), x.data_ptr());
    EXPECT_EQ(p.strides(), (Shape{1, 3}));
    EXPECT_FALSE(p.is_contiguous());
    EXPECT_EQ(s.shape(), (Shape{1, 3}));
    EXPECT_EQ(s.strides(), (Shape{3, -1}));
    EXPECT_EQ(s.to_vector(), (std::vector<double>{5, 4, 3}));
    EXPECT_EQ(b.strides(), (Shape{0, 1}));
    EXPECT_EQ(b.to_vector(), (std::vector<double>{3, 4, 5, 3, 4, 5, 3, 4, 5, 3, 4, 5}));
    // Writing through the base is visible in every view.
    assign(x, make({10, 11, 12, 13, 14, 15}, {2, 3}));
    EXPECT_EQ(p.to_vector(), (std::vector<double>{10, 13, 11, 14, 12, 15}));
    EXPECT_EQ(s.to_vector(), (std::vector<double>{15, 14, 13}));
    // And writing through a view changes the base.
    assign(select(x, 1, 0), make({-1, -2}, {2}));
    EXPECT_EQ(x.to_vector(), (std::vector<double>{-1, 11, 12, -2, 14, 15}));
}

TEST(Tensor, ContiguousCopiesOnlyWhenNeeded) {
    Tensor x = make({0, 1, 2, 3, 4, 5}, {2, 3});
    EXPECT_EQ(contiguous(x).impl(), x.impl());
    Tensor t = contiguous(transpose(x));
    EXPECT_NE(t.impl()->storage, x.impl()->storage);
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(t.strides(), (Shape{2, 1}));
    EXPECT_EQ(t.to_vector(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
    Tensor rev = contiguous(slice(x, {{1, -1, -1}, {2, -1, -1}}));
    EXPECT_EQ(rev.to_vector(), (std::vector<double>{5, 4, 3, 2, 1, 0}));
    // Reshaping a non-contiguous view copies; reshaping a contiguous one does not.
    Tensor rt = reshape(transpose(x), {6});
    EXPECT_NE(rt.impl()->storage, x.impl()->storage);
    EXPECT_EQ(rt.to_vector(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
    // Size-1 dims with any stride are still contiguous.
    EXPECT_TRUE(expand_dims(x, 0).is_contiguous());
}

TEST(Tensor, FromBlobWrapsMemoryWithoutCopying) {
    std::vector<float> buf = {1, 2, 3, 4, 5, 6};
    Tensor t = Tensor::from_blob(buf.data(), {3, 2}, {1, 3}, DType::Float32, nullptr);  // Fortran order
    EXPECT_EQ(t.data_ptr(), buf.data());
    EXPECT_FALSE(t.is_contiguous());
    EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
    buf[0] = 9;
    EXPECT_EQ(t.to_vector()[0], 9);
}

TEST(Tensor, ItemAndFill) {
    EXPECT_EQ(Tensor::scalar(2.5).item(), 2.5);
    EXPECT_EQ(Tensor::full({2, 2}, 3, DType::Int32).to_vector(), (std::vector<double>{3, 3, 3, 3}));
    EXPECT_EQ(Tensor::zeros({3}, DType::Bool).to_vector(), (std::vector<double>{0, 0, 0}));
    EXPECT_EQ(Tensor::empty({0, 4}).to_vector().size(), 0u);
    expect_error([] { Tensor::zeros({2}).item(); }, ErrorKind::Value, {"one element", "(2,)"});
}

TEST(Tensor, DTypes) {
    EXPECT_EQ(dtype_size(DType::Float32), 4u);
    EXPECT_EQ(dtype_size(DType::Int64), 8u);
    EXPECT_EQ(dtype_size(DType::Bool), 1u);
    EXPECT_EQ(dtype_from_name("int32"), DType::Int32);
    expect_error([] { dtype_from_name("complex64"); }, ErrorKind::Value,
                 {"unsupported dtype", "complex64", "float32, float64, int32, int64, bool"});
    EXPECT_EQ(promote_types(DType::Int32, DType::Float32), DType::Float32);
    EXPECT_EQ(promote_types(DType::Float32, DType::Float64), DType::Float64);
    EXPECT_EQ(promote_types(DType::Bool, DType::Int32), DType::Int32);
    EXPECT_EQ(promote_types(DType::Int32, DType::Int64), DType::Int64);
    EXPECT_EQ(promote_types(DType::Int64, DType::Float32), DType::Float32);
    EXPECT_EQ(cast(make({1.7, -1.7, 0}, {3}), DType::Int32).to_vector(), (std::vector<double>{1, -1, 0}));
    EXPECT_EQ(cast(make({2, 0}, {2}), DType::Bool).to_vector(), (std::vector<double>{1, 0}));
}

TEST(Tensor, RequiresGradOnlyForFloats) {
    Tensor i = Tensor::zeros({2}, DType::Int32);
    expect_error([&] { i.set_requires_grad(true); }, ErrorKind::Value, {"floating"});
    Tensor f = Tensor::zeros({2});
    f.set_requires_grad(true);
    EXPECT_TRUE(f.requires_grad());
    EXPECT_FALSE(f.detach().requires_grad());
    EXPECT_EQ(f.detach().impl()->storage, f.impl()->storage);
}

}  // namespace
}  // namespace ckeras
