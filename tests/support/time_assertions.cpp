#include "support/time_assertions.hpp"

#include <cstdio>
#include <ctime>

namespace wagate::test {

std::string utc_to_the_second(std::int64_t unix_seconds) {
    const time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

::testing::AssertionResult is_time(const nlohmann::json& value, std::int64_t unix_seconds) {
    if (!value.is_string()) {
        return ::testing::AssertionFailure() << value.dump() << " is not a time";
    }
    const std::string text = value.get<std::string>();
    struct tm tm {};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
        return ::testing::AssertionFailure() << text << " is not RFC 3339";
    }
    std::string rest = text.substr(static_cast<std::size_t>(consumed));
    bool whole_second = true;
    if (!rest.empty() && rest[0] == '.') {
        std::size_t digits = 1;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            whole_second = whole_second && rest[digits] == '0';
            ++digits;
        }
        rest.erase(0, digits);
    }
    if (rest != "Z" && rest != "+00:00") {
        return ::testing::AssertionFailure() << text << " is not an RFC 3339 UTC time";
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::int64_t parsed = timegm(&tm);
    if (parsed != unix_seconds || !whole_second) {
        return ::testing::AssertionFailure()
               << text << " is not " << utc_to_the_second(unix_seconds) << "Z";
    }
    return ::testing::AssertionSuccess();
}

}  // namespace wagate::test
