// Autograd and system bindings: grad(), the recording switch, build and device facts.
#include "bind_common.h"
#include "ckeras/autograd.h"
#include "ckeras/device.h"
#include "ckeras/interrupt.h"

namespace ckeras::bind {

// The recorded graph behind t, for recognising what a layer's call computed (trainers/traced_stage.py):
// None for a tensor without a grad_fn, else (node name, [input, ...]) with each input a nested node, ("leaf",
// storage id of a leaf that requires grad), or None (an input that needs no gradient). Deeper than max_depth:
// ("too deep", []).
static py::object node_graph(const std::shared_ptr<Node>& node, int depth) {
    if (depth <= 0) return py::make_tuple("too deep", py::list());
    py::list inputs;
    for (const Edge& e : node->next) {
        if (e.fn) inputs.append(node_graph(e.fn, depth - 1));
        else if (e.leaf) inputs.append(py::make_tuple("leaf", reinterpret_cast<uintptr_t>(e.leaf->storage.get())));
        else inputs.append(py::none());
    }
    return py::make_tuple(node->name(), inputs);
}

static py::object autograd_graph(const Tensor& t, int max_depth) {
    return t.grad_fn() ? node_graph(t.grad_fn(), max_depth) : py::object(py::none());
}

void bind_autograd(py::module_& m) {
    m.def("grad", [](const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                     const std::vector<std::optional<Tensor>>& grad_outputs, bool retain_graph,
                     uint64_t min_seq, uint64_t max_seq) {
        std::vector<Tensor> seeds;
        for (auto& g : grad_outputs) seeds.push_back(g ? *g : Tensor());
        std::vector<Tensor> r = grad(outputs, inputs, seeds, retain_graph, min_seq, max_seq);
        std::vector<std::optional<Tensor>> out;
        for (auto& t : r) out.push_back(t.defined() ? std::optional<Tensor>(t) : std::nullopt);
        return out;
    }, py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = std::vector<std::optional<Tensor>>{},
       py::arg("retain_graph") = false, py::arg("min_seq") = 0, py::arg("max_seq") = UINT64_MAX,
       py::call_guard<py::gil_scoped_release>());
    m.def("next_node_seq", &next_node_seq);
    m.def("grad_enabled", &grad_enabled);
    m.def("set_grad_enabled", &set_grad_enabled);
    m.def("set_default_grad_enabled", &set_default_grad_enabled);
    m.def("assign", &assign, py::arg("dst"), py::arg("src"), py::call_guard<py::gil_scoped_release>());
    m.def("_storage_version", [](const Tensor& t) { return t.impl()->storage->version.load(); });
    m.def("_autograd_graph", &autograd_graph, py::arg("tensor"), py::arg("max_depth") = 8);
}

// Called from an op's thread between chunks: runs Python's signal handlers (main thread only). A
// pending KeyboardInterrupt is cleared here and re-raised by the exception translator.
static bool python_interrupt_pending() {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
        PyErr_Clear();
        return true;
    }
    return false;
}

void bind_system(py::module_& m) {
    set_interrupt_hook(&python_interrupt_pending);
    m.def("is_cuda_build", &is_cuda_build);
    m.def("cuda_device_count", &cuda_device_count);
    m.def("cuda_unavailable_reason", &cuda_unavailable_reason);
    m.def("cuda_device_name", &cuda_device_name);
    m.def("cuda_build_version", &cuda_build_version);
    m.def("cuda_build_archs", &cuda_build_archs);
    m.def("check_device", [](const std::string& s) { check_device(parse_device(s)); });
    m.def("accelerator_initialized", &accelerator_initialized);
    m.def("is_fake_gpu", [] { return accelerator_initialized() && accelerator().is_fake(); });
    m.def("current_device", [] { return current_device().str(); });
    m.def("set_default_device", [](const std::string& s) { set_default_device(parse_device(s)); });
    m.def("push_device_scope", [](const std::string& s) { push_device_scope(parse_device(s)); });
    m.def("pop_device_scope", &pop_device_scope);
    m.def("device_synchronize", [](const std::string& s) {
        Device d = parse_device(s);
        py::gil_scoped_release nogil;
        device_synchronize(d);
    });
    m.def("device_memory_stats", [](const std::string& s) {
        DeviceMemoryStats st = device_memory_stats(parse_device(s));
        py::dict d;
        d["in_use"] = st.in_use;
        d["peak_in_use"] = st.peak_in_use;
        d["cached"] = st.cached;
        d["reserved"] = st.reserved;
        d["num_raw_allocs"] = st.num_raw_allocs;
        return d;
    });
    m.def("reset_peak_device_memory", [](const std::string& s) { reset_peak_device_memory(parse_device(s)); });
    m.def("release_device_cache", [](const std::string& s) { release_device_cache(parse_device(s)); });
    m.def("tensor_float32_enabled", &tensor_float32_enabled);
    m.def("set_tensor_float32_enabled", &set_tensor_float32_enabled);
    m.def("cpu_simd_level", &cpu_simd_level);
    m.def("cpu_num_threads", &cpu_num_threads);
    m.def("set_cpu_num_threads", &set_cpu_num_threads);
    m.def("cpu_cache_bytes", &cpu_cache_bytes);
    m.def("cpu_cache_release", &cpu_cache_release);
    m.def("set_cpu_cache_limit", &set_cpu_cache_limit);
}

}  // namespace ckeras::bind
