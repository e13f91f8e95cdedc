// Bindings for the neural-network ops: losses, random numbers, dropout and optimizer steps.
#include "bind_common.h"

namespace ckeras::bind {

void bind_nn(py::module_& m) { (void)m; }

}  // namespace ckeras::bind
