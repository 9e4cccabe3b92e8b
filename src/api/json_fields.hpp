#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <wagate/domain/api_error.hpp>

namespace wagate::api {

/// Reads the fields of an admin request body, stopping at the first problem, which it reports as
/// a 400 naming the field. Absent optional fields read as nullopt.
class JsonFields {
public:
    /// Parses `body` as a JSON object (an empty body counts as {}).
    static domain::ApiResult<JsonFields> parse(std::string_view body,
                                               std::initializer_list<std::string_view> allowed_keys);

    std::optional<std::string> string(const char* key, std::size_t max_length, bool required = false);
    std::optional<std::string> one_of(const char* key, std::initializer_list<std::string_view> values);
    std::optional<bool> boolean(const char* key);
    std::optional<double> positive_number(const char* key);
    /// A whole number in [min, max], given as a JSON integer or a string of digits (Meta writes
    /// timestamps as strings).
    std::optional<std::int64_t> integer(const char* key, std::int64_t min, std::int64_t max);
    std::optional<std::vector<std::string>> string_array(const char* key, std::size_t max_items,
                                                         bool required = false);

    /// The first problem met so far, if any.
    const std::optional<domain::ApiError>& error() const noexcept { return error_; }

private:
    explicit JsonFields(nlohmann::json object) : object_(std::move(object)) {}
    const nlohmann::json* find(const char* key, bool required);
    void fail(domain::ApiError e);

    nlohmann::json object_;
    std::optional<domain::ApiError> error_;
};

}  // namespace wagate::api
