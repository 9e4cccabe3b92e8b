#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/crypto/digest.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

struct Business {
    std::string id;
    std::string name;
    std::string messaging_limit_tier;
    std::string upgrade_rule;
    bool auto_upgrade = false;
    std::string created_at;
    std::string updated_at;
};

/// For upserts: an absent field keeps its current value (or the column default on creation).
struct BusinessChanges {
    std::optional<std::string> name;
    std::optional<std::string> messaging_limit_tier;
    std::optional<std::string> upgrade_rule;
    std::optional<bool> auto_upgrade;
    std::chrono::system_clock::time_point changed_at;  // the gateway clock's now, for the history
};

/// A phone number as shown to operators: the access token and callback secret are never read
/// back, only whether they are set.
struct PhoneNumber {
    std::string id;
    std::string business_id;
    std::string waba_id;
    std::string display_phone_number;
    double throughput_mps = 80;
    std::string quality_rating;
    std::string status;
    std::string callback_url;
    bool require_opt_in = true;
    bool has_access_token = false;
    bool has_callback_secret = false;
    std::string created_at;
    std::string updated_at;
};

struct PhoneNumberChanges {
    std::optional<std::string> business_id;  // required when the number is created
    std::optional<std::string> waba_id;
    std::optional<std::string> display_phone_number;
    std::optional<std::string> access_token;
    std::optional<double> throughput_mps;
    std::optional<std::string> quality_rating;
    std::optional<std::string> status;
    std::optional<std::string> callback_url;
    std::optional<std::string> callback_secret;
    std::optional<bool> require_opt_in;
    std::chrono::system_clock::time_point changed_at;  // the gateway clock's now, for the history
};

struct ApiKeyInfo {
    std::string id;  // 32 hex digits
    std::string name;
    std::vector<std::string> phone_number_ids;
    std::string created_at;
    std::optional<std::string> revoked_at;
};

/// What authentication needs about a key.
struct ApiKeyCredential {
    std::string id;
    crypto::Sha256 key_hash{};
    bool revoked = false;
    std::vector<std::string> phone_number_ids;
};

/// Businesses, phone numbers and API keys. Thread-safe (stateless over the pool).
class TenantStore {
public:
    explicit TenantStore(pg::Pool& pool) : pool_(pool) {}

    /// Creates or updates. Errors: kDbUnavailable, kTimeout, kInvalidArgument (a CHECK failed).
    boost::asio::awaitable<Result<Business>> upsert_business(const std::string& id,
                                                             const BusinessChanges& changes);
    boost::asio::awaitable<Result<std::optional<Business>>> get_business(const std::string& id);

    /// Creates or updates. Errors: kNotFound (business unknown, or missing on creation),
    /// kInvalidArgument, kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<PhoneNumber>> upsert_phone_number(const std::string& id,
                                                                    const PhoneNumberChanges& changes);
    boost::asio::awaitable<Result<std::optional<PhoneNumber>>> get_phone_number(const std::string& id);

    /// Stores a new key (only its hash) scoped to `phone_number_ids`.
    /// Errors: kNotFound (a phone number is unknown), kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<ApiKeyInfo>> create_api_key(const std::string& id,
                                                              const std::string& name,
                                                              const crypto::Sha256& key_hash,
                                                              const std::vector<std::string>& phone_number_ids);
    boost::asio::awaitable<Result<std::vector<ApiKeyInfo>>> list_api_keys();
    /// True if a live key was revoked; false if unknown or already revoked.
    boost::asio::awaitable<Result<bool>> revoke_api_key(const std::string& id);
    boost::asio::awaitable<Result<std::optional<ApiKeyCredential>>> find_api_key(const std::string& id);

private:
    pg::Pool& pool_;
};

}  // namespace wagate::store
