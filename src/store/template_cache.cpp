#include "store/template_cache.hpp"

#include <spdlog/spdlog.h>

namespace wagate::store {

std::shared_ptr<const domain::TemplateDefinition> TemplateCache::get(
    std::string_view waba_id, std::string_view name, std::string_view language, std::string_view status,
    std::string_view definition_json, std::int64_t updated_at_micros) {
    std::string key;
    key.reserve(waba_id.size() + name.size() + language.size() + 2);
    key.append(waba_id).append(1, '\0').append(name).append(1, '\0').append(language);
    {
        std::lock_guard lock(mutex_);
        if (auto it = entries_.find(key);
            it != entries_.end() && it->second.updated_at_micros == updated_at_micros && it->second.status == status) {
            return it->second.definition;
        }
    }
    // Parsed outside the lock: a definition is parsed at most once per version per racing batch.
    auto parsed = domain::parse_template_definition(name, language, definition_json);
    const auto row_status = domain::parse_template_status(status);
    if (!parsed || !row_status) {
        spdlog::error("stored template {}/{}/{} does not parse; treated as absent", waba_id, name, language);
        return nullptr;
    }
    parsed->status = *row_status;
    auto definition = std::make_shared<const domain::TemplateDefinition>(std::move(*parsed));
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) {
        entries_.clear();
    }
    entries_[std::move(key)] = Entry{updated_at_micros, std::string(status), definition};
    return definition;
}

}  // namespace wagate::store
