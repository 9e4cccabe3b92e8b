#include <algorithm>
#include <cctype>

#include <wagate/domain/webhook.hpp>

#include "domain/send_validation/json_text.hpp"
#include "domain/webhook/lenient.hpp"

namespace wagate::domain::webhook {

namespace {

// Deeper than any payload Meta documents (about 8 levels); deep enough for unknown additions.
constexpr std::size_t kMaxDepth = 64;

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

/// PostgreSQL's jsonb cannot hold U+0000, which JSON text may carry as \u0000 (a user can type
/// it); it becomes U+FFFD in keys and strings, so the item stays storable. Depth is bounded by
/// the pre-scan.
void replace_nul(Json& value) {
    static const std::string kReplacement = "\xEF\xBF\xBD";
    auto clean = [](std::string s) {
        for (std::size_t at = s.find('\0'); at != std::string::npos; at = s.find('\0', at)) {
            s.replace(at, 1, kReplacement);
        }
        return s;
    };
    if (value.is_string()) {
        value = clean(value.get<std::string>());
    } else if (value.is_array()) {
        for (auto& element : value) {
            replace_nul(element);
        }
    } else if (value.is_object()) {
        Json rebuilt = Json::object();
        for (auto& [key, member] : value.items()) {
            replace_nul(member);
            rebuilt[clean(key)] = std::move(member);
        }
        value = std::move(rebuilt);
    }
}

std::string indexed(const std::string& base, std::string_view name, std::size_t i) {
    return base + "." + std::string(name) + "[" + std::to_string(i) + "]";
}

/// Where one `value` came from, shared by its items.
struct ValueContext {
    std::string path;  // e.g. entry[0].changes[1].value
    std::string waba_id;
    std::string phone_number_id;
    std::int64_t entry_time = 0;
    const Json* contacts = nullptr;  // value.contacts
};

class Reader {
public:
    explicit Reader(ParsedDelivery& out) : out_(out) {}

    void envelope(const Json& body) {
        const Json* entries = member(body, "entry");
        if (entries == nullptr) {
            // On-Premises: the arrays sit at the top level, without entry/changes/metadata.
            if (member(body, "statuses") || member(body, "messages") || member(body, "errors")) {
                messages_value(body, ValueContext{"$", "", "", 0, member(body, "contacts")});
            } else {
                fail("$", "neither entry[] nor statuses/messages/errors", body);
            }
            return;
        }
        if (!entries->is_array()) {
            fail("entry", "entry is not an array", *entries);
            return;
        }
        for (std::size_t e = 0; e < entries->size(); ++e) {
            entry((*entries)[e], "entry[" + std::to_string(e) + "]");
        }
    }

private:
    void entry(const Json& entry, const std::string& path) {
        const Json* changes = member(entry, "changes");
        if (changes == nullptr || !changes->is_array()) {
            fail(path, "entry without a changes array", entry);
            return;
        }
        const std::string waba_id = text_or_empty(entry, "id");
        const std::int64_t time = meta_time(entry, "time").seconds;
        for (std::size_t c = 0; c < changes->size(); ++c) {
            const Json& change = (*changes)[c];
            const std::string change_path = indexed(path, "changes", c);
            // Meta's own examples sometimes put `field` inside the value, or on the entry
            // (reference §3.2).
            const Json* value = member(change, "value");
            std::string field = text_or_empty(change, "field");
            if (field.empty() && value != nullptr) {
                field = text_or_empty(*value, "field");
            }
            if (field.empty()) {
                field = text_or_empty(entry, "field");
            }
            if (value == nullptr || !value->is_object()) {
                fail(change_path, "change without a value object", change);
                continue;
            }
            if (field == "messages") {
                const Json* metadata = member(*value, "metadata");
                ValueContext ctx{change_path + ".value", waba_id,
                                 metadata ? text_or_empty(*metadata, "phone_number_id") : "", time,
                                 member(*value, "contacts")};
                messages_value(*value, ctx);
            } else {
                account(change_path, waba_id, field.empty() ? "unknown" : field, time, *value);
            }
        }
    }

    void messages_value(const Json& value, const ValueContext& ctx) {
        bool known = false;
        if (const Json* statuses = member(value, "statuses")) {
            known = true;
            each(*statuses, ctx.path, "statuses", [&](const Json& item, const std::string& path) {
                status(item, path, ctx);
            });
        }
        if (const Json* messages = member(value, "messages")) {
            known = true;
            each(*messages, ctx.path, "messages", [&](const Json& item, const std::string& path) {
                message(item, path, ctx);
            });
        }
        if (member(value, "errors") != nullptr) {
            known = true;
            account(ctx.path, ctx.waba_id, "errors", ctx.entry_time, value, ctx.phone_number_id);
        }
        if (!known) {
            account(ctx.path, ctx.waba_id, "messages", ctx.entry_time, value, ctx.phone_number_id);
        }
    }

    template <class F>
    void each(const Json& array, const std::string& base, std::string_view name, F&& f) {
        if (!array.is_array()) {
            fail(base + "." + std::string(name), std::string(name) + " is not an array", array);
            return;
        }
        for (std::size_t i = 0; i < array.size(); ++i) {
            f(array[i], indexed(base, name, i));
        }
    }

    void status(const Json& item, const std::string& path, const ValueContext& ctx) {
        auto wamid = text(item, "id");
        auto status = text(item, "status");
        if (!wamid || wamid->empty() || !status || status->empty()) {
            fail(path, "status without id or status", item);
            return;
        }
        const std::string name = lower(*status);
        if (name == "deleted") {
            out_.tombstones.push_back(Tombstone{path, ctx.phone_number_id, *wamid,
                                                text_or_empty(item, "recipient_id"), meta_time(item, "timestamp")});
            return;
        }
        StatusUpdate s;
        s.path = path;
        s.phone_number_id = ctx.phone_number_id;
        s.wamid = std::move(*wamid);
        s.status = name;
        s.participant = text_or_empty(item, "recipient_participant_id");
        s.timestamp = meta_time(item, "timestamp");
        s.errors_json = dump_member(item, "errors");
        s.pricing_json = dump_member(item, "pricing");
        s.conversation_json = dump_member(item, "conversation");
        s.biz_opaque_callback_data = text(item, "biz_opaque_callback_data");
        s.raw_json = dump(item);
        out_.statuses.push_back(std::move(s));
    }

    /// The value.contacts[] entry of the sender: by wa_id, by user_id (BSUID), or the only one
    /// when nothing in it names someone else.
    static const Json* sender_contact(const ValueContext& ctx, const std::string& from,
                                      const std::optional<std::string>& user_id) {
        if (ctx.contacts == nullptr || !ctx.contacts->is_array()) {
            return nullptr;
        }
        const bool has_user_id = user_id && !user_id->empty();
        for (const Json& c : *ctx.contacts) {
            if ((!from.empty() && text_or_empty(c, "wa_id") == from) ||
                (has_user_id && text_or_empty(c, "user_id") == *user_id)) {
                return &c;
            }
        }
        if (ctx.contacts->size() != 1) {
            return nullptr;
        }
        const Json& only = (*ctx.contacts)[0];
        const std::string wa_id = text_or_empty(only, "wa_id");
        const std::string only_user = text_or_empty(only, "user_id");
        const bool names_another = (!from.empty() && !wa_id.empty() && wa_id != from) ||
                                   (has_user_id && !only_user.empty() && only_user != *user_id);
        return names_another ? nullptr : &only;
    }

    void message(const Json& item, const std::string& path, const ValueContext& ctx) {
        auto wamid = text(item, "id");
        if (!wamid || wamid->empty()) {
            fail(path, "message without id", item);
            return;
        }
        InboundMessage m;
        m.path = path;
        m.phone_number_id = ctx.phone_number_id;
        m.wamid = std::move(*wamid);
        m.from = text_or_empty(item, "from");
        m.from_user_id = text(item, "from_user_id");
        m.type = text_or_empty(item, "type");
        m.timestamp = meta_time(item, "timestamp");
        m.raw_json = dump(item);
        if (const Json* contact = sender_contact(ctx, m.from, m.from_user_id)) {
            m.contact_json = dump(*contact);
            m.identity_key_hash = text(*contact, "identity_key_hash");
            if (!m.from_user_id || m.from_user_id->empty()) {
                if (auto contact_user = text(*contact, "user_id"); contact_user && !contact_user->empty()) {
                    m.from_user_id = std::move(contact_user);
                }
            }
        }
        if (m.phone_number_id.empty()) {
            fail(path, "message without value.metadata.phone_number_id", item);
            return;
        }
        if (m.user_key().empty()) {
            fail(path, "message without from or from_user_id", item);
            return;
        }
        if (const Json* reaction = member(item, "reaction"); reaction && m.type == "reaction") {
            Reaction r;
            r.message_id = text_or_empty(*reaction, "message_id");
            r.emoji = text(*reaction, "emoji");
            if (r.emoji && r.emoji->empty()) {
                r.emoji.reset();
            }
            if (!r.message_id.empty()) {
                m.reaction = std::move(r);
            }
        }
        if (const Json* revoke = member(item, "revoke"); revoke && m.type == "revoke") {
            if (auto original = text(*revoke, "original_message_id"); original && !original->empty()) {
                m.revokes = std::move(*original);
            }
        }
        if (const Json* identity = member(item, "identity")) {
            // Legacy security notification on a message: an unacknowledged identity change.
            if (const Json* acknowledged = member(*identity, "acknowledged");
                acknowledged && acknowledged->is_boolean() && !acknowledged->get<bool>()) {
                m.identity_change = IdentityChange{m.user_key(), IdentityChange::Reason::kIdentityChanged};
            }
        }
        if (const Json* system = member(item, "system"); system && m.type == "system") {
            system_message(*system, m);
        }
        out_.messages.push_back(std::move(m));
    }

    static void system_message(const Json& system, InboundMessage& m) {
        const std::string kind = text_or_empty(system, "type");
        if (kind == "customer_identity_changed" || kind == "user_identity_changed") {
            std::string who = text_or_empty(system, "customer");
            m.identity_change = IdentityChange{who.empty() ? m.user_key() : who,
                                               IdentityChange::Reason::kIdentityChanged};
        } else if (kind == "user_changed_number" || kind == "customer_changed_number") {
            // The old number may now belong to someone else: block it until acknowledged.
            std::string old_id = text_or_empty(system, "customer");
            if (old_id.empty()) {
                old_id = m.user_key();
            }
            m.identity_change = IdentityChange{old_id, IdentityChange::Reason::kNumberChanged};
            if (auto new_id = text(system, "wa_id"); new_id && !new_id->empty() && *new_id != old_id) {
                m.new_number = NewNumber{old_id, *new_id};
            }
        }
    }

    void account(const std::string& path, const std::string& waba_id, const std::string& field,
                 std::int64_t time, const Json& value, const std::string& phone_number_id = {}) {
        AccountUpdate u;
        u.path = path;
        u.phone_number_id = phone_number_id;
        u.waba_id = waba_id;
        u.field = field;
        u.entry_time = time;
        u.value_json = dump(value);
        u.effects = account_effects(field, u.value_json);
        out_.account_updates.push_back(std::move(u));
    }

    void fail(const std::string& path, std::string reason, const Json& fragment) {
        out_.failures.push_back(ItemFailure{path, std::move(reason), dump(fragment)});
    }

    ParsedDelivery& out_;
};

}  // namespace

const std::string& InboundMessage::user_key() const noexcept {
    static const std::string kEmpty;
    if (!from.empty()) {
        return from;
    }
    return from_user_id ? *from_user_id : kEmpty;
}

ParsedDelivery parse_delivery(std::string_view body) {
    ParsedDelivery out;
    using send_validation::ScanProblem;
    const ScanProblem problem = send_validation::scan_json_text(body, kMaxDepth);
    if (problem != ScanProblem::kNone) {
        out.failures.push_back(ItemFailure{
            "$", problem == ScanProblem::kTooDeep ? "nested too deeply" : "not valid UTF-8", ""});
        return out;
    }
    auto json = send_validation::parse_json(body);
    if (!json || !json->is_object()) {
        // The body itself stays in webhook_deliveries; the fragment would only repeat it.
        out.failures.push_back(ItemFailure{"$", "not a JSON object", ""});
        return out;
    }
    if (body.find("\\u0000") != std::string_view::npos) {
        replace_nul(*json);
    }
    Reader(out).envelope(*json);
    return out;
}

}  // namespace wagate::domain::webhook
