#include <wagate/domain/policy.hpp>

#include <cstdio>
#include <utility>

namespace wagate::domain::policy {

std::string format_utc(TimePoint t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{ms - day};
    char buf[48];
    const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                                static_cast<int>(hms.minutes().count()),
                                static_cast<int>(hms.seconds().count()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (const auto frac = hms.subseconds().count(); frac != 0) {
        std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
        out += buf;
    }
    out += 'Z';
    return out;
}

namespace errors {
namespace {
ApiError make(int http_status, int code, const char* title, std::string details, bool gateway) {
    return ApiError{http_status, code, title, std::move(details), gateway, 0};
}
}  // namespace

// Meta's own codes and titles (reference §12.2), so clients see one vocabulary.
ApiError re_engagement_required(std::string d) {
    return make(400, 131047, "Re-engagement message", std::move(d), false);
}
ApiError pair_rate_limit_hit(std::string d) {
    return make(400, 131056, "Pair rate limit hit", std::move(d), false);
}

// Gateway codes (contract §4): conditions Meta has no code for.
ApiError messaging_limit_reached(std::string d, int retry_after_seconds) {
    ApiError e = make(429, 900100, "Messaging limit reached", std::move(d), true);
    e.retry_after_seconds = retry_after_seconds;
    return e;
}
ApiError opt_in_required(std::string d) {
    return make(400, 900101, "Recipient has not opted in", std::move(d), true);
}
ApiError identity_not_acknowledged(std::string d) {
    return make(400, 900102, "Recipient identity changed", std::move(d), true);
}
ApiError number_restricted(std::string d) {
    return make(400, 900103, "Phone number restricted", std::move(d), true);
}
}  // namespace errors

}  // namespace wagate::domain::policy
