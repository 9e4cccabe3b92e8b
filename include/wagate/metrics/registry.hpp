#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wagate::metrics {

/// Label names and values of one series, in the order given. Values must come from small,
/// fixed sets (route patterns, status codes, error codes): never a user's number or a message id.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// Cumulative buckets with fixed upper bounds (seconds), a sum and a count; lock-free.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double seconds) noexcept;

    const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
    /// Per-bucket (not cumulative) counts; the last is the +Inf overflow.
    std::vector<std::uint64_t> bucket_counts() const;
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<double> sum_{0};
    std::atomic<std::uint64_t> count_{0};
};

/// Latency buckets from 0.5 ms to 10 s, for request and upstream durations.
std::vector<double> latency_buckets();

/// The process's metrics, rendered in Prometheus' text format (version 0.0.4). Series are
/// created on first use and live as long as the registry, so callers may keep the references
/// returned; looking one up takes a lock, updating one does not. Thread-safe.
class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                         std::vector<double> upper_bounds = latency_buckets());
    /// A counter or gauge whose value is read from `read` at each scrape (for values another
    /// component already keeps, such as the relay's totals or the pool's use).
    void counter_from(std::string_view name, std::string_view help, const Labels& labels,
                      std::function<double()> read);
    void gauge_from(std::string_view name, std::string_view help, const Labels& labels,
                    std::function<double()> read);

    std::string render() const;

private:
    struct Family;
    Family& family(std::string_view name, std::string_view help, int kind);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace wagate::metrics
