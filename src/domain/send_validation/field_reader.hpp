#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <wagate/domain/api_error.hpp>

#include "json_text.hpp"

namespace wagate::domain::send_validation {

using Status = ApiResult<void>;

/// Drops the value of a read whose only purpose was the check.
template <class T>
Status status_of(const ApiResult<T>& result) {
    if (!result) {
        return result.error();
    }
    return {};
}

/// "a.b" / "b" at the top level (the root has an empty path), and "a[3]".
std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

/// The error vocabulary of the validator; `details` is always "<path>: <reason>".
ApiError required_error(std::string_view path);                          // 131008
ApiError type_error(std::string_view path, std::string_view expected);   // 100 "must be <expected>"
ApiError enum_error(std::string_view path, std::string_view value);      // 100
ApiError invalid_error(std::string_view path, std::string_view reason);  // 131009

struct StringRule {
    std::size_t max_chars = 0;  // in code points; 0 = no limit
    bool allow_empty = false;
};

/// Length and emptiness check shared by every string field.
Status check_string(std::string_view path, const std::string& value, StringRule rule);

class ArrayReader;

/// A JSON object plus where it sits (path for messages, depth for decoding JSON-encoded strings).
/// Readers mutate the tree they read: JSON-encoded strings are replaced by what they decode to, and
/// explicit nulls of optional fields are removed, so the tree ends up as the normalised payload.
class ObjectReader {
public:
    ObjectReader(Json& object, std::string path, std::size_t depth, std::size_t max_depth) noexcept;

    const std::string& path() const noexcept { return path_; }
    std::string path_of(std::string_view key) const { return join_path(path_, key); }
    Json& json() const noexcept { return *object_; }
    bool has(std::string_view key) const { return find(key) != nullptr; }
    /// The value under `key`, or nullptr when absent.
    Json* find(std::string_view key) const;

    /// Rejects the first key outside `keys` (100 "Unexpected key"), then drops null-valued keys so
    /// that `"caption": null` reads as an absent caption.
    Status allow_only(std::initializer_list<std::string_view> keys) const;
    Status allow_only(const std::vector<std::string_view>& keys) const;

    ApiResult<std::string> required_string(std::string_view key, StringRule rule = {}) const;
    ApiResult<std::optional<std::string>> optional_string(std::string_view key,
                                                          StringRule rule = {}) const;
    ApiResult<std::string> required_enum(std::string_view key,
                                         std::initializer_list<std::string_view> values) const;
    ApiResult<std::optional<std::string>> optional_enum(
        std::string_view key, std::initializer_list<std::string_view> values) const;
    ApiResult<std::optional<bool>> optional_bool(std::string_view key) const;
    ApiResult<std::int64_t> required_integer(std::string_view key) const;
    ApiResult<std::optional<std::int64_t>> optional_integer(std::string_view key) const;

    ApiResult<ObjectReader> required_object(std::string_view key) const;
    ApiResult<std::optional<ObjectReader>> optional_object(std::string_view key) const;
    ApiResult<ArrayReader> required_array(std::string_view key) const;
    /// required_array() followed by ArrayReader::check_size(min, max, one, many).
    ApiResult<ArrayReader> required_array(std::string_view key,
                                          std::size_t min,
                                          std::size_t max,
                                          std::string_view one,
                                          std::string_view many) const;
    ApiResult<std::optional<ArrayReader>> optional_array(std::string_view key) const;

private:
    Status allow_only(const std::string_view* keys, std::size_t count) const;

    Json* object_;
    std::string path_;
    std::size_t depth_;  // containers enclosing this object's members, this object included
    std::size_t max_depth_;
};

class ArrayReader {
public:
    ArrayReader(Json& array, std::string path, std::size_t depth, std::size_t max_depth) noexcept;

    const std::string& path() const noexcept { return path_; }
    std::size_t size() const noexcept { return array_->size(); }
    std::string path_at(std::size_t index) const { return index_path(path_, index); }
    Json& at(std::size_t index) const { return (*array_)[index]; }
    ApiResult<ObjectReader> object_at(std::size_t index) const;
    /// 131009 unless min <= size() <= max: "<path>: at least <min> <one|many>" (singular `one`
    /// when min is 1) or "<path>[<max>]: at most <max> <many>", naming the first item too many.
    Status check_size(std::size_t min, std::size_t max, std::string_view one, std::string_view many) const;

private:
    Json* array_;
    std::string path_;
    std::size_t depth_;
    std::size_t max_depth_;
};

/// Clients send structured fields as JSON-encoded strings. If `slot` is such a string and decodes
/// (within the depth left at `depth`) to `kind`, replaces it by the decoded value. Then checks the
/// kind: a type error (100) names `path`.
Status expect_container(Json& slot,
                        std::string_view path,
                        std::size_t depth,
                        std::size_t max_depth,
                        Json::value_t kind);

/// Reads an index given as an integer or as a string of digits (Meta's docs show both), checks
/// 0..`max` and rewrites it as an integer in the payload. nullopt when absent.
ApiResult<std::optional<int>> read_index(const ObjectReader& object, std::string_view key, int max);

/// A required index (read_index) that must not repeat among its siblings: carousel `card_index`.
ApiResult<int> read_unique_index(const ObjectReader& object,
                                 std::string_view key,
                                 int max,
                                 std::set<int>& seen);

/// Values that must be unique within a message; `add` fails with "<path>: duplicate <what>".
class UniqueValues {
public:
    explicit UniqueValues(std::string what) : what_(std::move(what)) {}
    Status add(std::string_view path, const std::string& value);

private:
    std::string what_;
    std::set<std::string> seen_;
};

}  // namespace wagate::domain::send_validation
