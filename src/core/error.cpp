#include <wagate/core/error.hpp>

#include <stdexcept>

namespace wagate {

std::string_view to_string(Errc code) noexcept {
    switch (code) {
        case Errc::kInvalidArgument: return "invalid_argument";
        case Errc::kNotFound: return "not_found";
        case Errc::kConflict: return "conflict";
        case Errc::kRetryable: return "retryable";
        case Errc::kTimeout: return "timeout";
        case Errc::kDbUnavailable: return "db_unavailable";
        case Errc::kNetwork: return "network";
        case Errc::kInternal: return "internal";
    }
    return "internal";
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
    throw std::runtime_error(std::string(to_string(e.code)) + ": " + e.message);
}

}  // namespace wagate
