#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

/// A stored template: the identifying columns plus the normalised definition (compact JSON, as
/// domain::TemplateDefinition::json gives it).
struct StoredTemplate {
    std::string waba_id;
    std::string name;
    std::string language;
    std::string category;
    std::string status;
    std::string definition_json;
    std::string updated_at;  // RFC 3339, UTC
};

/// Templates per WABA. Thread-safe.
class TemplateStore {
public:
    explicit TemplateStore(pg::Pool& pool) : pool_(pool) {}

    /// Creates or replaces. Errors: kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<StoredTemplate>> upsert(const StoredTemplate& t);
    /// Every template of the WABA, ordered by name and language.
    boost::asio::awaitable<Result<std::vector<StoredTemplate>>> list(const std::string& waba_id);
    /// True when a template was removed.
    boost::asio::awaitable<Result<bool>> remove(const std::string& waba_id, const std::string& name,
                                                const std::string& language);

private:
    pg::Pool& pool_;
};

}  // namespace wagate::store
