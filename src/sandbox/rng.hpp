#pragma once

#include <cstdint>
#include <random>

namespace wagate::sandbox {

/// Every random decision of the sandbox draws from one of these, seeded from `sandbox_seed`, so
/// that a fixed seed and the same sequence of requests give the same ids and outcomes.
using Rng = std::mt19937_64;

/// True with probability `rate`. 0 and 1 are exact and draw nothing, so a rate that is off never
/// shifts the sequence the other decisions see.
inline bool chance(double rate, Rng& rng) {
    if (rate <= 0) {
        return false;
    }
    if (rate >= 1) {
        return true;
    }
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate;
}

}  // namespace wagate::sandbox
