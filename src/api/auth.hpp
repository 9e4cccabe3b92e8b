#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/clock.hpp>
#include <wagate/core/error.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/domain/api_error.hpp>
#include <wagate/http/message.hpp>

#include "api/key_rate_limit.hpp"

namespace wagate::store {
class TenantStore;
}

namespace wagate::api {

/// A newly minted API key: `wag_<32 hex id>_<48 hex secret>`. The id finds the stored row; the
/// whole key's SHA-256 is what is stored and compared.
struct MintedKey {
    std::string id;
    std::string key;
    crypto::Sha256 hash{};
};
MintedKey mint_api_key(std::string id_hex);

/// Pure. The id part of a well-formed key, or empty.
std::string api_key_id_of(std::string_view key);

/// The bearer token of an Authorization header, or empty.
std::string_view bearer_token(const http::Request& request);

struct AuthenticatedKey {
    std::string id;
    std::vector<std::string> phone_number_ids;
    bool may_use(std::string_view phone_number_id) const;
};

/// Authenticates API keys, applies the per-key request rate limit, and knows which phone numbers
/// exist, with a short-lived cache so the hot path does not query PostgreSQL on every request.
/// Thread-safe.
class Authenticator {
public:
    /// `key_rate_limit`: requests per second per key (0: no limit), judged by `clock`.
    Authenticator(store::TenantStore& tenants, std::chrono::milliseconds ttl, double key_rate_limit,
                  const Clock& clock);

    /// 401 for a missing, malformed, unknown or revoked key; 429 (code 4, Retry-After) for a key
    /// over its rate limit; 503 when the database is down.
    boost::asio::awaitable<domain::ApiResult<AuthenticatedKey>> authenticate(const http::Request& request);

    /// Whether the phone number exists. Errors: as the store's.
    boost::asio::awaitable<Result<bool>> phone_number_exists(const std::string& phone_number_id);

    /// Forgets a key at once (after revocation through this instance).
    void forget_key(const std::string& key_id);
    /// Forgets a phone number's cached existence (after it is created through this instance).
    void forget_phone_number(const std::string& phone_number_id);

private:
    struct CachedKey {
        bool found = false;
        crypto::Sha256 hash{};
        bool revoked = false;
        std::vector<std::string> phone_number_ids;
        std::chrono::steady_clock::time_point fetched;
    };
    struct CachedPhone {
        bool exists = false;
        std::chrono::steady_clock::time_point fetched;
    };

    store::TenantStore& tenants_;
    std::chrono::milliseconds ttl_;
    KeyRateLimiter rate_limiter_;
    const Clock& clock_;
    std::mutex mutex_;
    std::unordered_map<std::string, CachedKey> keys_;
    std::unordered_map<std::string, CachedPhone> phones_;
};

/// Constant-time check of the admin bearer token; false when no admin token is configured.
bool admin_authorized(const http::Request& request, const std::string& admin_token);

}  // namespace wagate::api
