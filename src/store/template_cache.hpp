#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <wagate/domain/templates.hpp>

namespace wagate::store {

/// Parsed template definitions, keyed by (WABA, name, language) and the row's updated_at: the
/// accept batch reads each template's row anyway, and re-parses only a definition it has not
/// seen at that version. Every instance therefore checks against the current row, with no
/// invalidation protocol between instances. Thread-safe.
class TemplateCache {
public:
    /// The parsed definition of a stored row, with the row's status taking precedence over the
    /// one inside the definition (Meta's status webhooks update the column). Null, and logged,
    /// when a stored definition does not parse: the gateway then treats it as absent.
    std::shared_ptr<const domain::TemplateDefinition> get(std::string_view waba_id, std::string_view name,
                                                          std::string_view language, std::string_view status,
                                                          std::string_view definition_json,
                                                          std::int64_t updated_at_micros);

private:
    struct Entry {
        std::int64_t updated_at_micros = 0;
        std::string status;
        std::shared_ptr<const domain::TemplateDefinition> definition;
    };
    static constexpr std::size_t kMaxEntries = 20'000;  // then start over: a bound, not an LRU

    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wagate::store
