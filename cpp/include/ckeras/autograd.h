// Reverse-mode autograd. Each recorded op attaches a Node to its output; a Node maps the gradient of
// its output to gradients of its inputs (the backward rule lives next to the forward in ops/<family>.cpp).
#pragma once
#include <memory>
#include <vector>

#include "ckeras/tensor.h"

namespace ckeras {

// Where an input's gradient goes: into another node, or (for a leaf that requires grad) its .grad.
struct Edge {
    std::shared_ptr<Node> fn;
    std::shared_ptr<TensorImpl> leaf;
    bool valid() const { return fn || leaf; }
};

struct Node {
    std::vector<Edge> next;  // one per input of the forward op, in order
    uint64_t seq = 0;        // creation order; a GradientTape differentiates only through its own window
    virtual ~Node() = default;
    // dout has the forward output's shape; returns one gradient per input (undefined = no gradient).
    virtual std::vector<Tensor> backward(const Tensor& dout) = 0;
    virtual const char* name() const = 0;
    // Drops saved tensors after a non-retained backward.
    virtual void release() {}
};

// Thread-local switch: ops record nodes only while enabled and some input requires grad.
bool grad_enabled();
void set_grad_enabled(bool on);
// The state threads start in (true unless changed; ckeras's Python package turns it off).
void set_default_grad_enabled(bool on);
struct GradModeGuard {
    explicit GradModeGuard(bool on) : prev_(grad_enabled()) { set_grad_enabled(on); }
    ~GradModeGuard() { set_grad_enabled(prev_); }
    bool prev_;
};

// True when recording is on and any input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
// Wires `node` to the inputs and sets it as out's grad_fn; out.requires_grad becomes true.
void record(Tensor& out, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs);
void record(Tensor& out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs);

// Gradients of sum(outputs[i] * grad_outputs[i]) with respect to `inputs` (undefined where not
// connected). Does not touch .grad. Undefined grad_outputs mean ones (outputs must then be scalars).
// Only nodes with min_seq <= seq < max_seq are differentiated through (a tape's recording window);
// gradients stop at older or newer nodes, except that they are still reported for `inputs`.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         uint64_t min_seq = 0, uint64_t max_seq = UINT64_MAX);
// The seq the next recorded node will get.
uint64_t next_node_seq();

}  // namespace ckeras
