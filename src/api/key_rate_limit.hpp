#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include <wagate/domain/relay.hpp>

namespace wagate::api {

/// The per-API-key request limit (WAGATE_KEY_RATE_LIMIT): on average `per_second` requests a
/// second per key, with bursts of one second's worth, as a GCRA per key. It is kept in memory, so
/// each instance enforces it on its own: N instances behind a balancer admit up to N times the
/// rate (docs/operations.md). Thread-safe.
class KeyRateLimiter {
public:
    /// `per_second` 0 turns the limit off.
    explicit KeyRateLimiter(double per_second);

    bool enabled() const noexcept { return enabled_; }

    /// Zero when a request with this key may go ahead at `now` (it is counted); otherwise how
    /// long until one would be admitted (nothing is counted).
    std::chrono::milliseconds admit(const std::string& key_id, domain::relay::TimePoint now);

private:
    bool enabled_ = false;
    domain::relay::Gcra gcra_;
    std::mutex mutex_;
    std::unordered_map<std::string, domain::relay::TimePoint> next_;  // per key: the GCRA's TAT
};

}  // namespace wagate::api
