#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <vector>

namespace wagate::test {

/// The `q`-quantile of `samples` by nearest rank (q = 0.99: the value 99% of samples do not
/// exceed); zero for no samples.
inline std::chrono::microseconds percentile(std::vector<std::chrono::microseconds> samples,
                                            double q) {
    if (samples.empty()) {
        return std::chrono::microseconds(0);
    }
    std::sort(samples.begin(), samples.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::clamp<std::size_t>(rank, 1, samples.size()) - 1];
}

/// How slow real requests may get while slow clients hold connections open: ten times their p99
/// measured just before in the same test, but never under 50 ms.
///
/// Why this bound: on loopback a request to a trivial handler takes well under a millisecond, and
/// on a loaded 2-core machine a scheduling hiccup adds a few milliseconds, rarely tens; 10x the
/// baseline and the 50 ms floor absorb that. A request that waited *behind* a slow client instead
/// (a session served inline on the accept loop, an I/O thread blocked in a read, a connection slot
/// freed only by a timeout) would wait for at least one trickle interval of the attack (the
/// tests use 100-250 ms) or one timeout (0.5-2 s), and so exceed the bound several times over.
inline std::chrono::microseconds attack_latency_bound(std::chrono::microseconds baseline_p99) {
    return std::max<std::chrono::microseconds>(10 * baseline_p99, std::chrono::milliseconds(50));
}

}  // namespace wagate::test
