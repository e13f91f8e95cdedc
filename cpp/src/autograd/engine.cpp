// Reverse-mode engine: topological order over Nodes reachable from the roots, then one backward call
// per node with the summed gradient of its output. Runs with recording off (no higher-order graphs).
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "ckeras/autograd.h"
#include "ckeras/ops.h"

namespace ckeras {

namespace {
// Each thread starts from the process-wide default (Python turns it off: only a GradientTape records).
std::atomic<bool> g_default_grad_enabled{true};
thread_local int8_t g_grad_enabled = -1;  // -1: not set on this thread yet

void accumulate(Tensor& slot, const Tensor& g) { slot = slot.defined() ? add(slot, g) : g; }

struct Result {
    std::unordered_map<Node*, Tensor> node_grads;        // gradient of each node's output
    std::unordered_map<TensorImpl*, Tensor> leaf_grads;  // gradient reaching each leaf
};

std::atomic<uint64_t> g_node_seq{1};

struct Window {
    uint64_t lo = 0, hi = UINT64_MAX;
    bool contains(const Node* n) const { return n->seq >= lo && n->seq < hi; }
};

// Collects nodes reachable from the roots through the window, in reverse topological order (outputs
// before inputs).
std::vector<Node*> topo_order(const std::vector<Node*>& roots, Window w) {
    std::vector<Node*> post;
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack;
    for (Node* r : roots) {
        if (!r || !seen.insert(r).second) continue;
        stack.push_back({r, 0});
        while (!stack.empty()) {
            auto& [n, i] = stack.back();
            if (i < n->next.size()) {
                Node* c = n->next[i++].fn.get();
                if (c && w.contains(c) && seen.insert(c).second) stack.push_back({c, 0});
            } else {
                post.push_back(n);
                stack.pop_back();
            }
        }
    }
    return {post.rbegin(), post.rend()};
}

Result run(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, bool retain_graph, Window w = {}) {
    GradModeGuard no_grad(false);
    Result res;
    std::vector<Node*> root_nodes;
    for (size_t i = 0; i < roots.size(); ++i) {
        const Tensor& r = roots[i];
        CKERAS_CHECK(seeds[i].shape() == r.shape(), "gradient seed has shape ", seeds[i].shape(),
                     " but the output has shape ", r.shape());
        if (r.grad_fn()) {
            accumulate(res.node_grads[r.grad_fn().get()], seeds[i]);
            if (w.contains(r.grad_fn().get())) root_nodes.push_back(r.grad_fn().get());
        } else if (r.requires_grad()) {
            accumulate(res.leaf_grads[r.impl()], seeds[i]);
        }
    }
    for (Node* n : topo_order(root_nodes, w)) {
        auto it = res.node_grads.find(n);
        if (it == res.node_grads.end()) continue;
        Tensor g = it->second;
        std::vector<Tensor> gin = n->backward(g);
        CKERAS_ASSERT(gin.size() == n->next.size());
        for (size_t k = 0; k < gin.size(); ++k) {
            const Edge& e = n->next[k];
            if (!gin[k].defined() || !e.valid()) continue;
            if (e.fn) accumulate(res.node_grads[e.fn.get()], gin[k]);
            else accumulate(res.leaf_grads[e.leaf.get()], gin[k]);
        }
        if (!retain_graph) n->release();
    }
    return res;
}

std::vector<Tensor> default_seeds(const std::vector<Tensor>& outputs, const std::vector<Tensor>& given) {
    CKERAS_CHECK(given.empty() || given.size() == outputs.size(), "got ", given.size(),
                 " output gradients for ", outputs.size(), " outputs");
    std::vector<Tensor> seeds;
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (!given.empty() && given[i].defined()) { seeds.push_back(given[i]); continue; }
        seeds.push_back(ones_like(outputs[i]));
    }
    return seeds;
}
}  // namespace

bool grad_enabled() { return g_grad_enabled < 0 ? g_default_grad_enabled.load() : g_grad_enabled != 0; }
void set_grad_enabled(bool on) { g_grad_enabled = on ? 1 : 0; }
void set_default_grad_enabled(bool on) { g_default_grad_enabled = on; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
    if (!grad_enabled()) return false;
    for (const Tensor* t : inputs)
        if (t && t->defined() && t->requires_grad()) return true;
    return false;
}

static void wire(Tensor& out, std::shared_ptr<Node> node, const Tensor* const* inputs, size_t n) {
    node->next.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const Tensor* t = inputs[i];
        if (!t || !t->defined() || !t->requires_grad()) continue;
        if (t->grad_fn()) node->next[i].fn = t->grad_fn();
        else node->next[i].leaf = t->impl_ptr();
    }
    node->seq = g_node_seq.fetch_add(1, std::memory_order_relaxed);
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
}

void record(Tensor& out, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs) {
    wire(out, std::move(node), inputs.begin(), inputs.size());
}

void record(Tensor& out, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs) {
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : inputs) ptrs.push_back(&t);
    wire(out, std::move(node), ptrs.data(), ptrs.size());
}

uint64_t next_node_seq() { return g_node_seq.load(); }

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, uint64_t min_seq,
                         uint64_t max_seq) {
    Result res = run(outputs, default_seeds(outputs, grad_outputs), retain_graph, Window{min_seq, max_seq});
    std::vector<Tensor> out;
    for (const Tensor& x : inputs) {
        Tensor g;
        if (x.grad_fn()) {
            auto it = res.node_grads.find(x.grad_fn().get());
            if (it != res.node_grads.end()) g = it->second;
        } else {
            auto it = res.leaf_grads.find(x.impl());
            if (it != res.leaf_grads.end()) g = it->second;
        }
        out.push_back(g);
    }
    return out;
}

void Tensor::backward(const Tensor& g, bool retain_graph) const {
    CKERAS_CHECK(requires_grad(), "backward() on a tensor that does not require grad");
    if (!g.defined())
        CKERAS_CHECK(numel() == 1, "backward() without a gradient needs a single-element tensor, got shape ", shape());
    Result res = run({*this}, default_seeds({*this}, {g}), retain_graph);
    GradModeGuard no_grad(false);
    for (auto& [impl, lg] : res.leaf_grads) {
        Tensor cur(impl->grad);
        impl->grad = (cur.defined() ? add(cur, lg) : lg).impl_ptr();
    }
}

}  // namespace ckeras
