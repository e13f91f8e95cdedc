// Autograd of matmul (2-D, batched, broadcast batch dims, 1-D promotion, transposed and reversed views)
// and of the layout ops (reshape, permute, slice, select, expand/squeeze, broadcast_to, concatenate,
// stack, split, take, copy, cast) against central finite differences in float64.
#include <gtest/gtest.h>

#include "test_util.h"

namespace ckeras {
namespace {

using test::check_gradients;
using test::random_tensor;

TEST(Autograd, MatmulMatchesFiniteDifferences) {
    const std::pair<Shape, Shape> pairs[] = {{{3, 4}, {4, 5}}, {{1, 1}, {1, 1}}, {{2, 3, 4}, {2, 4, 2}},
                                             {{2, 1, 3, 4}, {5, 4, 2}}, {{3, 4}, {2, 4, 5}}, {{4}, {4, 3}},
                                             {{3, 4}, {4}}, {{5}, {5}}, {{4}, {2, 4, 3}}, {{2, 3, 4}, {4}},
                                             {{7, 1}, {1, 6}}};
    for (auto& [sa, sb] : pairs)
        check_gradients([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); },
                        {random_tensor(sa, 11), random_tensor(sb, 12)}, "matmul " + shape_str(sa) + " @ " + shape_str(sb));
}

TEST(Autograd, MatmulOfViewsMatchesFiniteDifferences) {
    Tensor a = random_tensor({4, 3}, 13), b = random_tensor({5, 4}, 14);
    check_gradients([](const std::vector<Tensor>& v) { return matmul(transpose(v[0]), transpose(v[1])); }, {a, b},
                    "matmul of transposed views");
    check_gradients([](const std::vector<Tensor>& v) {
        return matmul(slice(v[0], {{3, -1, -1}}), slice(v[1], {{0, 4, 1}, {4, -1, -1}}));  // a[::-1] @ b[:, ::-1]
    }, {random_tensor({4, 4}, 15), random_tensor({4, 5}, 27)}, "matmul of reversed views");
    check_gradients([](const std::vector<Tensor>& v) { return matmul(broadcast_to(v[0], {2, 3, 4}), v[1]); },
                    {random_tensor({4}, 16), random_tensor({4, 2}, 17)}, "matmul of a broadcast view");
}

TEST(Matmul, ErrorsNameTheCallersShapes) {
    test::expect_error([] { matmul(zeros({2, 3}), zeros({4, 5})); }, ErrorKind::Value, {"(2, 3)", "(4, 5)"});
    test::expect_error([] { matmul(zeros({3}), zeros({4})); }, ErrorKind::Value, {"(3,)", "(4,)"});
    test::expect_error([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 5})); }, ErrorKind::Value, {"(2, 3, 4)", "(3, 4, 5)"});
    test::expect_error([] { matmul(zeros({}), zeros({3})); }, ErrorKind::Value, {"1-D"});
}

TEST(Matmul, BroadcastAndReversedOperandsMatchContiguousCopies) {
    Tensor v = random_tensor({4}, 18), b = random_tensor({4, 3}, 19), m = random_tensor({5, 4}, 20);
    const Tensor views[] = {broadcast_to(v, {5, 4}), slice(m, {{4, -1, -1}}), transpose(transpose(m)),
                            slice(broadcast_to(reshape(v, {4, 1}), {4, 5}), {{0, 4, 1}, {4, -1, -1}}),
                            transpose(slice(m, {{4, -1, -1}, {3, -1, -1}}))};
    for (const Tensor& x : views) {
        Tensor lhs = x.shape()[1] == 4 ? x : transpose(x);
        test::expect_close(matmul(lhs, b).to_vector(), matmul(copy(lhs), b).to_vector(), 0, 0, "lhs " + shape_str(x.strides()));
        Tensor rhs = transpose(lhs);  // (4, 5)
        test::expect_close(matmul(m, rhs).to_vector(), matmul(m, copy(rhs)).to_vector(), 0, 0, "rhs " + shape_str(x.strides()));
    }
}

TEST(Autograd, LayoutOpsMatchFiniteDifferences) {
    Tensor x = random_tensor({2, 3, 4}, 21);
    const std::pair<const char*, test::OpFn> cases[] = {
        {"reshape", [](auto& v) { return reshape(v[0], {4, -1}); }},
        {"reshape of a permuted view", [](auto& v) { return reshape(permute(v[0], {2, 0, 1}), {-1}); }},
        {"permute", [](auto& v) { return permute(v[0], {1, 2, 0}); }},
        {"transpose", [](auto& v) { return transpose(v[0]); }},
        {"swapaxes", [](auto& v) { return swapaxes(v[0], 0, -1); }},
        {"expand_dims", [](auto& v) { return expand_dims(v[0], -2); }},
        {"squeeze", [](auto& v) { return squeeze(expand_dims(v[0], 1), Axes{1}); }},
        {"broadcast_to", [](auto& v) { return broadcast_to(select(v[0], 1, 2), {5, 2, 4}); }},
        {"slice", [](auto& v) { return slice(v[0], {{1, -1, -1}, {0, 3, 2}, {3, 0, -2}}); }},
        {"select", [](auto& v) { return select(v[0], -1, -1); }},
        {"copy", [](auto& v) { return copy(transpose(v[0])); }},
        {"contiguous", [](auto& v) { return contiguous(slice(v[0], {{0, 2, 1}, {2, -1, -1}})); }},
        {"sum_to", [](auto& v) { return sum_to(v[0], {3, 1}); }},
        {"concatenate", [](auto& v) { return concatenate({v[0], slice(v[0], {{0, 1, 1}}), v[0]}, 0); }},
        {"concatenate axis -1", [](auto& v) { return concatenate({v[0], v[0]}, -1); }},
        {"stack", [](auto& v) { return stack({v[0], mul(v[0], v[0])}, 1); }},
        {"split", [](auto& v) {
             std::vector<Tensor> p = split(v[0], {1, 0, 3}, 2);
             return concatenate({mul(p[0], p[0]), p[1], unary(UnaryOp::Exp, p[2])}, 2);
         }},
    };
    for (auto& [name, fn] : cases) check_gradients(fn, {x}, name);
}

TEST(Autograd, ConcatenateAndStackOfSeveralInputs) {
    Tensor a = random_tensor({2, 3}, 22), b = random_tensor({1, 3}, 23), c = random_tensor({2, 3}, 24);
    check_gradients([](auto& v) { return concatenate({v[0], v[1]}, 0); }, {a, b}, "concatenate");
    check_gradients([](auto& v) { return stack({v[0], v[1]}, -1); }, {a, c}, "stack");
    // An integer input in a concatenation gets no gradient; the float one still does.
    GradModeGuard on(true);
    Tensor leaf = copy(a);
    leaf.set_requires_grad(true);
    Tensor ints = Tensor::full({1, 3}, 2, DType::Int32);
    std::vector<Tensor> g = grad({sum(concatenate({ints, leaf}, 0))}, {leaf});
    test::expect_close(g[0].to_vector(), std::vector<double>(6, 1), 0, 0);
}

TEST(Autograd, TakeMatchesFiniteDifferences) {
    Tensor x = random_tensor({3, 4}, 25);
    Tensor idx = test::make({0, 2, 2, -1}, {4}, DType::Int64);
    Tensor idx2 = test::make({1, 0, 3, 3}, {2, 2}, DType::Int32);
    check_gradients([=](auto& v) { return take(v[0], idx, 0); }, {x}, "take axis 0 (repeats)");
    check_gradients([=](auto& v) { return take(v[0], idx2, 1); }, {x}, "take 2-D indices");
    check_gradients([=](auto& v) { return take(v[0], idx2, std::nullopt); }, {x}, "take flat");
    check_gradients([=](auto& v) { return take(transpose(v[0]), idx, -1); }, {x}, "take of a view");
}

TEST(Autograd, CastGradientsKeepTheSourceDtype) {
    GradModeGuard on(true);
    Tensor x = random_tensor({3}, 26);
    x.set_requires_grad(true);
    Tensor y = cast(x, DType::Float32);
    EXPECT_EQ(y.dtype(), DType::Float32);
    std::vector<Tensor> g = grad({sum(mul(y, test::make({1, 2, 3}, {3}, DType::Float32)))}, {x});
    EXPECT_EQ(g[0].dtype(), DType::Float64);
    test::expect_close(g[0].to_vector(), {1, 2, 3}, 0, 0);
    // Casting to an integer type is not differentiable.
    EXPECT_EQ(cast(x, DType::Int32).grad_fn(), nullptr);
}

TEST(Autograd, ViewsOfALeafShareOneGradient) {
    GradModeGuard on(true);
    Tensor x = test::make({1, 2, 3, 4}, {2, 2});
    x.set_requires_grad(true);
    Tensor y = add(mul(select(x, 0, 0), select(x, 1, 1)), sum(transpose(x)));
    std::vector<Tensor> g = grad({sum(y)}, {x});
    // y = [x00 * x01, x01 * x11] + sum(x): x00 gets x01 + 2 (the sum reaches both outputs), x01 gets
    // x00 + x11 + 2, x10 gets 2, x11 gets x01 + 2.
    test::expect_close(g[0].to_vector(), {2 + 2, 1 + 4 + 2, 2, 2 + 2}, 0, 0);
}

}  // namespace
}  // namespace ckeras
