#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wagate::domain::webhook {

// Meta's webhook bodies (reference/webhooks.md), read into the items the gateway applies. Pure:
// no I/O, thread-safe. Parsing is lenient (ids and timestamps as strings or numbers, unknown
// fields and types kept in the raw fragments) and isolated per item: an item that cannot be read
// becomes an ItemFailure and never costs its neighbours. Any byte sequence is safe to parse.

/// A Unix time in seconds as Meta sends it; `known` is false when the item had none that could
/// be read (the processor then uses the delivery's arrival time).
struct MetaTime {
    std::int64_t seconds = 0;
    bool known = false;
};

/// One `statuses[]` item about an outbound message.
struct StatusUpdate {
    std::string path;             // where it was in the body, e.g. entry[0].changes[0].value.statuses[2]
    std::string phone_number_id;  // value.metadata.phone_number_id ("" in On-Premises bodies)
    std::string wamid;
    std::string status;           // lower-case: sent, delivered, read, played, failed, warning, or unknown
    std::string participant;      // recipient_participant_id for group sends, else ""
    MetaTime timestamp;
    std::optional<std::string> errors_json;  // the errors array, whole
    std::optional<std::string> pricing_json;
    std::optional<std::string> conversation_json;
    std::optional<std::string> biz_opaque_callback_data;
    std::string raw_json;  // the item as received
};

/// A user's message to the business was deleted (`revoke`, or the On-Premises `deleted` status):
/// its stored content is erased and a tombstone kept.
struct Tombstone {
    std::string path;
    std::string phone_number_id;
    std::string wamid;  // the deleted inbound message
    std::string wa_id;  // who deleted it, if known
    MetaTime timestamp;
    /// Derived from a revoke message (which the business hears as that message) rather than
    /// from a `deleted` status (which it hears as that status).
    bool from_revoke = false;
};

/// A reaction (or its removal: no emoji) by the sender of the message carrying it.
struct Reaction {
    std::string message_id;        // the wamid reacted to
    std::optional<std::string> emoji;  // nullopt or empty in the webhook: removed
};

/// Something Meta says about a user's identity.
struct IdentityChange {
    std::string wa_id;  // the user whose messages must now wait for an acknowledgement
    enum class Reason { kIdentityChanged, kNumberChanged } reason = Reason::kIdentityChanged;
};

/// A user now known under a new wa_id (user_changed_number): recorded as a contact with the
/// window of the system message.
struct NewNumber {
    std::string old_wa_id;
    std::string new_wa_id;
};

/// One `messages[]` item: an inbound message of any type.
struct InboundMessage {
    std::string path;
    std::string phone_number_id;
    std::string wamid;
    std::string from;                          // "" for username users
    std::optional<std::string> from_user_id;   // BSUID
    std::string type;                          // as sent; "" if absent
    MetaTime timestamp;
    std::string raw_json;
    std::optional<std::string> contact_json;   // the value.contacts[] entry of the sender
    std::optional<std::string> identity_key_hash;
    std::optional<Reaction> reaction;
    std::optional<IdentityChange> identity_change;
    std::optional<NewNumber> new_number;
    std::optional<std::string> revokes;        // revoke.original_message_id

    /// The user as the window and contacts know them: `from`, or the BSUID when `from` is empty.
    const std::string& user_key() const noexcept;
};

/// What an account-level field changes in the gateway's state, beyond being stored.
struct AccountEffect {
    enum class Kind {
        kBusinessTier,      // value: TIER_*; the business owning the WABA (or the number)
        kNumberStatus,      // value: CONNECTED / FLAGGED / RESTRICTED
        kNumberQuality,     // value: GREEN / YELLOW / RED / UNKNOWN
        kTemplateStatus,    // value: Meta's event (APPROVED, PAUSED, UNARCHIVED, ...)
        kTemplateQuality,   // value: GREEN / YELLOW / RED / UNKNOWN
        kTemplateCategory,  // value: MARKETING / UTILITY / AUTHENTICATION
    };
    Kind kind = Kind::kBusinessTier;
    std::string value;
    /// Number effects: the number by its display number; "" means every number of the WABA.
    std::string display_phone_number;
    /// Template effects.
    std::string template_name;
    std::string template_language;
    std::string template_id;
};

/// One account-level change (any field but `messages`), or a value-level `errors` array
/// (field "errors"), or a `messages` value carrying nothing the gateway knows (field "messages").
struct AccountUpdate {
    std::string path;
    std::string waba_id;  // entry.id
    std::string field;
    std::int64_t entry_time = 0;  // entry.time; 0 when absent
    std::string phone_number_id;  // value.metadata.phone_number_id of a `messages` value, else ""
    std::string value_json;
    std::vector<AccountEffect> effects;
};

struct ItemFailure {
    std::string path;
    std::string reason;
    std::string fragment;
};

struct ParsedDelivery {
    std::vector<StatusUpdate> statuses;
    std::vector<InboundMessage> messages;
    std::vector<Tombstone> tombstones;
    std::vector<AccountUpdate> account_updates;
    std::vector<ItemFailure> failures;

    std::size_t item_count() const noexcept {
        return statuses.size() + messages.size() + tombstones.size() + account_updates.size() + failures.size();
    }
};

/// Reads a verified webhook body: the Cloud API envelope (object/entry/changes/value) and the
/// On-Premises shape (top-level statuses/messages/errors). Never throws.
ParsedDelivery parse_delivery(std::string_view body);

/// The effects of one account-level field's value (reference §7); empty for fields that are only
/// stored. Exposed for tests.
std::vector<AccountEffect> account_effects(std::string_view field, std::string_view value_json);

/// Meta's messaging-limit forms as a tier: "TIER_2K", 2000, "2000", -1 (unlimited), "TIER_NOT_SET"
/// (nullopt), "TIER_1K" (legacy, kept). nullopt for anything else.
std::optional<std::string> tier_from_meta(std::string_view text_or_number);

/// Template status after Meta's template event `event` given the current status: UNARCHIVED
/// restores `before_archive` (APPROVED when unknown), REINSTATED is APPROVED, every other event is
/// the status of the same name. nullopt for events that do not change the status.
std::optional<std::string> template_status_after(std::string_view event, std::string_view before_archive);

}  // namespace wagate::domain::webhook
