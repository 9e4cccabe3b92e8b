#pragma once

#include <chrono>
#include <thread>

namespace wagate::test {

/// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false):
/// for effects that happen on the gateway's own threads after a call returned.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= give_up) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

}  // namespace wagate::test
