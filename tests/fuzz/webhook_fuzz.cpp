// Fuzz target: Meta's webhook POST body from raw bytes, through every pure step that runs on it
// before the database: the X-Hub-Signature-256 check over the raw bytes (api/meta_webhook.cpp),
// domain::webhook::parse_delivery (pre-scan, parse, envelope, statuses, messages, tombstones,
// account updates and their effects), and what store/webhook_processor.cpp derives from each
// item without I/O (user_key, the window-renewal kind, template status transitions).
//
// Invariants:
//  - no crash, no sanitizer report, no exception (parse_delivery promises never to throw);
//  - the signature of the body under the secret verifies; under another secret, or altered, it
//    does not; an arbitrary header taken from the input never crashes the check;
//  - item_count() is the sum of the parts; a body-level failure ("$") stands alone;
//  - every string that goes to a text or jsonb column is valid UTF-8 without NUL; the stored
//    JSON fragments parse; paths start at "$" or "entry";
//  - statuses have an id and a lower-case status; messages have an id, a phone number id and a
//    user key; known times lie within 0 .. 10^12; effects carry only the values the processor
//    knows (tiers, qualities, number statuses).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/domain/policy.hpp>
#include <wagate/domain/webhook.hpp>

#include "fuzz_check.hpp"

namespace {

namespace wh = wagate::domain::webhook;
namespace policy = wagate::domain::policy;
using wagate::fuzz::excerpt;
using wagate::fuzz::is_pg_text;

const std::vector<std::string> kSecrets = {"fuzz-app-secret-0123456789", "fuzz-app-secret-rotated"};
const std::vector<std::string> kOtherSecret = {"not-the-secret"};

void check_signature(std::string_view body) {
    const std::string header = "sha256=" + wagate::crypto::to_hex(wagate::crypto::hmac_sha256(kSecrets[1], body));
    FUZZ_CHECK(wagate::crypto::verify_hub_signature(header, body, kSecrets), "own signature does not verify");
    FUZZ_CHECK(!wagate::crypto::verify_hub_signature(header, body, kOtherSecret), "verifies under another secret");
    FUZZ_CHECK(!wagate::crypto::verify_hub_signature(header, body, {}), "verifies with no secret");
    std::string upper = header;
    for (std::size_t i = 7; i < upper.size(); ++i) {
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    }
    FUZZ_CHECK(wagate::crypto::verify_hub_signature(upper, body, kSecrets), "upper-case hex does not verify");
    std::string altered(body);
    altered.push_back('\n');
    FUZZ_CHECK(!wagate::crypto::verify_hub_signature(header, altered, kSecrets), "altered body verifies");
    // The input's first line as a hostile header value.
    const std::string_view first_line = body.substr(0, body.find('\n'));
    (void)wagate::crypto::verify_hub_signature(first_line.substr(0, 200), body, kSecrets);
}

void check_text(std::string_view s, const std::string& what, std::string_view body) {
    FUZZ_CHECK(is_pg_text(s), what + " is not storable text: " + excerpt(s) + " | input: " + excerpt(body));
}

void check_json(std::string_view s, const std::string& what, std::string_view body) {
    check_text(s, what, body);
    FUZZ_CHECK(!nlohmann::json::parse(s, nullptr, false).is_discarded(),
               what + " is not JSON: " + excerpt(s) + " | input: " + excerpt(body));
}

void check_path(const std::string& path, std::string_view body) {
    check_text(path, "path", body);
    FUZZ_CHECK(path.starts_with("$") || path.starts_with("entry"), "path " + path + " | input: " + excerpt(body));
}

void check_time(const wh::MetaTime& t, std::string_view body) {
    FUZZ_CHECK(!t.known || (t.seconds >= 0 && t.seconds <= 1'000'000'000'000), "time out of range: " + excerpt(body));
}

bool is_tier(const std::string& v) {
    return v == "TIER_50" || v == "TIER_250" || v == "TIER_1K" || v == "TIER_2K" || v == "TIER_10K" ||
           v == "TIER_100K" || v == "TIER_UNLIMITED";
}

bool is_quality(const std::string& v) { return v == "GREEN" || v == "YELLOW" || v == "RED" || v == "UNKNOWN"; }

void check_effect(const wh::AccountEffect& e, std::string_view body) {
    using Kind = wh::AccountEffect::Kind;
    const std::string where = "effect value " + excerpt(e.value) + " | input: " + excerpt(body);
    for (const std::string* s : {&e.value, &e.display_phone_number, &e.template_name, &e.template_language,
                                 &e.template_id}) {
        check_text(*s, "effect field", body);
    }
    switch (e.kind) {
        case Kind::kBusinessTier:
            FUZZ_CHECK(is_tier(e.value), where);
            break;
        case Kind::kNumberStatus:
            FUZZ_CHECK(e.value == "FLAGGED" || e.value == "CONNECTED" || e.value == "RESTRICTED", where);
            break;
        case Kind::kNumberQuality:
        case Kind::kTemplateQuality:
            FUZZ_CHECK(is_quality(e.value), where);
            break;
        case Kind::kTemplateStatus:
            FUZZ_CHECK(!e.value.empty(), where);
            // What the processor does with it: the next status, given none or a stored one.
            (void)wh::template_status_after(e.value, "");
            (void)wh::template_status_after(e.value, "PAUSED");
            break;
        case Kind::kTemplateCategory:
            FUZZ_CHECK(!e.value.empty(), where);
            break;
    }
}

void check_delivery(const wh::ParsedDelivery& d, std::string_view body) {
    FUZZ_CHECK(d.item_count() == d.statuses.size() + d.messages.size() + d.tombstones.size() +
                                     d.account_updates.size() + d.failures.size(),
               "item_count");
    for (const auto& f : d.failures) {
        check_path(f.path, body);
        check_text(f.reason, "failure reason", body);
        FUZZ_CHECK(!f.reason.empty(), "failure without a reason");
        if (f.path == "$" && f.fragment.empty()) {
            FUZZ_CHECK(d.item_count() == 1, "a body-level failure has neighbours: " + excerpt(body));
        } else {
            check_json(f.fragment, "failure fragment", body);
        }
    }
    const policy::WindowRenewalSettings renew_all{true, true, true};
    for (const auto& s : d.statuses) {
        check_path(s.path, body);
        check_json(s.raw_json, "status raw_json", body);
        for (const std::string* t : {&s.phone_number_id, &s.wamid, &s.status, &s.participant}) {
            check_text(*t, "status field", body);
        }
        for (const auto* j : {&s.errors_json, &s.pricing_json, &s.conversation_json}) {
            if (*j) {
                check_json(**j, "status member", body);
            }
        }
        if (s.biz_opaque_callback_data) {
            check_text(*s.biz_opaque_callback_data, "biz_opaque_callback_data", body);
        }
        FUZZ_CHECK(!s.wamid.empty() && !s.status.empty(), "status without id or status: " + excerpt(body));
        for (const char c : s.status) {
            FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "status not lower-case: " + s.status);
        }
        check_time(s.timestamp, body);
    }
    for (const auto& m : d.messages) {
        check_path(m.path, body);
        check_json(m.raw_json, "message raw_json", body);
        for (const std::string* t : {&m.phone_number_id, &m.wamid, &m.from, &m.type}) {
            check_text(*t, "message field", body);
        }
        for (const auto* o : {&m.from_user_id, &m.identity_key_hash, &m.revokes}) {
            if (*o) {
                check_text(**o, "message optional field", body);
            }
        }
        if (m.contact_json) {
            check_json(*m.contact_json, "contact_json", body);
        }
        FUZZ_CHECK(!m.wamid.empty() && !m.phone_number_id.empty() && !m.user_key().empty(),
                   "message without id, number or user: " + excerpt(body));
        check_time(m.timestamp, body);
        if (m.reaction) {
            FUZZ_CHECK(!m.reaction->message_id.empty(), "reaction without message id");
            FUZZ_CHECK(!m.reaction->emoji || !m.reaction->emoji->empty(), "empty emoji not reset");
        }
        if (m.identity_change) {
            check_text(m.identity_change->wa_id, "identity change wa_id", body);
        }
        if (m.new_number) {
            FUZZ_CHECK(m.new_number->old_wa_id != m.new_number->new_wa_id && !m.new_number->new_wa_id.empty(),
                       "new number equals old: " + excerpt(body));
        }
        // The processor's pure steps on a message.
        const auto kind = policy::inbound_kind_from_type(m.type);
        (void)policy::renews_window(kind, renew_all);
        (void)policy::renews_window(kind, policy::WindowRenewalSettings{});
    }
    for (const auto& t : d.tombstones) {
        check_path(t.path, body);
        for (const std::string* s : {&t.phone_number_id, &t.wamid, &t.wa_id}) {
            check_text(*s, "tombstone field", body);
        }
        FUZZ_CHECK(!t.wamid.empty(), "tombstone without id");
        check_time(t.timestamp, body);
    }
    for (const auto& u : d.account_updates) {
        check_path(u.path, body);
        check_json(u.value_json, "account value_json", body);
        for (const std::string* s : {&u.waba_id, &u.field, &u.phone_number_id}) {
            check_text(*s, "account field", body);
        }
        FUZZ_CHECK(!u.field.empty(), "account update without a field");
        for (const auto& e : u.effects) {
            check_effect(e, body);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    check_signature(body);
    const wh::ParsedDelivery parsed = wh::parse_delivery(body);
    check_delivery(parsed, body);
    // Meta's limit forms, as the account-effect reader meets them, straight from the bytes.
    if (size <= 32) {
        if (auto tier = wh::tier_from_meta(body)) {
            FUZZ_CHECK(is_tier(*tier), "tier_from_meta: " + *tier);
        }
    }
    return 0;
}
