#include <wagate/pg/statement.hpp>

#include <charconv>
#include <cstdlib>

#include <libpq-fe.h>

namespace wagate::pg {

Params& Params::add(std::string_view value) {
    values_.emplace_back(std::string(value));
    return *this;
}

Params& Params::add(std::int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
}

Params& Params::add(bool value) {
    values_.emplace_back(value ? "t" : "f");
    return *this;
}

Params& Params::add(const std::optional<std::string>& value) {
    values_.push_back(value);
    return *this;
}

Params& Params::add_null() {
    values_.emplace_back(std::nullopt);
    return *this;
}

// Built on demand because SSO strings move when values_ grows.
const char* const* Params::values() const {
    pointers_.clear();
    for (const auto& v : values_) {
        pointers_.push_back(v ? v->c_str() : nullptr);
    }
    return pointers_.data();
}

const int* Params::lengths() const {
    lengths_.clear();
    for (const auto& v : values_) {
        lengths_.push_back(v ? static_cast<int>(v->size()) : 0);
    }
    return lengths_.data();
}

void ArrayLiteral::separator() {
    if (text_.size() > 1) {
        text_ += ',';
    }
}

ArrayLiteral& ArrayLiteral::add(std::string_view element) {
    separator();
    text_.reserve(text_.size() + element.size() + 3);
    text_ += '"';
    // Copy runs between characters that need escaping in bulk: payloads are mostly plain text.
    for (std::size_t start = 0;;) {
        const std::size_t special = element.find_first_of("\"\\", start);
        text_.append(element.substr(start, special - start));
        if (special == std::string_view::npos) {
            break;
        }
        text_ += '\\';
        text_ += element[special];
        start = special + 1;
    }
    text_ += '"';
    return *this;
}

ArrayLiteral& ArrayLiteral::add(const std::optional<std::string>& element) {
    return element ? add(std::string_view(*element)) : add_null();
}

ArrayLiteral& ArrayLiteral::add_null() {
    separator();
    text_ += "NULL";
    return *this;
}

std::string text_array(const std::vector<std::string>& items) {
    ArrayLiteral array;
    for (const auto& item : items) {
        array.add(std::string_view(item));
    }
    return array.str();
}

void Rows::Deleter::operator()(pg_result* r) const noexcept { PQclear(r); }

Rows::Rows(pg_result* result) noexcept : result_(result) {}

int Rows::size() const noexcept { return result_ ? PQntuples(result_.get()) : 0; }

std::int64_t Rows::affected() const noexcept {
    if (!result_) {
        return 0;
    }
    const char* n = PQcmdTuples(result_.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

bool Rows::is_null(int row, int col) const noexcept {
    return !result_ || PQgetisnull(result_.get(), row, col) == 1;
}

std::string_view Rows::get(int row, int col) const noexcept {
    if (is_null(row, col)) {
        return {};
    }
    return {PQgetvalue(result_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::optional<std::string> Rows::get_optional(int row, int col) const {
    if (is_null(row, col)) {
        return std::nullopt;
    }
    return std::string(get(row, col));
}

std::int64_t Rows::get_int64(int row, int col) const noexcept {
    const std::string_view text = get(row, col);
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

bool Rows::get_bool(int row, int col) const noexcept { return get(row, col) == "t"; }

int Rows::column(const char* name) const noexcept {
    return result_ ? PQfnumber(result_.get(), name) : -1;
}

}  // namespace wagate::pg
