#include <wagate/metrics/registry.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace wagate::metrics {
namespace {

enum Kind { kCounter, kGauge, kHistogram };

const char* kind_name(int kind) {
    switch (kind) {
        case kCounter: return "counter";
        case kGauge: return "gauge";
        default: return "histogram";
    }
}

void append_escaped(std::string& out, std::string_view value, bool help) {
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && !help) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

/// `{a="x",b="y"}` (empty for no labels), with `extra` (such as le) last.
std::string label_text(const Labels& labels, const std::pair<std::string_view, std::string_view>* extra = nullptr) {
    if (labels.empty() && extra == nullptr) {
        return {};
    }
    std::string out = "{";
    auto one = [&out](std::string_view name, std::string_view value) {
        if (out.size() > 1) {
            out += ',';
        }
        out.append(name);
        out += "=\"";
        append_escaped(out, value, false);
        out += '"';
    };
    for (const auto& [name, value] : labels) {
        one(name, value);
    }
    if (extra != nullptr) {
        one(extra->first, extra->second);
    }
    out += '}';
    return out;
}

std::string number(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string number(std::uint64_t v) { return std::to_string(v); }

bool valid_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    std::sort(bounds_.begin(), bounds_.end());
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        buckets_[i].store(0, std::memory_order_relaxed);
    }
}

void Histogram::observe(double seconds) noexcept {
    const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
    buckets_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(seconds, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
    std::vector<std::uint64_t> counts(bounds_.size() + 1);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        counts[i] = buckets_[i].load(std::memory_order_relaxed);
    }
    return counts;
}

std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct Registry::Family {
    std::string help;
    int kind = kCounter;
    struct Series {
        Labels labels;
        std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>,
                     std::function<double()>>
            value;
    };
    std::map<std::string, Series, std::less<>> series;  // by label text

    template <class T, class... Args>
    T& get(const Labels& labels, Args&&... args) {
        std::string key = label_text(labels);
        auto it = series.find(key);
        if (it == series.end()) {
            it = series.emplace(std::move(key), Series{labels, std::make_unique<T>(std::forward<Args>(args)...)}).first;
        }
        auto* held = std::get_if<std::unique_ptr<T>>(&it->second.value);
        if (held == nullptr) {
            throw std::logic_error("metrics: a series is registered twice with different kinds");
        }
        return **held;
    }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, int kind) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        if (!valid_name(name)) {
            throw std::logic_error("metrics: invalid metric name " + std::string(name));
        }
        auto f = std::make_unique<Family>();
        f->help = help;
        f->kind = kind;
        it = families_.emplace(std::string(name), std::move(f)).first;
    } else if (it->second->kind != kind) {
        throw std::logic_error("metrics: " + std::string(name) + " is registered with two kinds");
    }
    return *it->second;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    return family(name, help, kCounter).get<Counter>(labels);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    return family(name, help, kGauge).get<Gauge>(labels);
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               std::vector<double> upper_bounds) {
    std::lock_guard lock(mutex_);
    return family(name, help, kHistogram).get<Histogram>(labels, std::move(upper_bounds));
}

void Registry::counter_from(std::string_view name, std::string_view help, const Labels& labels,
                            std::function<double()> read) {
    std::lock_guard lock(mutex_);
    family(name, help, kCounter).series.insert_or_assign(label_text(labels), Family::Series{labels, std::move(read)});
}

void Registry::gauge_from(std::string_view name, std::string_view help, const Labels& labels,
                          std::function<double()> read) {
    std::lock_guard lock(mutex_);
    family(name, help, kGauge).series.insert_or_assign(label_text(labels), Family::Series{labels, std::move(read)});
}

std::string Registry::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out.reserve(families_.size() * 256);
    for (const auto& [name, family] : families_) {
        out += "# HELP " + name + ' ';
        append_escaped(out, family->help, true);
        out += "\n# TYPE " + name + ' ' + kind_name(family->kind) + '\n';
        for (const auto& [labels_key, series] : family->series) {
            if (const auto* c = std::get_if<std::unique_ptr<Counter>>(&series.value)) {
                out += name + labels_key + ' ' + number((*c)->value()) + '\n';
            } else if (const auto* g = std::get_if<std::unique_ptr<Gauge>>(&series.value)) {
                out += name + labels_key + ' ' + number((*g)->value()) + '\n';
            } else if (const auto* read = std::get_if<std::function<double()>>(&series.value)) {
                out += name + labels_key + ' ' + number((*read)()) + '\n';
            } else {
                const Histogram& h = *std::get<std::unique_ptr<Histogram>>(series.value);
                const auto counts = h.bucket_counts();
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i < counts.size(); ++i) {
                    cumulative += counts[i];
                    const std::string le = i < h.upper_bounds().size() ? number(h.upper_bounds()[i]) : "+Inf";
                    const std::pair<std::string_view, std::string_view> extra{"le", le};
                    out += name + "_bucket" + label_text(series.labels, &extra) + ' ' + number(cumulative) + '\n';
                }
                // The count is the buckets' total, so it can never disagree with +Inf mid-update.
                out += name + "_sum" + labels_key + ' ' + number(h.sum()) + '\n';
                out += name + "_count" + labels_key + ' ' + number(cumulative) + '\n';
            }
        }
    }
    return out;
}

}  // namespace wagate::metrics
