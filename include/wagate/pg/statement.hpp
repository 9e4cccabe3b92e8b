#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_result;  // libpq's PGresult, kept out of this header

namespace wagate::pg {

/// How a statement is planned.
enum class Planning {
    /// Prepared once per connection on first use; PostgreSQL may settle on a generic plan.
    kPrepared,
    /// Planned at every execution with its parameter values (an unnamed statement). For a
    /// statement over a table whose size swings (a queue that is empty, then holds a backlog): a
    /// generic plan chosen while it was small can scan all of it once it has grown.
    kEachTime,
};

/// A named SQL statement. Parameters only: nothing is ever spliced into `sql`. `timeout` bounds
/// one execution (server-side statement_timeout applies too).
struct Statement {
    const char* name;
    const char* sql;
    std::chrono::milliseconds timeout{5000};
    Planning planning = Planning::kPrepared;
};

/// Text-format parameters for one execution.
class Params {
public:
    Params& add(std::string_view value);
    Params& add(const std::string& value) { return add(std::string_view(value)); }
    Params& add(const char* value) { return add(std::string_view(value)); }
    Params& add(std::int64_t value);
    Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
    Params& add(bool value);
    Params& add(const std::optional<std::string>& value);
    Params& add_null();

    int size() const noexcept { return static_cast<int>(values_.size()); }
    /// Pointer arrays for libpq; valid until the next add().
    const char* const* values() const;
    const int* lengths() const;

private:
    std::vector<std::optional<std::string>> values_;
    mutable std::vector<const char*> pointers_;
    mutable std::vector<int> lengths_;
};

/// Builds a PostgreSQL array literal (`{"a","b",NULL}`) for one array-typed parameter, so a
/// batch travels as a few parameters instead of one statement per row. Elements are quoted with
/// '"' and '\\' escaped; nothing is interpreted by SQL.
class ArrayLiteral {
public:
    ArrayLiteral& add(std::string_view element);
    ArrayLiteral& add(const std::string& element) { return add(std::string_view(element)); }
    ArrayLiteral& add(const std::optional<std::string>& element);
    ArrayLiteral& add_null();
    std::string str() const { return text_ + "}"; }

private:
    void separator();
    std::string text_ = "{";
};

/// text[] literal of `items`.
std::string text_array(const std::vector<std::string>& items);

/// The rows of one successful statement (text format). Move-only; owns the PGresult.
class Rows {
public:
    Rows() = default;
    explicit Rows(pg_result* result) noexcept;

    int size() const noexcept;
    /// Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples); 0 when not applicable.
    std::int64_t affected() const noexcept;
    bool is_null(int row, int col) const noexcept;
    std::string_view get(int row, int col) const noexcept;
    std::optional<std::string> get_optional(int row, int col) const;
    std::int64_t get_int64(int row, int col) const noexcept;
    bool get_bool(int row, int col) const noexcept;
    /// Column index by name, -1 if absent.
    int column(const char* name) const noexcept;

private:
    struct Deleter {
        void operator()(pg_result* r) const noexcept;
    };
    std::unique_ptr<pg_result, Deleter> result_;
};

}  // namespace wagate::pg
