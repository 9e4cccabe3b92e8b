#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

struct Contact {
    std::string phone_number_id;
    std::string wa_id;
    std::optional<std::chrono::system_clock::time_point> last_inbound_at;
    bool opted_in = false;
    bool opted_out = false;
    bool identity_ack_required = false;
};

/// What an admin change sets; absent fields keep their value.
struct ContactChanges {
    std::optional<bool> opted_in;  // false = opted out
    std::string consent_source;    // recorded with a consent change
    /// Renews the window; never moves it backwards (the later timestamp wins).
    std::optional<std::chrono::system_clock::time_point> last_inbound_at;
};

/// Contacts of a phone number: window, consent (with its audit trail) and identity state.
/// Thread-safe.
class ContactStore {
public:
    explicit ContactStore(pg::Pool& pool) : pool_(pool) {}

    boost::asio::awaitable<Result<std::optional<Contact>>> get(const std::string& phone_number_id,
                                                               const std::string& wa_id);
    /// Creates the contact if needed; a consent change also appends an audit event, in the same
    /// statement. Errors: kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<Contact>> change(const std::string& phone_number_id,
                                                   const std::string& wa_id,
                                                   const ContactChanges& changes);
    /// Clears identity_ack_required; nullopt when the contact does not exist.
    boost::asio::awaitable<Result<std::optional<Contact>>> acknowledge_identity(
        const std::string& phone_number_id, const std::string& wa_id);

private:
    pg::Pool& pool_;
};

}  // namespace wagate::store
