// Error reporting for the C++ core: CKERAS_CHECK throws ckeras::Error carrying file:line and a kind
// that the bindings map to a Python exception type. Nothing in the core prints or exits.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdint>

namespace ckeras {

// Which Python exception an error becomes.
// DeviceMemory is an accelerator out-of-memory: ckeras.OutOfMemoryError, a MemoryError subclass.
enum class ErrorKind { Value, Type, Index, Memory, DeviceMemory, Overflow, Runtime, NotImplemented, Interrupt };

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
private:
    ErrorKind kind_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T>
void append_one(std::ostringstream& os, const T& v) { os << v; }
inline void append_one(std::ostringstream& os, const std::vector<int64_t>& v) {
    os << "(";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << (v.size() == 1 ? ",)" : ")");
}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) { append_one(os, v); append(os, rest...); }
}  // namespace detail

template <class... Parts>
std::string str_cat(const Parts&... parts) {
    std::ostringstream os;
    detail::append(os, parts...);
    return os.str();
}

template <class... Parts>
[[noreturn]] void throw_error(ErrorKind kind, const Parts&... parts) {
    throw Error(kind, str_cat(parts...));
}

}  // namespace ckeras

// Argument/shape errors (ValueError in Python).
#define CKERAS_CHECK(cond, ...) \
    do { if (!(cond)) ::ckeras::throw_error(::ckeras::ErrorKind::Value, __VA_ARGS__); } while (0)
// Same, with an explicit kind: CKERAS_CHECK_KIND(Index, cond, "axis ", a, " is out of bounds").
#define CKERAS_CHECK_KIND(kind, cond, ...) \
    do { if (!(cond)) ::ckeras::throw_error(::ckeras::ErrorKind::kind, __VA_ARGS__); } while (0)
// Internal invariant: a bug in ckeras, not in the caller's input (RuntimeError, with file:line).
#define CKERAS_ASSERT(cond) \
    do { if (!(cond)) ::ckeras::throw_error(::ckeras::ErrorKind::Runtime, "internal error: ", #cond, \
                                             " at ", __FILE__, ":", __LINE__); } while (0)
