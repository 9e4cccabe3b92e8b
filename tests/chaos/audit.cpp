#include "chaos/audit.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace wagate::chaos {
namespace {

using nlohmann::json;

constexpr std::size_t kExamples = 5;  // violations of one kind listed before "… and N more"

/// Collects violations by rule, keeping a few examples of each.
class Violations {
public:
    void add(const std::string& rule, const std::string& example) {
        auto& v = by_rule_[rule];
        if (v.examples.size() < kExamples) {
            v.examples.push_back(example);
        }
        ++v.count;
        if (order_.insert(rule).second) {
            rules_.push_back(rule);
        }
    }
    std::vector<std::string> render() const {
        std::vector<std::string> out;
        for (const auto& rule : rules_) {
            const auto& v = by_rule_.at(rule);
            std::string line = rule + ": " + std::to_string(v.count) + " (";
            for (std::size_t i = 0; i < v.examples.size(); ++i) {
                line += (i ? ", " : "") + v.examples[i];
            }
            if (v.count > v.examples.size()) {
                line += ", …";
            }
            out.push_back(line + ")");
        }
        return out;
    }

private:
    struct Rule {
        std::vector<std::string> examples;
        std::size_t count = 0;
    };
    std::map<std::string, Rule> by_rule_;
    std::set<std::string> order_;
    std::vector<std::string> rules_;
};

/// Excuses repeats by the fault that was in force when their first copy arrived, within what
/// that fault could have caught in flight.
class RepeatExcuser {
public:
    RepeatExcuser(const std::vector<FaultWindow>& faults, const Tolerance& t, int in_flight)
        : faults_(faults), tolerance_(t), in_flight_(in_flight), used_(faults.size(), 0) {}

    /// True when `repeats` more copies of something first seen at `first_at` are excused.
    bool excuse(UnixMs first_at, std::int64_t repeats) {
        for (std::size_t i = 0; i < faults_.size(); ++i) {
            const FaultWindow& f = faults_[i];
            if (first_at < f.from - tolerance_.before_ms || first_at > f.to + tolerance_.after_ms) {
                continue;
            }
            if (used_[i] + repeats > static_cast<std::int64_t>(in_flight_) * f.in_flight_sets) {
                continue;  // more than this fault could have caught: try an overlapping one
            }
            used_[i] += repeats;
            return true;
        }
        return false;
    }
    std::int64_t used(std::size_t fault) const { return used_[fault]; }
    std::int64_t total() const {
        std::int64_t n = 0;
        for (auto u : used_) {
            n += u;
        }
        return n;
    }
    std::int64_t capacity() const {
        std::int64_t n = 0;
        for (const auto& f : faults_) {
            n += static_cast<std::int64_t>(in_flight_) * f.in_flight_sets;
        }
        return n;
    }

private:
    const std::vector<FaultWindow>& faults_;
    Tolerance tolerance_;
    int in_flight_;
    std::vector<std::int64_t> used_;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::int64_t Report::count(const std::string& name) const {
    for (const auto& [n, v] : counts) {
        if (n == name) {
            return v;
        }
    }
    return -1;
}

std::string event_identity(const json& body) {
    const json* value = nullptr;
    if (body.is_object() && body.contains("entry") && body["entry"].is_array() && !body["entry"].empty()) {
        const json& entry = body["entry"][0];
        if (entry.contains("changes") && entry["changes"].is_array() && !entry["changes"].empty() &&
            entry["changes"][0].contains("value")) {
            value = &entry["changes"][0]["value"];
        }
    }
    if (value && value->is_object()) {
        if (value->contains("statuses") && (*value)["statuses"].is_array() && !(*value)["statuses"].empty()) {
            const json& s = (*value)["statuses"][0];
            return "status:" + s.value("id", std::string()) + ":" + s.value("status", std::string());
        }
        if (value->contains("messages") && (*value)["messages"].is_array() && !(*value)["messages"].empty()) {
            return "message:" + (*value)["messages"][0].value("id", std::string());
        }
    }
    return "account:" + body.dump();
}

std::string payload_token(const json& payload) {
    constexpr std::string_view kPrefix = "chaos ";
    if (!payload.is_object()) {
        return {};
    }
    if (payload.contains("text") && payload["text"].is_object()) {
        const std::string body = payload["text"].value("body", std::string());
        return body.starts_with(kPrefix) ? body.substr(kPrefix.size()) : std::string();
    }
    if (payload.contains("template") && payload["template"].is_object()) {
        const json& t = payload["template"];
        if (t.contains("components") && t["components"].is_array()) {
            for (const json& c : t["components"]) {
                if (c.value("type", std::string()) == "body" && c.contains("parameters") && c["parameters"].is_array() &&
                    !c["parameters"].empty()) {
                    return c["parameters"][0].value("text", std::string());
                }
            }
        }
    }
    return {};
}

Report audit(const Observations& o, const Tolerance& tolerance) {
    Report report;
    Violations violations;
    auto count = [&report](const std::string& name, std::int64_t value) { report.counts.emplace_back(name, value); };

    // --- the API's answers against the database --------------------------------------------------
    std::unordered_map<std::string, std::vector<const StoredMessage*>> stored_by_key;
    std::int64_t stored_sends = 0, stored_mark_reads = 0;
    for (const auto& m : o.messages) {
        (m.kind == "mark_read" ? stored_mark_reads : stored_sends)++;
        if (!m.key.empty()) {
            stored_by_key[m.key].push_back(&m);
        }
    }
    std::int64_t answered = 0, refused = 0, unanswered = 0;
    std::map<int, std::int64_t> refused_by_code;
    std::set<std::string> template_users_answered;
    for (const auto& r : o.requests) {
        if (r.final_status == 200) {
            ++answered;
            const auto it = stored_by_key.find(r.key);
            if (it == stored_by_key.end()) {
                violations.add("answered 200 but not in the database", r.key);
            } else if (r.kind != RequestKind::kMarkRead && it->second.front()->id != r.answered_id) {
                violations.add("answered an id that is not the stored message's", r.key);
            }
            if (r.kind == RequestKind::kTemplate) {
                template_users_answered.insert(r.to);
            }
        } else if (r.final_status == 0) {
            ++unanswered;
        } else {
            ++refused;
            ++refused_by_code[r.error_code.value_or(0)];
        }
    }
    for (const auto& [key, rows] : stored_by_key) {
        if (rows.size() > 1) {
            violations.add("one request stored more than once", key);
        }
    }
    count("requests", static_cast<std::int64_t>(o.requests.size()));
    count("answered 200", answered);
    count("refused (4xx)", refused);
    for (const auto& [code, n] : refused_by_code) {
        count("  refused with code " + std::to_string(code), n);
    }
    count("never answered (client gave up)", unanswered);
    count("messages stored", stored_sends);
    count("mark-as-read stored", stored_mark_reads);

    // --- the relay: each stored message at the upstream exactly once -----------------------------
    std::unordered_map<std::string, std::vector<const UpstreamSend*>> upstream_by_key;
    std::unordered_map<std::string, const UpstreamSend*> upstream_by_wamid;
    for (const auto& u : o.upstream) {
        upstream_by_key[u.key].push_back(&u);
        upstream_by_wamid[u.wamid] = &u;
    }
    RepeatExcuser relay_excuser(o.faults, tolerance, tolerance.relay_in_flight);
    std::int64_t once = 0, repeated = 0, failed_permanently = 0;
    std::int64_t planned = 0, reflected = 0;
    std::set<std::string> stored_keys;
    for (const auto& m : o.messages) {
        if (m.kind != "message") {
            continue;
        }
        stored_keys.insert(m.key);
        const auto it = upstream_by_key.find(m.key);
        if (it == upstream_by_key.end()) {
            if (m.status == "failed" && m.error_code) {
                ++failed_permanently;  // refused or expired, and reported to the business as failed
            } else {
                violations.add("stored but never reached the upstream", m.key + " (" + m.status + ")");
            }
            continue;
        }
        auto copies = it->second;
        std::sort(copies.begin(), copies.end(),
                  [](const UpstreamSend* a, const UpstreamSend* b) { return a->received_at < b->received_at; });
        if (copies.size() == 1) {
            ++once;
        } else {
            const auto repeats = static_cast<std::int64_t>(copies.size() - 1);
            repeated += repeats;
            if (!relay_excuser.excuse(copies.front()->received_at, repeats)) {
                violations.add("sent to the upstream more than once outside a fault's in-flight window",
                               m.key + " x" + std::to_string(copies.size()));
            }
        }
        if (m.wamid.empty()) {
            violations.add("reached the upstream but no wamid recorded", m.key);
            continue;
        }
        const auto copy = upstream_by_wamid.find(m.wamid);
        if (copy == upstream_by_wamid.end() || copy->second->key != m.key) {
            violations.add("recorded wamid is not one the upstream gave for this message", m.key);
            continue;
        }
        for (const auto& status : copy->second->statuses) {
            ++planned;
            if (contains(m.statuses, status)) {
                ++reflected;
            } else {
                violations.add("a status the upstream sent is missing from the history", m.key + " " + status);
            }
        }
    }
    for (const auto& [key, copies] : upstream_by_key) {
        if (!stored_keys.contains(key)) {
            violations.add("the upstream got a message that is not in the database", key.empty() ? "(no token)" : key);
        }
    }
    count("messages at the upstream once", once);
    count("upstream repeats within a fault's in-flight window", repeated);
    count("messages failed permanently", failed_permanently);
    count("statuses the upstream sent", planned);
    count("statuses in the history", reflected);

    // Mark-as-read requests carry no token upstream: compare counts. Their repeats may use only
    // the in-flight room the faults have left after the messages' repeats.
    const auto marked = static_cast<std::int64_t>(o.upstream_marked_read);
    count("mark-as-read at the upstream", marked);
    count("mark-as-read repeats", std::max<std::int64_t>(marked - stored_mark_reads, 0));
    if (marked < stored_mark_reads) {
        violations.add("mark-as-read requests that never reached the upstream",
                       std::to_string(stored_mark_reads - marked));
    } else if (marked - stored_mark_reads > relay_excuser.capacity() - relay_excuser.total()) {
        violations.add("mark-as-read repeats beyond what the faults had in flight",
                       std::to_string(marked - stored_mark_reads));
    }

    // --- inbound messages ---------------------------------------------------------------------------
    const std::set<std::string> inbound(o.inbound_stored.begin(), o.inbound_stored.end());
    for (const auto& wamid : o.inbound_answered) {
        if (!inbound.contains(wamid)) {
            violations.add("inbound message answered 200 but not stored", wamid);
        }
    }
    count("inbound messages answered 200", static_cast<std::int64_t>(o.inbound_answered.size()));

    // --- events: each written event acknowledged, in order, repeats only within a window ----------
    struct Seen {
        UnixMs first_ack = 0;
        std::int64_t acks = 0;
    };
    std::unordered_map<std::string, Seen> seen;
    for (const auto& d : o.deliveries) {
        if (!d.acknowledged) {
            continue;
        }
        Seen& s = seen[d.identity];
        if (s.acks == 0 || d.received_at < s.first_ack) {
            s.first_ack = d.received_at;
        }
        ++s.acks;
    }
    RepeatExcuser event_excuser(o.faults, tolerance, tolerance.events_in_flight);
    std::int64_t delivered_once = 0, event_repeats = 0;
    std::set<std::string> written;
    std::map<std::string, std::vector<const StoredEvent*>> by_ordering_key;
    for (const auto& e : o.events) {
        written.insert(e.identity);
        if (e.state != "delivered") {
            violations.add("event not delivered at the end", std::to_string(e.id) + " " + e.state);
        }
        if (!e.ordering_key.empty()) {
            by_ordering_key[e.ordering_key].push_back(&e);
        }
        const auto it = seen.find(e.identity);
        if (it == seen.end()) {
            violations.add("event written but never acknowledged by the backend", e.identity);
            continue;
        }
        if (it->second.acks == 1) {
            ++delivered_once;
        } else {
            event_repeats += it->second.acks - 1;
            if (!event_excuser.excuse(it->second.first_ack, it->second.acks - 1)) {
                violations.add("event delivered more than once outside a fault's in-flight window",
                               e.identity + " x" + std::to_string(it->second.acks));
            }
        }
    }
    for (const auto& [identity, s] : seen) {
        if (!written.contains(identity)) {
            violations.add("the backend got an event that was never written", identity);
        }
    }
    std::int64_t order_checked = 0;
    for (auto& [key, events] : by_ordering_key) {
        std::sort(events.begin(), events.end(), [](const StoredEvent* a, const StoredEvent* b) { return a->id < b->id; });
        for (std::size_t i = 1; i < events.size(); ++i) {
            const auto a = seen.find(events[i - 1]->identity);
            const auto b = seen.find(events[i]->identity);
            if (a == seen.end() || b == seen.end()) {
                continue;  // already a violation above
            }
            ++order_checked;
            if (b->second.first_ack < a->second.first_ack) {
                violations.add("events of one ordering key acknowledged out of order",
                               events[i - 1]->identity + " after " + events[i]->identity);
            }
        }
    }
    count("events written", static_cast<std::int64_t>(o.events.size()));
    count("events acknowledged once", delivered_once);
    count("event repeats within a fault's in-flight window", event_repeats);
    count("event pairs checked for order", order_checked);

    // --- the messaging-limit tier -----------------------------------------------------------------
    std::set<std::string> template_users_upstream;
    for (const auto& u : o.upstream) {
        if (u.type == "template") {
            template_users_upstream.insert(u.to);
        }
    }
    count("tier limit", o.tier_limit);
    count("users counted against the tier", o.limit_counted);
    count("template users answered 200", static_cast<std::int64_t>(template_users_answered.size()));
    count("template users at the upstream", static_cast<std::int64_t>(template_users_upstream.size()));
    if (o.limit_counted > o.tier_limit) {
        violations.add("tier exceeded in the database", std::to_string(o.limit_counted));
    }
    if (static_cast<std::int64_t>(template_users_answered.size()) > o.tier_limit) {
        violations.add("tier exceeded in the answers", std::to_string(template_users_answered.size()));
    }
    if (static_cast<std::int64_t>(template_users_upstream.size()) > o.tier_limit) {
        violations.add("tier exceeded at the upstream", std::to_string(template_users_upstream.size()));
    }

    for (std::size_t i = 0; i < o.faults.size(); ++i) {
        count("repeats at " + o.faults[i].cause + ": upstream", relay_excuser.used(i));
        count("repeats at " + o.faults[i].cause + ": events", event_excuser.used(i));
    }
    report.violations = violations.render();
    return report;
}

}  // namespace wagate::chaos
