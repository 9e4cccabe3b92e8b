#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace wagate {

/// The gateway's internal failure vocabulary. Module boundaries (pg, http, store) translate their
/// library errors into these; the API layer maps them to HTTP and Graph codes in one place.
enum class Errc {
    kInvalidArgument,
    kNotFound,
    kConflict,        // unique violation: usually an idempotent replay
    kRetryable,       // serialization failure or deadlock: safe to run again
    kTimeout,         // statement or socket deadline passed
    kDbUnavailable,   // connection refused, lost, or server shutting down
    kNetwork,         // an HTTP peer could not be reached, or the exchange broke (TLS included)
    kInternal,
};

/// `message` is for logs; it may hold details that must never reach an API caller.
struct Error {
    Errc code = Errc::kInternal;
    std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

std::string_view to_string(Errc code) noexcept;

/// Lets boost::system::result<T, Error>::value() throw; only used outside request paths.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace wagate
