#include <wagate/domain/policy.hpp>

#include <charconv>

namespace wagate::domain::policy {
namespace {

struct TierRow {
    Tier tier;
    std::string_view name;
    std::int64_t limit;  // 0 = unlimited
};

constexpr TierRow kTiers[] = {
    {Tier::k50, "TIER_50", 50},        {Tier::k250, "TIER_250", 250},
    {Tier::k1K, "TIER_1K", 1000},      {Tier::k2K, "TIER_2K", 2000},
    {Tier::k10K, "TIER_10K", 10000},   {Tier::k100K, "TIER_100K", 100000},
    {Tier::kUnlimited, "TIER_UNLIMITED", 0},
};

static_assert(kTiers[static_cast<int>(Tier::kUnlimited)].tier == Tier::kUnlimited,
              "kTiers is indexed by Tier");

const TierRow& row(Tier tier) noexcept { return kTiers[static_cast<int>(tier)]; }

}  // namespace

std::optional<Tier> parse_tier(std::string_view name) noexcept {
    for (const auto& r : kTiers) {
        if (r.name == name) { return r.tier; }
    }
    return std::nullopt;
}

std::string_view to_string(Tier tier) noexcept { return row(tier).name; }

std::optional<Tier> tier_from_limit(std::int64_t value) noexcept {
    for (const auto& r : kTiers) {
        if (r.limit != 0 && r.limit == value) { return r.tier; }
    }
    return std::nullopt;
}

std::optional<Tier> parse_meta_tier(std::string_view value) noexcept {
    if (auto tier = parse_tier(value)) { return tier; }
    std::int64_t n = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc{} || ptr != end) { return std::nullopt; }
    return tier_from_limit(n);
}

std::optional<std::int64_t> limit(Tier tier) noexcept {
    const auto l = row(tier).limit;
    return l == 0 ? std::nullopt : std::optional<std::int64_t>{l};
}

std::optional<Tier> next_tier(Tier tier) noexcept {
    switch (tier) {
        case Tier::k50: return Tier::k250;
        case Tier::k250: return Tier::k2K;
        case Tier::k1K: return Tier::k10K;  // the pre-2025 ladder skipped 2K
        case Tier::k2K: return Tier::k10K;
        case Tier::k10K: return Tier::k100K;
        case Tier::k100K: return Tier::kUnlimited;
        case Tier::kUnlimited: return std::nullopt;
    }
    return std::nullopt;
}

// 250 is the floor: TIER_50 was the unverified starting tier, never a downgrade target.
std::optional<Tier> previous_tier(Tier tier) noexcept {
    switch (tier) {
        case Tier::k50:
        case Tier::k250: return std::nullopt;
        case Tier::k1K:
        case Tier::k2K: return Tier::k250;
        case Tier::k10K: return Tier::k2K;
        case Tier::k100K: return Tier::k10K;
        case Tier::kUnlimited: return Tier::k100K;
    }
    return std::nullopt;
}

}  // namespace wagate::domain::policy
