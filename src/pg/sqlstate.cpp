#include <wagate/pg/sqlstate.hpp>

namespace wagate::pg {

Errc classify_sqlstate(std::string_view sqlstate) noexcept {
    if (sqlstate == "23505") {
        return Errc::kConflict;
    }
    if (sqlstate == "40001" || sqlstate == "40P01") {
        return Errc::kRetryable;
    }
    if (sqlstate == "57014") {
        return Errc::kTimeout;
    }
    // Connection exceptions, admin/crash shutdown, cannot connect now, too many connections.
    if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
        sqlstate == "57P03" || sqlstate == "53300") {
        return Errc::kDbUnavailable;
    }
    if (sqlstate.starts_with("22") || sqlstate.starts_with("23")) {
        return Errc::kInvalidArgument;
    }
    return Errc::kInternal;
}

}  // namespace wagate::pg
