// Cooperative interruption of long ops: an op doing a lot of work polls between chunks, and the
// host (the Python bindings) decides whether a signal is pending. The core never handles signals.
#pragma once

namespace ckeras {

// `hook` returns true when the current op should stop (e.g. Ctrl-C was pressed). Null disables polling.
void set_interrupt_hook(bool (*hook)());
// Throws Error(Interrupt) when the hook says so. Call only from the thread that runs the op, outside
// OpenMP regions, between chunks of work.
void poll_interrupt();

// Ops poll roughly this often (in floating-point operations) when they chunk their work.
constexpr double kInterruptPollFlops = 2.0e9;

}  // namespace ckeras
