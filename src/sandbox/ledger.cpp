#include "sandbox/ledger.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace wagate::sandbox {
namespace {

void append_string(std::string& out, const std::string& value) {
    out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The payload as JSON text; a UTF-8 byte order mark (which the parser skips) would not be.
std::string_view payload_text(const std::string& payload) {
    std::string_view text = payload;
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);
    }
    return text;
}

}  // namespace

Ledger::Ledger(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::uint64_t Ledger::add(RecordedSend send) {
    std::lock_guard lock(mutex_);
    send.seq = ++total_;
    if (ring_.size() < capacity_) {
        ring_.push_back(std::move(send));
    } else {
        ring_[(send.seq - 1) % capacity_] = std::move(send);
    }
    return total_;
}

std::uint64_t Ledger::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

std::string Ledger::render(std::uint64_t after, std::size_t limit) const {
    std::lock_guard lock(mutex_);
    std::string out = "{\"total\":" + std::to_string(total_) + ",\"messages\":[";
    const std::uint64_t oldest = total_ - ring_.size() + 1;
    std::size_t written = 0;
    for (std::uint64_t seq = std::max(oldest, after + 1); seq <= total_ && written < limit; ++seq, ++written) {
        const RecordedSend& s = ring_[(seq - 1) % capacity_];
        if (written > 0) {
            out += ',';
        }
        out += "{\"seq\":" + std::to_string(s.seq) + ",\"wamid\":";
        append_string(out, s.wamid);
        out += ",\"phone_number_id\":";
        append_string(out, s.phone_number_id);
        out += ",\"to\":";
        append_string(out, s.to);
        out += ",\"type\":";
        append_string(out, s.type);
        out += ",\"received_at\":";
        append_string(out, rfc3339_ms(s.received_at_ms));
        out += ",\"statuses\":[";
        for (std::size_t i = 0; i < s.statuses.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            append_string(out, s.statuses[i]);
        }
        out += "],\"payload\":";
        out += payload_text(s.payload);
        out += '}';
    }
    out += "]}";
    return out;
}

std::string rfc3339_ms(std::int64_t unix_ms) {
    const time_t seconds = static_cast<time_t>(unix_ms / 1000);
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char buf[96];  // room for any int the compiler can imagine in each field
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
    return buf;
}

}  // namespace wagate::sandbox
