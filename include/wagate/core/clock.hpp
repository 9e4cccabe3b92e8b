#pragma once

#include <chrono>

namespace wagate {

/// The source of "now" for every rule that depends on time, so tests can move time by hand.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const noexcept = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const noexcept override {
        return std::chrono::system_clock::now();
    }
};

}  // namespace wagate
