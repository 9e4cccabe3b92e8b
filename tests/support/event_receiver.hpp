#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wagate::test {

/// One request the event receiver got (contract §7: one event per POST).
struct ReceivedEvent {
    std::chrono::steady_clock::time_point at;
    std::string path;            // request path as received ("?query" appended when there was one)
    std::string body;            // raw bytes (empty for a request rejected before its body was read)
    std::string signature;       // the X-Hub-Signature-256 header as received
    bool signature_valid_raw = false;        // "sha256=" + lowercase hex HMAC over the raw bytes, exactly
    bool signature_valid_reescaped = false;  // the same over reescape(body) (false when not JSON)
    bool content_length = false;  // had a Content-Length header
    bool chunked = false;         // had Transfer-Encoding (must never happen)
    bool ascii_only = false;      // every byte < 0x80
    std::string content_type;
    /// The HTTP status this receiver answered: 0 while a delayed reply is still pending, and for
    /// good if stop() cut it off. Requests the server rejected itself (unknown path 404, other
    /// method 405, body over 4 MiB 413, malformed 400) are recorded with that status.
    int answered = 0;
};

/// How the receiver answers one request: `status` with `body` (application/json), after holding
/// the request for `delay` (other connections are served meanwhile).
struct EventReply {
    int status = 200;
    std::chrono::milliseconds delay{0};
    std::string body = "{}";
};

/// A business backend for tests on 127.0.0.1 (plain HTTP, wagate's own http::Server on its own
/// io_context thread): accepts POST on `path` (other paths 404, other methods 405, bodies up to
/// 4 MiB), checks X-Hub-Signature-256 against `secret`, records every request and answers with
/// `script(event, same_body_index)`. The default script answers 401 when the raw signature does
/// not verify, else 200. All members are thread-safe; the script runs on the receiver's thread
/// and must not call stop(), start() or the destructor.
class EventReceiver {
public:
    /// `same_body_index`: how many requests with the same body bytes came before (0 = first).
    using Script = std::function<EventReply(const ReceivedEvent&, int same_body_index)>;

    /// Listens on a free port at once; throws std::runtime_error if it cannot.
    explicit EventReceiver(std::string secret, Script script = {}, std::string path = "/events");
    ~EventReceiver();
    EventReceiver(const EventReceiver&) = delete;
    EventReceiver& operator=(const EventReceiver&) = delete;

    unsigned short port() const;
    /// "http://127.0.0.1:<port><path>": stays valid across stop() and start().
    std::string url() const;

    /// Replaces the script for requests arriving from now on (an empty one restores the default).
    void set_script(Script script);

    /// Receiver down: closes the listener and every connection, cutting off pending delayed
    /// replies, before it returns; later connects are refused. No-op when already stopped.
    void stop();
    /// Listens again on the same port. No-op when running; throws std::runtime_error if the port
    /// cannot be bound again.
    void start();

    /// Every request, in arrival order (rejected ones in the order they were answered).
    std::vector<ReceivedEvent> received() const;
    /// Those answered 2xx.
    std::vector<ReceivedEvent> acknowledged() const;
    /// received().size().
    std::size_t count() const;
    /// Waits (on a condition variable) until at least `n` requests were recorded; false after
    /// `timeout`. Requests the server rejected itself are recorded just after their answer was
    /// written, so a test that provoked one waits with this before reading received().
    bool wait_for_received(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
    /// Waits (on a condition variable) until at least `n` requests were answered 2xx; false after
    /// `timeout`.
    bool wait_for_acknowledged(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// What a receiver that re-serialises before checking computes: parse with nlohmann::ordered_json
/// (key order kept) and dump compact with ensure_ascii=true (lowercase \uXXXX, surrogate pairs).
/// Returns "" when the body is not JSON (or not valid UTF-8).
std::string reescape(std::string_view body);

}  // namespace wagate::test
