#include "api/auth.hpp"

#include <algorithm>

#include <wagate/crypto/random.hpp>
#include <wagate/store/tenant_store.hpp>

namespace wagate::api {
namespace asio = boost::asio;
using domain::api_errors::unauthenticated;

namespace {
constexpr std::string_view kKeyPrefix = "wag_";
constexpr std::size_t kIdHex = 32;
constexpr std::size_t kSecretHex = 48;
// Bounds memory against a flood of random keys: the cache is simply emptied when it is this big.
constexpr std::size_t kMaxCacheEntries = 100'000;

bool is_lower_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

MintedKey mint_api_key(std::string id_hex) {
    MintedKey minted;
    minted.id = std::move(id_hex);
    minted.key = std::string(kKeyPrefix) + minted.id + "_" + crypto::random_hex(kSecretHex / 2);
    minted.hash = crypto::sha256(minted.key);
    return minted;
}

std::string api_key_id_of(std::string_view key) {
    if (key.size() != kKeyPrefix.size() + kIdHex + 1 + kSecretHex || !key.starts_with(kKeyPrefix) ||
        key[kKeyPrefix.size() + kIdHex] != '_') {
        return {};
    }
    const std::string_view id = key.substr(kKeyPrefix.size(), kIdHex);
    const std::string_view secret = key.substr(kKeyPrefix.size() + kIdHex + 1);
    if (!is_lower_hex(id) || !is_lower_hex(secret)) {
        return {};
    }
    return std::string(id);
}

std::string_view bearer_token(const http::Request& request) {
    std::string_view value = request.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (value.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), value.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return {};
    }
    value.remove_prefix(kBearer.size());
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    while (!value.empty() && value.back() == ' ') {
        value.remove_suffix(1);
    }
    return value;
}

bool AuthenticatedKey::may_use(std::string_view phone_number_id) const {
    return std::find(phone_number_ids.begin(), phone_number_ids.end(), phone_number_id) !=
           phone_number_ids.end();
}

Authenticator::Authenticator(store::TenantStore& tenants, std::chrono::milliseconds ttl,
                             double key_rate_limit, const Clock& clock)
    : tenants_(tenants), ttl_(ttl), rate_limiter_(key_rate_limit), clock_(clock) {}

asio::awaitable<domain::ApiResult<AuthenticatedKey>> Authenticator::authenticate(
    const http::Request& request) {
    const std::string_view key = bearer_token(request);
    if (key.empty()) {
        co_return unauthenticated("Authorization: a Bearer API key is required");
    }
    const std::string id = api_key_id_of(key);
    if (id.empty()) {
        co_return unauthenticated("Authorization: malformed API key");
    }
    const auto now = std::chrono::steady_clock::now();
    std::optional<CachedKey> cached;
    {
        std::lock_guard lock(mutex_);
        if (auto it = keys_.find(id); it != keys_.end() && now - it->second.fetched < ttl_) {
            cached = it->second;
        }
    }
    if (!cached) {
        auto found = co_await tenants_.find_api_key(id);
        if (!found) {
            co_return domain::api_errors::db_unavailable("the database is unavailable; retry later");
        }
        CachedKey entry;
        entry.fetched = now;
        if (*found) {
            entry.found = true;
            entry.hash = (*found)->key_hash;
            entry.revoked = (*found)->revoked;
            entry.phone_number_ids = std::move((*found)->phone_number_ids);
        }
        {
            std::lock_guard lock(mutex_);
            if (keys_.size() >= kMaxCacheEntries) {
                keys_.clear();
            }
            keys_[id] = entry;
        }
        cached = std::move(entry);
    }
    // Compare even for unknown ids, so the answer takes the same time either way.
    const bool matches = crypto::constant_time_equal(crypto::sha256(key), cached->hash);
    if (!cached->found || !matches || cached->revoked) {
        co_return unauthenticated("Authorization: unknown or revoked API key");
    }
    // Only a key that authenticated counts against a limit: nobody can spend another's budget.
    if (const auto wait = rate_limiter_.admit(id, clock_.now()); wait.count() > 0) {
        const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
        co_return domain::api_errors::too_many_calls(
            "Authorization: this API key is over its request rate limit (WAGATE_KEY_RATE_LIMIT); retry in " +
                std::to_string(seconds) + " s",
            static_cast<int>(seconds));
    }
    co_return AuthenticatedKey{id, cached->phone_number_ids};
}

asio::awaitable<Result<bool>> Authenticator::phone_number_exists(const std::string& phone_number_id) {
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        if (auto it = phones_.find(phone_number_id); it != phones_.end() && now - it->second.fetched < ttl_) {
            co_return it->second.exists;
        }
    }
    auto found = co_await tenants_.get_phone_number(phone_number_id);
    if (!found) {
        co_return found.error();
    }
    const bool exists = found->has_value();
    std::lock_guard lock(mutex_);
    if (phones_.size() >= kMaxCacheEntries) {
        phones_.clear();
    }
    phones_[phone_number_id] = CachedPhone{exists, now};
    co_return exists;
}

void Authenticator::forget_key(const std::string& key_id) {
    std::lock_guard lock(mutex_);
    keys_.erase(key_id);
}

void Authenticator::forget_phone_number(const std::string& phone_number_id) {
    std::lock_guard lock(mutex_);
    phones_.erase(phone_number_id);
}

bool admin_authorized(const http::Request& request, const std::string& admin_token) {
    const std::string_view token = bearer_token(request);
    // Evaluate the comparison even when unconfigured, then refuse: no timing difference.
    const bool equal = crypto::constant_time_equal(token, admin_token);
    return !admin_token.empty() && !token.empty() && equal;
}

}  // namespace wagate::api
