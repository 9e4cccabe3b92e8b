#pragma once

// The chaos harness's audit (issue 8): what was asked, what the gateway stored, what reached the
// upstream and the business backend, and the faults that were injected, compared at the end of a
// run. Pure: the harness (chaos_main.cpp) collects these observations; the unit tests
// (tests/unit/chaos/chaos_audit_test.cpp) show that each rule catches its violation.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace wagate::chaos {

using UnixMs = std::int64_t;  // wall-clock milliseconds; every observer runs on this machine

enum class RequestKind { kText, kTemplate, kMarkRead };

/// One logical request of the load generator: its Idempotency-Key is the token that follows the
/// message through the database and the upstream. Retried (same key) until answered.
struct Request {
    std::string key;
    RequestKind kind = RequestKind::kText;
    std::string to;                // digits
    int final_status = 0;          // the last HTTP answer; 0 = never answered
    std::string answered_id;       // messages[0].id of a 200 (sends), hex id without "wagate."
    std::optional<int> error_code; // the Graph code of a refusal
};

/// A row of `messages`, with its status history and the Idempotency-Key that created it.
struct StoredMessage {
    std::string id;  // hex, 32 digits
    std::string kind;  // message | mark_read
    std::string type;
    std::string wa_id;
    std::string wamid;   // Meta's id; empty while never relayed
    std::string status;  // current
    std::string key;     // the Idempotency-Key; empty if none
    std::vector<std::string> statuses;  // every status recorded in message_statuses
    std::optional<int> error_code;      // of a `failed` status
};

/// One send the upstream (the sandbox) accepted.
struct UpstreamSend {
    std::string wamid;
    std::string type;
    std::string to;
    std::string key;  // the token carried in the payload
    UnixMs received_at = 0;
    std::vector<std::string> statuses;  // the status webhooks the upstream planned for it
};

/// A row of `events`.
struct StoredEvent {
    std::int64_t id = 0;
    std::string ordering_key;  // empty: none
    std::string state;
    std::string identity;  // event_identity(payload)
};

/// One request the business backend received.
struct BackendDelivery {
    std::string identity;
    UnixMs received_at = 0;
    bool acknowledged = false;  // answered 2xx
};

/// An interval during which the fault named `cause` was in force.
struct FaultWindow {
    std::string cause;  // "kill of instance 1", "upstream stall", "database outage"
    UnixMs from = 0;
    UnixMs to = 0;
    /// How many full sets of in-flight work it could catch: a kill catches one instance's once;
    /// a database outage each instance's once; an upstream stall of S against a request timeout
    /// T each instance's ⌈S/T⌉ + 1 times, since every timed-out send is retried into the stall.
    int in_flight_sets = 1;
};

/// The repeats a fault may cause, per docs/relay.md and docs/events.md (crash semantics):
/// only what was in flight when it struck.
struct Tolerance {
    /// A repeat is excused by a fault if its first copy arrived within [from − before, to + after].
    /// (`after`: a stalled upstream stamps the requests it held when it resumes.)
    UnixMs before_ms = 2000;
    UnixMs after_ms = 1000;
    /// ... and no fault excuses more repeats than in_flight_sets × what could be in flight.
    int relay_in_flight = 8;   // WAGATE_RELAY_CONCURRENCY
    int events_in_flight = 16; // WAGATE_EVENT_CONCURRENCY_PER_URL (one callback URL)
};

struct Observations {
    std::vector<Request> requests;
    std::vector<StoredMessage> messages;
    std::vector<UpstreamSend> upstream;
    std::uint64_t upstream_marked_read = 0;  // mark-as-read requests the upstream accepted
    std::vector<std::string> inbound_answered;  // wamids of inbound messages the gateway answered 2xx
    std::vector<std::string> inbound_stored;    // wamids in inbound_messages
    std::vector<StoredEvent> events;
    std::vector<BackendDelivery> deliveries;
    std::vector<FaultWindow> faults;
    std::int64_t tier_limit = 0;
    std::int64_t limit_counted = 0;  // rows of limit_counts: users counted against the tier
};

struct Report {
    std::vector<std::pair<std::string, std::int64_t>> counts;  // in print order
    std::vector<std::string> violations;                       // empty: the run passed
    std::int64_t count(const std::string& name) const;
};

/// Every rule of the audit; see docs/chaos.md for what each count means.
Report audit(const Observations& o, const Tolerance& tolerance);

/// The identity by which a backend deduplicates an event (docs/events.md): "status:<id>:<status>"
/// for statuses[0], "message:<id>" for messages[0], "account:<dump>" otherwise.
std::string event_identity(const nlohmann::json& body);

/// The token of a send payload: the text body after "chaos ", or the first body parameter of a
/// template; empty when there is none.
std::string payload_token(const nlohmann::json& payload);

}  // namespace wagate::chaos
