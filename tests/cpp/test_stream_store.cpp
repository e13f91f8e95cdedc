// Streaming stores (cpu/stream_store.h) and the kernels that use them for outputs larger than the
// last-level cache: the streamed results must be bit-identical to the same kernel run in pieces small
// enough to take plain stores, for unaligned outputs, odd sizes, broadcasting and in place.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/stream_store.h"
#include "test_util.h"

namespace ckeras {
namespace {

const KernelTable& cpu() { return kernel_table(DeviceType::CPU); }

std::vector<float> random_floats(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-4.f, 4.f);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = u(rng);
    return v;
}

TEST(StreamStore, CopyHandlesEveryAlignmentAndLength) {
    const std::vector<float> src = random_floats(300, 1);
    for (int64_t skew = 0; skew < 4; ++skew)
        for (int64_t n : {0, 1, 3, 4, 5, 17, 255}) {
            std::vector<float> dst(300, -1.f);
            cpu::stream_copy(dst.data() + skew, src.data() + 1, n);
            for (int64_t i = 0; i < 300; ++i) {
                const float want = i >= skew && i < skew + n ? src[size_t(i - skew + 1)] : -1.f;
                ASSERT_EQ(dst[size_t(i)], want) << "skew " << skew << " n " << n << " at " << i;
            }
        }
}

TEST(StreamStore, WriteStreamedCoversChunkBoundaries) {
    for (int64_t n : {1, 2047, 2048, 2049, 10000}) {
        std::vector<float> out(size_t(n + 1), -1.f);
        cpu::write_streamed(out.data() + 1, n, [](float* buf, int64_t s, int64_t len) {
            for (int64_t i = 0; i < len; ++i) buf[i] = float(s + i);
        });
        ASSERT_EQ(out[0], -1.f);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[size_t(i + 1)], float(i)) << "n " << n;
    }
}

// n elements: past the streaming threshold, odd, and started one float past an aligned address.
int64_t streamed_size() { return cpu::stream_min_bytes() / int64_t(sizeof(float)) + 4099; }

TEST(StreamStore, UnaryForwardAndBackwardMatchPlainStores) {
    const int64_t n = streamed_size();
    const std::vector<float> x = random_floats(n, 2), dy = random_floats(n, 3);
    for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Relu, UnaryOp::Sigmoid}) {
        std::vector<float> big(static_cast<size_t>(n + 1)), small(static_cast<size_t>(n));
        std::vector<float> dbig(static_cast<size_t>(n + 1)), dsmall(static_cast<size_t>(n));
        cpu().unary(op, DType::Float32, big.data() + 1, x.data(), n, 0.0, 0.0);
        cpu().unary_backward(op, DType::Float32, dbig.data() + 1, dy.data(), x.data(), big.data() + 1, n, 0.0, 0.0);
        const int64_t piece = 65537;  // far below the threshold: plain stores
        for (int64_t s = 0; s < n; s += piece) {
            const int64_t len = std::min(piece, n - s);
            cpu().unary(op, DType::Float32, small.data() + s, x.data() + s, len, 0.0, 0.0);
            cpu().unary_backward(op, DType::Float32, dsmall.data() + s, dy.data() + s, x.data() + s,
                                 small.data() + s, len, 0.0, 0.0);
        }
        for (int64_t i = 0; i < n; ++i) {
            ASSERT_EQ(big[size_t(i + 1)], small[size_t(i)]) << unary_op_name(op) << " at " << i;
            ASSERT_EQ(dbig[size_t(i + 1)], dsmall[size_t(i)]) << unary_op_name(op) << " backward at " << i;
        }
        std::vector<float> io = x;  // in place
        cpu().unary(op, DType::Float32, io.data(), io.data(), n, 0.0, 0.0);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(io[size_t(i)], small[size_t(i)]) << "in place at " << i;
    }
}

TEST(StreamStore, BinaryContiguousAndBroadcastMatchReference) {
    const int64_t cols = 1021, rows = streamed_size() / cols + 1;  // odd rows: runs start unaligned
    const std::vector<float> a = random_floats(rows * cols, 4), bias = random_floats(cols, 5);
    const std::vector<float> b = random_floats(rows * cols, 6);
    int64_t shape[2] = {rows, cols}, sa[2] = {cols, 1}, srow[2] = {0, 1};
    std::vector<float> out(size_t(rows * cols));
    cpu().binary(BinaryOp::Add, DType::Float32, out.data(), a.data(), sa, bias.data(), srow, shape, 2);
    for (int64_t i = 0; i < rows * cols; ++i)
        ASSERT_EQ(out[size_t(i)], a[size_t(i)] + bias[size_t(i % cols)]) << "bias add at " << i;
    cpu().binary(BinaryOp::Mul, DType::Float32, out.data(), a.data(), sa, b.data(), sa, shape, 2);
    for (int64_t i = 0; i < rows * cols; ++i) ASSERT_EQ(out[size_t(i)], a[size_t(i)] * b[size_t(i)]) << "mul at " << i;
}

}  // namespace
}  // namespace ckeras
