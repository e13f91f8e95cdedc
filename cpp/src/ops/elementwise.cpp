// Elementwise ops with NumPy broadcasting and dtype promotion, and their backward rules.
#include "ops/op_util.h"

namespace ckeras {

// Integer inputs to ops that only make sense on reals are computed in float32 (Keras's floatx).
static bool unary_needs_float(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Square: case UnaryOp::Sign:
        case UnaryOp::Relu: case UnaryOp::Clip: return false;
        default: return true;
    }
}

Tensor unary(UnaryOp op, const Tensor& x_in, double alpha, double beta) {
    check_defined(unary_op_name(op), x_in);
    Tensor x = x_in;
    if (x.dtype() == DType::Bool || (is_integral(x.dtype()) && unary_needs_float(op)))
        x = cast(x, op == UnaryOp::Sign || op == UnaryOp::Abs ? DType::Int32 : DType::Float32);
    x = contiguous(x);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    int64_t n = x.numel();
    if (n) CKERAS_KERNEL(x, unary, unary_op_name(op))(op, x.dtype(), out.data_ptr(), x.data_ptr(), n, alpha, beta);
    if (is_floating(x.dtype()) && needs_grad({&x})) {  // the captures below detach: skip them when not recording
        Tensor saved_out = out.detach();
        record_fn(out, unary_op_name(op), {&x}, [op, x = x.detach(), saved_out, alpha, beta](const Tensor& g_in) {
            Tensor g = contiguous(g_in);
            Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
            int64_t n = x.numel();
            if (n)
                CKERAS_KERNEL(x, unary_backward, unary_op_name(op))(op, x.dtype(), dx.data_ptr(), g.data_ptr(),
                                                                     x.data_ptr(), saved_out.data_ptr(), n, alpha, beta);
            return std::vector<Tensor>{dx};
        });
    }
    return out;
}

Tensor scalar_like(double v, const Tensor& like) { return Tensor::scalar(v, like.dtype(), like.device()); }

// The dtype both operands are computed in.
static DType binary_compute_dtype(BinaryOp op, DType a, DType b) {
    DType dt = promote_types(a, b);
    if ((op == BinaryOp::Div || op == BinaryOp::Pow) && !is_floating(dt)) return DType::Float32;
    if (dt == DType::Bool && (op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::Mul)) return DType::Int32;
    return dt;
}

static Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b, DType dt) {
    Shape shape = broadcast_shapes(a.shape(), b.shape());
    Tensor ac = cast(a, dt), bc = cast(b, dt);
    Tensor out = Tensor::empty(shape, binary_op_is_predicate(op) ? DType::Bool : dt, a.device());
    if (out.numel() == 0) return out;
    Tensor ab = broadcast_to(detach_if_recording(ac), shape), bb = broadcast_to(detach_if_recording(bc), shape);
    CKERAS_KERNEL(a, binary, binary_op_name(op))(op, dt, out.data_ptr(), ab.data_ptr(), ab.strides().data(),
                                                 bb.data_ptr(), bb.strides().data(), shape.data(),
                                                 static_cast<int>(shape.size()));
    return out;
}

Tensor binary(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
    check_defined(binary_op_name(op), a_in);
    check_defined(binary_op_name(op), b_in);
    Tensor a = a_in, b = b_in;
    follow_device(binary_op_name(op), a, b);
    DType dt = binary_compute_dtype(op, a.dtype(), b.dtype());
    Tensor out = binary_raw(op, a, b, dt);
    if (binary_op_is_predicate(op) || !is_floating(dt) || !needs_grad({&a, &b})) return out;
    // Inputs are cast to dt inside the backward's result via sum_to + cast.
    Shape as = a.shape(), bs = b.shape();
    DType adt = a.dtype(), bdt = b.dtype();
    auto fit = [](const Tensor& g, const Shape& s, DType d) {
        return is_floating(d) ? cast(sum_to(g, s), d) : Tensor();
    };
    Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
    const bool want_a = needs_grad({&a}), want_b = needs_grad({&b});
    record_fn(out, binary_op_name(op), {&a, &b}, [=](const Tensor& g) {
        Tensor ga, gb;
        switch (op) {
            case BinaryOp::Add: ga = g; gb = g; break;
            case BinaryOp::Sub: ga = g; gb = neg(g); break;
            case BinaryOp::Mul:
                if (want_a) ga = mul(g, bd);
                if (want_b) gb = mul(g, ad);
                break;
            case BinaryOp::Div:
                if (want_a) ga = div(g, bd);
                if (want_b) gb = neg(div(mul(g, od), bd));
                break;
            case BinaryOp::Pow:
                // d/da a^b = b a^(b-1); d/db a^b = a^b log(a) (0 where a == 0, as PyTorch/TF do).
                if (want_a) ga = mul(g, mul(bd, binary(BinaryOp::Pow, ad, sub(bd, scalar_like(1, bd)))));
                if (want_b)
                    gb = mul(g, where(binary(BinaryOp::Eq, ad, scalar_like(0, ad)), scalar_like(0, od),
                                      mul(od, unary(UnaryOp::Log, ad))));
                break;
            case BinaryOp::Maximum: case BinaryOp::Minimum: {
                // Ties send the gradient to `a`, as tf.maximum does.
                Tensor m = binary(op == BinaryOp::Maximum ? BinaryOp::Ge : BinaryOp::Le, ad, bd);
                Tensor z = scalar_like(0, g);
                ga = where(m, g, z);
                gb = where(m, z, g);
                break;
            }
            default: break;
        }
        return std::vector<Tensor>{want_a ? fit(ga, as, adt) : Tensor(), want_b ? fit(gb, bs, bdt) : Tensor()};
    });
    return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }

Tensor where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
    Tensor cond = cond_in, a = a_in, b = b_in;
    follow_device("where", a, b);
    follow_device("where", cond, a);
    Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape()), b.shape());
    DType dt = promote_types(a.dtype(), b.dtype());
    Tensor c = broadcast_to(cast(cond, DType::Bool).detach(), shape);
    Tensor ab = broadcast_to(cast(a, dt).detach(), shape), bb = broadcast_to(cast(b, dt).detach(), shape);
    Tensor out = Tensor::empty(shape, dt, a.device());
    if (out.numel())
        CKERAS_KERNEL(a, where, "where")(dt, out.data_ptr(), c.data_ptr(), c.strides().data(), ab.data_ptr(),
                                         ab.strides().data(), bb.data_ptr(), bb.strides().data(), shape.data(),
                                         static_cast<int>(shape.size()));
    if (is_floating(dt)) {
        Shape as = a.shape(), bs = b.shape();
        DType adt = a.dtype(), bdt = b.dtype();
        record_fn(out, "where", {&a, &b}, [c, as, bs, adt, bdt](const Tensor& g) {
            Tensor z = scalar_like(0, g);
            Tensor ga = is_floating(adt) ? cast(sum_to(where(c, g, z), as), adt) : Tensor();
            Tensor gb = is_floating(bdt) ? cast(sum_to(where(c, z, g), bs), bdt) : Tensor();
            return std::vector<Tensor>{ga, gb};
        });
    }
    return out;
}

}  // namespace ckeras
