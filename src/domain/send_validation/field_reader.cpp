#include "field_reader.hpp"

#include <algorithm>
#include <utility>

#include <wagate/domain/send_request.hpp>

#include "text_rules.hpp"

namespace wagate::domain::send_validation {

std::string join_path(std::string_view parent, std::string_view key) {
    std::string path;
    path.reserve(parent.size() + key.size() + 1);
    path.append(parent);
    if (!parent.empty()) {
        path.push_back('.');
    }
    path.append(key);
    return path;
}

std::string index_path(std::string_view parent, std::size_t index) {
    std::string path(parent);
    path += '[' + std::to_string(index) + ']';
    return path;
}

ApiError required_error(std::string_view path) {
    return api_errors::missing_parameter(std::string(path) + ": required");
}

ApiError type_error(std::string_view path, std::string_view expected) {
    return api_errors::invalid_parameter(std::string(path) + ": must be " + std::string(expected));
}

ApiError enum_error(std::string_view path, std::string_view value) {
    return api_errors::invalid_parameter(std::string(path) + ": unsupported value \"" +
                                         std::string(value) + "\"");
}

ApiError invalid_error(std::string_view path, std::string_view reason) {
    return api_errors::invalid_value(std::string(path) + ": " + std::string(reason));
}

Status check_string(std::string_view path, const std::string& value, StringRule rule) {
    if (value.empty() && !rule.allow_empty) {
        return invalid_error(path, "must not be empty");
    }
    if (rule.max_chars > 0 && count_code_points(value) > rule.max_chars) {
        return invalid_error(path, "at most " + std::to_string(rule.max_chars) + " characters");
    }
    return {};
}

Status expect_container(Json& slot,
                        std::string_view path,
                        std::size_t depth,
                        std::size_t max_depth,
                        Json::value_t kind) {
    const bool want_object = kind == Json::value_t::object;
    if (slot.is_string()) {
        const auto& text = slot.get_ref<const std::string&>();
        const std::size_t room = depth < max_depth ? max_depth - depth : 0;
        if (scan_json_text(text, room) == ScanProblem::kTooDeep) {
            return api_errors::invalid_parameter(std::string(path) + ": nested deeper than " +
                                                 std::to_string(max_depth) + " levels");
        }
        if (auto decoded = parse_json(text); decoded && decoded->type() == kind) {
            slot = std::move(*decoded);
        }
    }
    if (slot.type() != kind) {
        return type_error(path, want_object ? "an object" : "an array");
    }
    return {};
}

ObjectReader::ObjectReader(Json& object,
                           std::string path,
                           std::size_t depth,
                           std::size_t max_depth) noexcept
    : object_(&object), path_(std::move(path)), depth_(depth), max_depth_(max_depth) {}

Json* ObjectReader::find(std::string_view key) const {
    const auto it = object_->find(key);
    return it == object_->end() ? nullptr : &*it;
}

Status ObjectReader::allow_only(std::initializer_list<std::string_view> keys) const {
    return allow_only(keys.begin(), keys.size());
}

Status ObjectReader::allow_only(const std::vector<std::string_view>& keys) const {
    return allow_only(keys.data(), keys.size());
}

Status ObjectReader::allow_only(const std::string_view* keys, std::size_t count) const {
    std::vector<std::string> nulls;
    for (const auto& [key, value] : object_->items()) {
        if (std::find(keys, keys + count, key) == keys + count) {
            return api_errors::unexpected_key(path_of(key) + ": unexpected key");
        }
        if (value.is_null()) {
            nulls.push_back(key);
        }
    }
    for (const auto& key : nulls) {
        object_->erase(key);
    }
    return {};
}

ApiResult<std::string> ObjectReader::required_string(std::string_view key, StringRule rule) const {
    auto value = optional_string(key, rule);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return required_error(path_of(key));
    }
    return std::move(**value);
}

ApiResult<std::optional<std::string>> ObjectReader::optional_string(std::string_view key,
                                                                    StringRule rule) const {
    const Json* value = find(key);
    if (value == nullptr) {
        return std::optional<std::string>{};
    }
    if (!value->is_string()) {
        return type_error(path_of(key), "a string");
    }
    std::string text = value->get<std::string>();
    if (auto ok = check_string(path_of(key), text, rule); !ok) {
        return ok.error();
    }
    return std::optional<std::string>{std::move(text)};
}

ApiResult<std::string> ObjectReader::required_enum(
    std::string_view key, std::initializer_list<std::string_view> values) const {
    auto value = optional_enum(key, values);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return required_error(path_of(key));
    }
    return std::move(**value);
}

ApiResult<std::optional<std::string>> ObjectReader::optional_enum(
    std::string_view key, std::initializer_list<std::string_view> values) const {
    auto value = optional_string(key, {.allow_empty = true});
    if (!value || !*value) {
        return value;
    }
    if (std::find(values.begin(), values.end(), **value) == values.end()) {
        return enum_error(path_of(key), **value);
    }
    return value;
}

ApiResult<std::optional<bool>> ObjectReader::optional_bool(std::string_view key) const {
    const Json* value = find(key);
    if (value == nullptr) {
        return std::optional<bool>{};
    }
    if (!value->is_boolean()) {
        return type_error(path_of(key), "a boolean");
    }
    return std::optional<bool>{value->get<bool>()};
}

ApiResult<std::int64_t> ObjectReader::required_integer(std::string_view key) const {
    auto value = optional_integer(key);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return required_error(path_of(key));
    }
    // Explicit: ApiError is an aggregate that an integer could also initialise.
    return ApiResult<std::int64_t>(boost::system::in_place_value, **value);
}

ApiResult<std::optional<std::int64_t>> ObjectReader::optional_integer(std::string_view key) const {
    const Json* value = find(key);
    if (value == nullptr) {
        return std::optional<std::int64_t>{};
    }
    if (value->is_number_integer() &&
        !(value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX)) {
        return std::optional<std::int64_t>{value->get<std::int64_t>()};
    }
    if (value->is_number()) {
        return invalid_error(path_of(key), "must be an integer");
    }
    return type_error(path_of(key), "an integer");
}

ApiResult<ObjectReader> ObjectReader::required_object(std::string_view key) const {
    auto value = optional_object(key);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return required_error(path_of(key));
    }
    return std::move(**value);
}

ApiResult<std::optional<ObjectReader>> ObjectReader::optional_object(std::string_view key) const {
    Json* value = find(key);
    if (value == nullptr) {
        return std::optional<ObjectReader>{};
    }
    std::string path = path_of(key);
    if (auto ok = expect_container(*value, path, depth_, max_depth_, Json::value_t::object); !ok) {
        return ok.error();
    }
    return std::optional<ObjectReader>{
        ObjectReader(*value, std::move(path), depth_ + 1, max_depth_)};
}

ApiResult<ArrayReader> ObjectReader::required_array(std::string_view key) const {
    auto value = optional_array(key);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return required_error(path_of(key));
    }
    return std::move(**value);
}

ApiResult<std::optional<ArrayReader>> ObjectReader::optional_array(std::string_view key) const {
    Json* value = find(key);
    if (value == nullptr) {
        return std::optional<ArrayReader>{};
    }
    std::string path = path_of(key);
    if (auto ok = expect_container(*value, path, depth_, max_depth_, Json::value_t::array); !ok) {
        return ok.error();
    }
    return std::optional<ArrayReader>{ArrayReader(*value, std::move(path), depth_ + 1, max_depth_)};
}

ArrayReader::ArrayReader(Json& array,
                         std::string path,
                         std::size_t depth,
                         std::size_t max_depth) noexcept
    : array_(&array), path_(std::move(path)), depth_(depth), max_depth_(max_depth) {}

ApiResult<ObjectReader> ArrayReader::object_at(std::size_t index) const {
    Json& slot = (*array_)[index];
    std::string path = path_at(index);
    if (auto ok = expect_container(slot, path, depth_, max_depth_, Json::value_t::object); !ok) {
        return ok.error();
    }
    return ObjectReader(slot, std::move(path), depth_ + 1, max_depth_);
}

ApiResult<std::optional<int>> read_index(const ObjectReader& object,
                                         std::string_view key,
                                         int max) {
    Json* value = object.find(key);
    if (value == nullptr) {
        return std::optional<int>{};
    }
    const std::string path = object.path_of(key);
    const std::string range = "must be between 0 and " + std::to_string(max);
    std::int64_t index = -1;
    if (value->is_number_integer()) {
        if (value->is_number_unsigned() && value->get<std::uint64_t>() > std::uint64_t(max)) {
            return invalid_error(path, range);
        }
        index = value->get<std::int64_t>();
    } else if (value->is_string()) {
        const auto& text = value->get_ref<const std::string&>();
        if (!is_ascii_digits(text)) {
            return invalid_error(path, "must be an integer or a string of digits");
        }
        index = text.size() > 2 ? max + 1 : std::stoi(text);
    } else if (value->is_number()) {
        return invalid_error(path, "must be an integer");
    } else {
        return type_error(path, "an integer or a string of digits");
    }
    if (index < 0 || index > max) {
        return invalid_error(path, range);
    }
    *value = static_cast<int>(index);
    return std::optional<int>{static_cast<int>(index)};
}

Status UniqueValues::add(std::string_view path, const std::string& value) {
    if (!seen_.insert(value).second) {
        return invalid_error(path, "duplicate " + what_);
    }
    return {};
}

Status ArrayReader::check_size(std::size_t min,
                               std::size_t max,
                               std::string_view one,
                               std::string_view many) const {
    if (size() < min) {
        return invalid_error(path_, "at least " + std::to_string(min) + " " +
                                        std::string(min == 1 ? one : many));
    }
    if (size() > max) {
        return invalid_error(path_at(max), "at most " + std::to_string(max) + " " + std::string(many));
    }
    return {};
}

ApiResult<ArrayReader> ObjectReader::required_array(std::string_view key,
                                                    std::size_t min,
                                                    std::size_t max,
                                                    std::string_view one,
                                                    std::string_view many) const {
    auto array = required_array(key);
    if (!array) {
        return array.error();
    }
    if (auto ok = array->check_size(min, max, one, many); !ok) {
        return ok.error();
    }
    return array;
}

ApiResult<int> read_unique_index(const ObjectReader& object,
                                 std::string_view key,
                                 int max,
                                 std::set<int>& seen) {
    auto index = read_index(object, key, max);
    if (!index) {
        return index.error();
    }
    if (!*index) {
        return required_error(object.path_of(key));
    }
    if (!seen.insert(**index).second) {
        return invalid_error(object.path_of(key), "duplicate " + std::string(key));
    }
    // Explicit: ApiError is an aggregate, so an int would also convert to the error side.
    return ApiResult<int>(boost::system::in_place_value, **index);
}

}  // namespace wagate::domain::send_validation
