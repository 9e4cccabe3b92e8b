// wagate bench/loadgen: a small HTTP/1.1 load generator for loopback benchmarks.
//
// Closed loop (default): every connection sends its next request as soon as the previous
// answer has arrived; reports the achieved requests/s.
// Open loop (--rate R): R requests/s in total, spread evenly over the connections on a fixed
// schedule. Latency is measured from the *intended* send time, so a stalled server shows up in
// the percentiles instead of silently slowing the generator down (no coordinated omission).
//
// Keep-alive HTTP/1.1 only, no pipelining, responses must carry Content-Length (chunked
// responses are counted as errors). Only 127.0.0.1 is accepted as a target. The run is bounded:
// after --duration (plus --warmup) no new request is started, and whatever is still in flight
// after --drain seconds is abandoned and counted as an error.
//
// Fixed count (--requests N, closed loop only): the run stops once N requests (warmup included)
// have been started and answered, or at --duration, whichever comes first; with --unique-to and
// no --to-pool, the N requests get the digits 0000000..N-1, each once (e.g. loading exactly N
// messages to N distinct recipients into a queue).
//
// Meta webhook mode (--meta-statuses K): every request is a signed Cloud API status webhook
// (POST, {"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[..K..]}}]}]})
// built for that request, with X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 (OpenSSL) of
// exactly the body bytes sent, keyed with --app-secret. Status number k of the run (k counts
// from --seq-start over all requests, K per request) is status "sent", "delivered" or "read"
// (k % 3) of message m = (k / 3 - (k % 3) * lag) mod pool, whose wamid is --wamid-prefix plus m in
// 10 digits: each message gets sent, then delivered `lag` messages later, then read `lag` later
// again, and k < 3 * pool never repeats a (wamid, status). --dump-sample FILE writes the body of
// the first request to FILE and its signature header value to FILE.sig, then exits.
//
// Output: one JSON line on stdout, e.g.
// {"requests":..,"duration_s":..,"rps":..,"status_counts":{"200":..},
//  "latency_ms":{"p50":..,"p90":..,"p99":..,"max":..},"errors":..}
//
// Build: bench/build.sh (g++ -O2 -std=c++20, header-only Boost.Asio).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::string method = "GET";
    std::string path = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body;
    int connections = 1;
    double duration_s = 10;
    double warmup_s = 0;
    double drain_s = 10;
    double rate = 0;  // 0 = closed loop
    std::uint64_t max_requests = 0;  // --requests: stop after this many (closed loop); 0 = no limit
    int threads = 1;
    bool unique_to = false;
    std::uint64_t to_pool = 0;  // --to-pool: {{N}} cycles through 0..to_pool-1; 0 = 10^7 values
    bool timeline = false;
    std::string label;
    // Meta webhook mode (--meta-statuses K > 0).
    int meta_statuses = 0;
    std::string app_secret;
    std::uint64_t wamid_pool = 0;
    std::uint64_t seq_start = 0;
    std::uint64_t status_lag = 1000;
    std::string wamid_prefix = "wamid.HBgLMTU1NTAwMDAwMDAVAgARGBJCRU5DSA";
    std::string recipient_prefix = "1555";
    std::string phone_number_id = "15550000001";
    std::string display_phone_number = "15550000001";
    std::string waba_id = "100000000000001";
    std::string dump_sample;
};

[[noreturn]] void usage(const std::string& error = {}) {
    if (!error.empty()) {
        std::fprintf(stderr, "loadgen: %s\n", error.c_str());
    }
    std::fprintf(stderr,
                 "usage: loadgen --port N [--host 127.0.0.1] [--url http://127.0.0.1:N/path]\n"
                 "               [--method M] [--path P] [--header K:V]... [--body-file F]\n"
                 "               [--connections N] [--duration S] [--warmup S] [--drain S]\n"
                 "               [--rate R] [--threads T] [--unique-to [--to-pool N]] [--timeline]\n"
                 "               [--label TEXT] [--requests N]\n"
                 "  closed loop unless --rate is given (open loop, R requests/s in total)\n"
                 "  --unique-to: each {{N}} in the body becomes 7 digits that change per request\n"
                 "               (write \"to\":\"+1555{{N}}\" in the body file)\n"
                 "  --to-pool N: with --unique-to, the digits cycle through 0000000..N-1 instead\n"
                 "               (a fixed set of N recipients, e.g. users with an open window)\n"
                 "  --timeline: add per-second latency buckets (by intended send time) to the output\n"
                 "  --requests N: closed loop, stop after N requests in all (warmup included) or at\n"
                 "               --duration, whichever comes first\n"
                 "Meta webhook mode (signed status webhooks, POST --path, default /webhooks/meta):\n"
                 "  --meta-statuses K --app-secret S --wamid-pool N [--seq-start K0] [--status-lag L]\n"
                 "  [--wamid-prefix P] [--recipient-prefix P] [--phone-number-id ID]\n"
                 "  [--display-phone-number D] [--waba-id ID] [--dump-sample FILE]\n"
                 "  K statuses per POST; status k (from K0) = sent/delivered/read (k %% 3) of message\n"
                 "  (k / 3 - (k %% 3) * L) mod N, wamid P + 10 digits; X-Hub-Signature-256 over the body\n");
    std::exit(2);
}

double parse_number(const std::string& flag, const std::string& text, double min, double max) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(v >= min && v <= max)) {
        usage(flag + ": expected a number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return v;
}

bool allowed_host(const std::string& host) { return host == "127.0.0.1" || host == "localhost"; }

Options parse_args(int argc, char** argv) {
    Options o;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc) {
            usage(std::string(argv[i]) + ": missing value");
        }
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--host") {
            o.host = need(i);
        } else if (a == "--port") {
            o.port = static_cast<unsigned short>(parse_number(a, need(i), 1, 65535));
        } else if (a == "--url") {
            const std::string url = need(i);
            constexpr std::string_view kScheme = "http://";
            if (!url.starts_with(kScheme)) {
                usage("--url: only http:// URLs");
            }
            const std::string rest = url.substr(kScheme.size());
            const std::size_t slash = rest.find('/');
            const std::string authority = rest.substr(0, slash);
            o.path = slash == std::string::npos ? "/" : rest.substr(slash);
            const std::size_t colon = authority.rfind(':');
            if (colon == std::string::npos) {
                usage("--url: needs an explicit port");
            }
            o.host = authority.substr(0, colon);
            o.port = static_cast<unsigned short>(parse_number(a, authority.substr(colon + 1), 1, 65535));
        } else if (a == "--method") {
            o.method = need(i);
        } else if (a == "--path") {
            o.path = need(i);
        } else if (a == "--header") {
            const std::string h = need(i);
            const std::size_t colon = h.find(':');
            if (colon == std::string::npos || colon == 0) {
                usage("--header: expected K:V");
            }
            std::string value = h.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            o.headers.emplace_back(h.substr(0, colon), value);
        } else if (a == "--body-file") {
            const std::string file = need(i);
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                usage("--body-file: cannot read " + file);
            }
            std::ostringstream ss;
            ss << in.rdbuf();
            o.body = ss.str();
            // A trailing newline from an editor is not part of a JSON body's meaning: drop it.
            while (!o.body->empty() && (o.body->back() == '\n' || o.body->back() == '\r')) {
                o.body->pop_back();
            }
        } else if (a == "--connections" || a == "-c") {
            o.connections = static_cast<int>(parse_number(a, need(i), 1, 10000));
        } else if (a == "--duration" || a == "-d") {
            o.duration_s = parse_number(a, need(i), 0.1, 3600);
        } else if (a == "--warmup") {
            o.warmup_s = parse_number(a, need(i), 0, 600);
        } else if (a == "--drain") {
            o.drain_s = parse_number(a, need(i), 0.1, 600);
        } else if (a == "--rate") {
            o.rate = parse_number(a, need(i), 0.001, 10'000'000);
        } else if (a == "--threads") {
            o.threads = static_cast<int>(parse_number(a, need(i), 1, 64));
        } else if (a == "--unique-to") {
            o.unique_to = true;
        } else if (a == "--to-pool") {
            o.to_pool = static_cast<std::uint64_t>(parse_number(a, need(i), 1, 10'000'000));
        } else if (a == "--requests") {
            o.max_requests = static_cast<std::uint64_t>(parse_number(a, need(i), 1, 1e9));
        } else if (a == "--timeline") {
            o.timeline = true;
        } else if (a == "--label") {
            o.label = need(i);
        } else if (a == "--meta-statuses") {
            o.meta_statuses = static_cast<int>(parse_number(a, need(i), 1, 1000));
        } else if (a == "--app-secret") {
            o.app_secret = need(i);
        } else if (a == "--wamid-pool") {
            o.wamid_pool = static_cast<std::uint64_t>(parse_number(a, need(i), 1, 1e10));
        } else if (a == "--seq-start") {
            o.seq_start = static_cast<std::uint64_t>(parse_number(a, need(i), 0, 1e15));
        } else if (a == "--status-lag") {
            o.status_lag = static_cast<std::uint64_t>(parse_number(a, need(i), 0, 1e10));
        } else if (a == "--wamid-prefix") {
            o.wamid_prefix = need(i);
        } else if (a == "--recipient-prefix") {
            o.recipient_prefix = need(i);
        } else if (a == "--phone-number-id") {
            o.phone_number_id = need(i);
        } else if (a == "--display-phone-number") {
            o.display_phone_number = need(i);
        } else if (a == "--waba-id") {
            o.waba_id = need(i);
        } else if (a == "--dump-sample") {
            o.dump_sample = need(i);
        } else if (a == "--help" || a == "-h") {
            usage();
        } else {
            usage("unknown option " + a);
        }
    }
    if (o.meta_statuses > 0) {
        if (o.app_secret.empty() || o.wamid_pool == 0) {
            usage("--meta-statuses needs --app-secret and --wamid-pool");
        }
        if (o.unique_to || o.body) {
            usage("--meta-statuses builds its own bodies: no --body-file or --unique-to");
        }
        auto plain = [](const std::string& v) {
            return std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; });
        };
        for (const std::string* v : {&o.wamid_prefix, &o.recipient_prefix, &o.phone_number_id,
                                     &o.display_phone_number, &o.waba_id}) {
            if (!plain(*v)) {
                usage("--meta-statuses: ids must not need JSON escaping");
            }
        }
        o.method = "POST";
        if (o.path == "/") {
            o.path = "/webhooks/meta";
        }
        if (!o.dump_sample.empty() && o.port == 0) {
            o.port = 1;  // a sample needs no server
        }
    } else if (!o.dump_sample.empty()) {
        usage("--dump-sample needs --meta-statuses");
    }
    if (o.port == 0) {
        usage("--port (or --url) is required");
    }
    if (!allowed_host(o.host)) {
        usage("only 127.0.0.1 is allowed as a target (got " + o.host + ")");
    }
    o.host = "127.0.0.1";
    if (o.path.empty() || o.path.front() != '/') {
        usage("--path must start with /");
    }
    if (o.to_pool > 0 && !o.unique_to) {
        usage("--to-pool needs --unique-to");
    }
    if (o.max_requests > 0 && o.rate > 0) {
        usage("--requests is for the closed loop (no --rate)");
    }
    if (o.threads > o.connections) {
        o.threads = o.connections;
    }
    return o;
}

/// The request bytes, built once; with --unique-to, the offsets of the 7-digit slots to patch.
struct RequestTemplate {
    std::string bytes;
    std::vector<std::size_t> slots;
    std::string meta_head;  // --meta-statuses: request line and headers up to the signature
};

RequestTemplate build_request(const Options& o) {
    std::string body = o.body.value_or("");
    std::vector<std::size_t> body_slots;
    if (o.unique_to) {
        constexpr std::string_view kPlaceholder = "{{N}}";
        for (std::size_t at = body.find(kPlaceholder); at != std::string::npos;
             at = body.find(kPlaceholder, at + 7)) {
            body.replace(at, kPlaceholder.size(), "0000000");
            body_slots.push_back(at);
        }
        if (body_slots.empty()) {
            usage("--unique-to: the body has no {{N}} placeholder");
        }
    }
    std::string head = o.method + " " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                       std::to_string(o.port) + "\r\n";
    if (o.meta_statuses > 0) {
        RequestTemplate t;
        bool has_content_type = false;
        for (const auto& [k, v] : o.headers) {
            std::string lower = k;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower == "content-length" || lower == "x-hub-signature-256") {
                usage("--meta-statuses sets " + k + " itself");
            }
            has_content_type = has_content_type || lower == "content-type";
            head += k + ": " + v + "\r\n";
        }
        if (!has_content_type) {
            head += "Content-Type: application/json\r\n";
        }
        t.meta_head = head;
        return t;
    }
    bool has_content_length = false;
    for (const auto& [k, v] : o.headers) {
        head += k + ": " + v + "\r\n";
        std::string lower = k;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        has_content_length = has_content_length || lower == "content-length";
    }
    if (!has_content_length && (o.body || o.method == "POST" || o.method == "PUT")) {
        head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    head += "\r\n";
    RequestTemplate t;
    for (std::size_t s : body_slots) {
        t.slots.push_back(head.size() + s);
    }
    t.bytes = head + body;
    return t;
}

/// Per-thread results, merged at the end.
struct Stats {
    std::vector<std::uint32_t> latencies_us;  // measured-phase requests only
    std::vector<std::pair<std::uint32_t, std::uint32_t>> timeline;  // (second, latency us), --timeline
    std::map<int, std::uint64_t> status;      // measured phase
    std::map<int, std::uint64_t> warmup_status;
    std::uint64_t errors = 0;          // connect/read/write failures, malformed answers, timeouts
    std::uint64_t warmup_errors = 0;
    std::uint64_t scheduled = 0;       // open loop: requests whose intended time fell in the run
    std::uint64_t unsent = 0;          // open loop: scheduled but never sent before the drain ended
    Clock::time_point last_done{};
};

std::atomic<std::uint64_t> g_counter{0};
std::atomic<std::uint64_t> g_started{0};  // --requests: requests started so far, all connections

/// --requests: true once every allowed request has been started.
bool request_limit_reached(const Options& o) {
    return o.max_requests > 0 && g_started.load(std::memory_order_relaxed) >= o.max_requests;
}

// --- Meta webhook mode -------------------------------------------------------------------------

std::string hex_lower(const unsigned char* data, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[data[i] >> 4];
        out[2 * i + 1] = kDigits[data[i] & 0x0f];
    }
    return out;
}

/// "sha256=" + hex HMAC-SHA256(secret, body): the X-Hub-Signature-256 value Meta sends.
std::string hub_signature(const std::string& secret, const std::string& body) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &size) == nullptr) {
        std::fprintf(stderr, "loadgen: HMAC failed\n");
        std::exit(1);
    }
    return "sha256=" + hex_lower(mac, size);
}

std::string digits(std::uint64_t v, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
    return buf;
}

/// The body of one status webhook: statuses seq .. seq + K - 1, in a Cloud API (v23.0) envelope.
/// sent and delivered carry pricing and conversation (expiration only on sent), as Meta's do;
/// value.contacts[] has the recipient of each status (the BSUID rollout's shape; the sends
/// addressed phone numbers, so no recipient_user_id).
std::string meta_status_body(const Options& o, std::uint64_t seq) {
    static constexpr const char* kStatus[] = {"sent", "delivered", "read"};
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string ts = std::to_string(now_s);
    std::string contacts, statuses;
    for (int i = 0; i < o.meta_statuses; ++i) {
        const std::uint64_t k = seq + static_cast<std::uint64_t>(i);
        const unsigned s = static_cast<unsigned>(k % 3);
        const std::uint64_t n = o.wamid_pool;
        const std::uint64_t m = (k / 3 % n + n - (s * (o.status_lag % n)) % n) % n;
        const std::string wamid = o.wamid_prefix + digits(m, 10);
        const std::string recipient = o.recipient_prefix + digits(m % 10'000'000, 7);
        if (i > 0) {
            contacts += ',';
            statuses += ',';
        }
        contacts += "{\"profile\":{\"name\":\"Bench User " + digits(m, 7) + "\"},\"wa_id\":\"" + recipient +
                    "\",\"user_id\":\"US.1" + digits(m, 18) + "\"}";
        statuses += "{\"id\":\"" + wamid + "\",\"status\":\"" + kStatus[s] + "\",\"timestamp\":\"" + ts +
                    "\",\"recipient_id\":\"" + recipient + "\"";
        if (s < 2) {
            statuses += ",\"conversation\":{\"id\":\"" + hex_lower(reinterpret_cast<const unsigned char*>(wamid.data()) + wamid.size() - 8, 8) +
                        digits(m, 16) + "\"";
            if (s == 0) {
                statuses += ",\"expiration_timestamp\":\"" + std::to_string(now_s + 86'400) + "\"";
            }
            statuses += ",\"origin\":{\"type\":\"utility\"}},\"pricing\":{\"billable\":true,"
                        "\"pricing_model\":\"PMP\",\"category\":\"utility\",\"type\":\"regular\"}";
        }
        statuses += "}";
    }
    return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"" + o.waba_id +
           "\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"" +
           o.display_phone_number + "\",\"phone_number_id\":\"" + o.phone_number_id + "\"},\"contacts\":[" + contacts +
           "],\"statuses\":[" + statuses + "]},\"field\":\"messages\"}]}]}";
}

/// The whole request for statuses seq..: the body is built first, signed, then sent as is.
std::string meta_request(const Options& o, const RequestTemplate& t, std::uint64_t seq, std::string* body_out = nullptr,
                         std::string* signature_out = nullptr) {
    std::string body = meta_status_body(o, seq);
    const std::string signature = hub_signature(o.app_secret, body);
    std::string out = t.meta_head;
    out += "X-Hub-Signature-256: " + signature + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    if (body_out != nullptr) {
        *body_out = std::move(body);
    }
    if (signature_out != nullptr) {
        *signature_out = signature;
    }
    return out;
}

std::atomic<std::uint64_t> g_meta_seq{0};

struct Run {
    const Options& options;
    const RequestTemplate& request;
    Clock::time_point start;          // traffic starts
    Clock::time_point measure_from;   // start + warmup
    Clock::time_point stop_sending;   // measure_from + duration
    Clock::time_point hard_stop;      // stop_sending + drain
    double per_connection_interval_s = 0;  // open loop
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(asio::io_context& io, const Run& run, Stats& stats, int index)
        : io_(io), run_(run), stats_(stats), socket_(io), timer_(io), index_(index) {
        out_ = run_.request.bytes;
        in_.resize(64 * 1024);
        if (run_.options.rate > 0) {
            // Connection i owns the global slots i, i+C, i+2C, ... of a schedule with R slots/s.
            next_intended_ = run_.start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(index_ / run_.options.rate));
        }
    }

    void start() { connect(); }

    /// True once this connection will send nothing more and has nothing in flight.
    bool finished(Clock::time_point now) const {
        if (in_flight_) {
            return false;
        }
        if (run_.options.rate > 0) {
            return next_intended_ >= run_.stop_sending;
        }
        return now >= run_.stop_sending || request_limit_reached(run_.options);
    }

    void abort() {
        boost::system::error_code ignored;
        closed_ = true;
        timer_.cancel();
        socket_.close(ignored);
        if (in_flight_) {
            in_flight_ = false;
            count_error(intended_);
        }
        if (run_.options.rate > 0) {
            // Scheduled slots that were never sent: each counts as unsent (and as an error).
            while (next_intended_ < run_.stop_sending) {
                if (next_intended_ >= run_.measure_from) {
                    ++stats_.unsent;
                    ++stats_.scheduled;
                }
                advance_schedule();
            }
        }
    }

private:
    void connect() {
        if (closed_ || finished(Clock::now())) {
            return;
        }
        tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), run_.options.port);
        socket_ = tcp::socket(io_);
        socket_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
            if (self->closed_) {
                return;
            }
            if (ec) {
                self->count_error(Clock::now());
                self->retry_later();
                return;
            }
            boost::system::error_code ignored;
            self->socket_.set_option(tcp::no_delay(true), ignored);
            self->connected_ = true;
            self->buffered_ = 0;
            self->next();
        });
    }

    void retry_later() {
        connected_ = false;
        boost::system::error_code ignored;
        socket_.close(ignored);
        timer_.expires_after(50ms);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                self->connect();
            }
        });
    }

    void advance_schedule() {
        ++sent_slots_;
        const double offset_s = (index_ + static_cast<double>(sent_slots_) * run_.options.connections) /
                                run_.options.rate;
        next_intended_ = run_.start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(offset_s));
    }

    /// Sends the next request now (closed loop, or open loop when behind schedule) or when its
    /// intended time comes.
    void next() {
        if (closed_) {
            return;
        }
        const auto now = Clock::now();
        if (run_.options.rate <= 0) {
            if (now >= run_.stop_sending) {
                return;
            }
            if (run_.options.max_requests > 0 &&
                g_started.fetch_add(1, std::memory_order_relaxed) >= run_.options.max_requests) {
                return;  // the count is reached: this connection is done
            }
            send(now);
            return;
        }
        if (next_intended_ >= run_.stop_sending) {
            return;
        }
        if (next_intended_ <= now) {
            const auto intended = next_intended_;
            if (intended >= run_.measure_from) {
                ++stats_.scheduled;
            }
            advance_schedule();
            send(intended);
            return;
        }
        timer_.expires_at(next_intended_);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                self->next();
            }
        });
    }

    void send(Clock::time_point intended) {
        intended_ = intended;
        in_flight_ = true;
        if (run_.options.meta_statuses > 0) {
            const std::uint64_t seq = g_meta_seq.fetch_add(static_cast<std::uint64_t>(run_.options.meta_statuses),
                                                           std::memory_order_relaxed);
            out_ = meta_request(run_.options, run_.request, seq);
        }
        if (!run_.request.slots.empty()) {
            const std::uint64_t values = run_.options.to_pool > 0 ? run_.options.to_pool : 10'000'000;
            std::uint64_t n = g_counter.fetch_add(1, std::memory_order_relaxed) % values;
            char digits[24];  // n < 10^7: always 7 digits (the size only keeps -Wformat-truncation quiet)
            std::snprintf(digits, sizeof digits, "%07llu", static_cast<unsigned long long>(n));
            for (std::size_t slot : run_.request.slots) {
                std::memcpy(out_.data() + slot, digits, 7);
            }
        }
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                              if (self->closed_) {
                                  return;
                              }
                              if (ec) {
                                  self->fail();
                                  return;
                              }
                              self->read();
                          });
    }

    void fail() {
        if (in_flight_) {
            in_flight_ = false;
            count_error(intended_);
        }
        // Open loop: the failed slot is gone; the schedule goes on after reconnecting.
        retry_later();
    }

    void count_error(Clock::time_point when) {
        if (when >= run_.measure_from) {
            ++stats_.errors;
        } else {
            ++stats_.warmup_errors;
        }
    }

    void read() {
        if (buffered_ == in_.size()) {
            in_.resize(in_.size() * 2);
        }
        socket_.async_read_some(
            asio::buffer(in_.data() + buffered_, in_.size() - buffered_),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                if (self->closed_) {
                    return;
                }
                if (ec) {
                    self->fail();
                    return;
                }
                self->buffered_ += n;
                self->parse();
            });
    }

    static bool iequals(std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    }

    /// Parses one response from the buffer; reads more when it is incomplete.
    void parse() {
        const std::string_view data(in_.data(), buffered_);
        const std::size_t header_end = data.find("\r\n\r\n");
        if (header_end == std::string_view::npos) {
            if (buffered_ > 1024 * 1024) {
                fail();
                return;
            }
            read();
            return;
        }
        const std::string_view head = data.substr(0, header_end);
        if (!head.starts_with("HTTP/1.") || head.size() < 12) {
            fail();
            return;
        }
        const int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
        std::optional<std::size_t> content_length;
        bool close = head.starts_with("HTTP/1.0");
        bool chunked = false;
        std::size_t pos = head.find("\r\n");
        while (pos != std::string_view::npos && pos < head.size()) {
            const std::size_t line_start = pos + 2;
            std::size_t line_end = head.find("\r\n", line_start);
            if (line_end == std::string_view::npos) {
                line_end = head.size();
            }
            const std::string_view line = head.substr(line_start, line_end - line_start);
            const std::size_t colon = line.find(':');
            if (colon != std::string_view::npos) {
                const std::string_view name = line.substr(0, colon);
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') {
                    value.remove_prefix(1);
                }
                if (iequals(name, "content-length")) {
                    content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
                } else if (iequals(name, "connection")) {
                    close = iequals(value, "close");
                } else if (iequals(name, "transfer-encoding")) {
                    chunked = true;
                }
            }
            pos = line_end;
        }
        if (chunked || (!content_length && status != 204 && status != 304)) {
            fail();  // not supported by this generator
            return;
        }
        const std::size_t total = header_end + 4 + content_length.value_or(0);
        if (buffered_ < total) {
            if (total > in_.size()) {
                in_.resize(total);
            }
            read();
            return;
        }
        // A complete response.
        const auto now = Clock::now();
        in_flight_ = false;
        if (intended_ >= run_.measure_from) {
            ++stats_.status[status];
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - intended_).count();
            stats_.latencies_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
            if (run_.options.timeline) {
                const auto second = std::chrono::duration_cast<std::chrono::seconds>(intended_ - run_.measure_from).count();
                stats_.timeline.emplace_back(static_cast<std::uint32_t>(second), stats_.latencies_us.back());
            }
            stats_.last_done = std::max(stats_.last_done, now);
        } else {
            ++stats_.warmup_status[status];
        }
        std::memmove(in_.data(), in_.data() + total, buffered_ - total);
        buffered_ -= total;
        if (close) {
            connected_ = false;
            boost::system::error_code ignored;
            socket_.close(ignored);
            connect();
            return;
        }
        next();
    }

    asio::io_context& io_;
    const Run& run_;
    Stats& stats_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    int index_;
    std::string out_;
    std::vector<char> in_;
    std::size_t buffered_ = 0;
    bool connected_ = false;
    bool closed_ = false;
    bool in_flight_ = false;
    Clock::time_point intended_{};
    Clock::time_point next_intended_{};
    std::uint64_t sent_slots_ = 0;
};

double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    // Nearest rank.
    std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1] / 1000.0;
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

std::string status_json(const std::map<int, std::uint64_t>& m) {
    std::string out = "{";
    for (const auto& [k, v] : m) {
        if (out.size() > 1) {
            out += ",";
        }
        out += "\"" + std::to_string(k) + "\":" + std::to_string(v);
    }
    return out + "}";
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_args(argc, argv);
    const RequestTemplate request = build_request(options);
    g_meta_seq = options.seq_start;
    if (!options.dump_sample.empty()) {
        std::string body, signature;
        meta_request(options, request, options.seq_start, &body, &signature);
        std::ofstream b(options.dump_sample, std::ios::binary), s(options.dump_sample + ".sig", std::ios::binary);
        b << body;
        s << signature;
        if (!b || !s) {
            std::fprintf(stderr, "loadgen: cannot write %s\n", options.dump_sample.c_str());
            return 1;
        }
        return 0;
    }

    const auto start = Clock::now() + 50ms;  // time to set every connection up
    auto at = [&](double s) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    Run run{options, request, start, start + at(options.warmup_s),
            start + at(options.warmup_s + options.duration_s),
            start + at(options.warmup_s + options.duration_s + options.drain_s)};

    const int threads = options.threads;
    std::vector<std::unique_ptr<asio::io_context>> ios;
    std::vector<Stats> stats(threads);
    std::vector<std::vector<std::shared_ptr<Connection>>> conns(threads);
    for (int t = 0; t < threads; ++t) {
        ios.push_back(std::make_unique<asio::io_context>(1));
    }
    const std::size_t expected = static_cast<std::size_t>(
        (options.rate > 0 ? options.rate * options.duration_s
                          : 50'000.0 * options.duration_s / threads));
    for (int i = 0; i < options.connections; ++i) {
        const int t = i % threads;
        conns[t].push_back(std::make_shared<Connection>(*ios[t], run, stats[t], i));
    }
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        stats[t].latencies_us.reserve(std::min<std::size_t>(expected, 4'000'000));
        workers.emplace_back([&, t] {
            asio::io_context& io = *ios[t];
            asio::steady_timer begin(io, start);
            begin.async_wait([&, t](const boost::system::error_code&) {
                for (auto& c : conns[t]) {
                    c->start();
                }
            });
            // Ends the run: drained connections simply go idle; what is still in flight at the
            // hard stop is abandoned.
            asio::steady_timer end(io, run.hard_stop);
            end.async_wait([&, t](const boost::system::error_code&) {
                for (auto& c : conns[t]) {
                    c->abort();
                }
                io.stop();
            });
            // Stops early once every connection is idle after stop_sending: checked every 10 ms.
            asio::steady_timer check(io);
            std::function<void()> arm = [&] {
                check.expires_after(10ms);
                check.async_wait([&](const boost::system::error_code& ec) {
                    if (ec) {
                        return;
                    }
                    const auto now = Clock::now();
                    if ((now >= run.stop_sending || request_limit_reached(options)) &&
                        std::all_of(conns[t].begin(), conns[t].end(),
                                    [now](const auto& c) { return c->finished(now); })) {
                        for (auto& c : conns[t]) {
                            c->abort();
                        }
                        io.stop();
                        return;
                    }
                    arm();
                });
            };
            arm();
            io.run();
        });
    }
    for (auto& w : workers) {
        w.join();
    }

    Stats all;
    for (auto& s : stats) {
        all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
        all.timeline.insert(all.timeline.end(), s.timeline.begin(), s.timeline.end());
        for (auto& [k, v] : s.status) all.status[k] += v;
        for (auto& [k, v] : s.warmup_status) all.warmup_status[k] += v;
        all.errors += s.errors;
        all.warmup_errors += s.warmup_errors;
        all.scheduled += s.scheduled;
        all.unsent += s.unsent;
        all.last_done = std::max(all.last_done, s.last_done);
    }
    std::sort(all.latencies_us.begin(), all.latencies_us.end());
    const std::uint64_t requests = all.latencies_us.size();
    // The measured window: from the end of the warmup to the last answer (closed loop: about
    // --duration plus the last round trip; open loop: the schedule plus any backlog).
    double duration_s = options.duration_s;
    if (requests > 0) {
        duration_s = std::max(options.duration_s,
                              std::chrono::duration<double>(all.last_done - run.measure_from).count());
        if (options.rate <= 0) {
            duration_s = std::chrono::duration<double>(all.last_done - run.measure_from).count();
        }
    }
    double mean_ms = 0;
    for (auto v : all.latencies_us) mean_ms += v;
    mean_ms = requests ? mean_ms / requests / 1000.0 : 0;

    char line[2048];
    std::string out = "{";
    if (!options.label.empty()) {
        out += "\"label\":\"" + json_escape(options.label) + "\",";
    }
    out += "\"mode\":\"" + std::string(options.rate > 0 ? "open" : "closed") + "\",";
    if (options.to_pool > 0) {
        out += "\"to_pool\":" + std::to_string(options.to_pool) + ",";
    }
    if (options.max_requests > 0) {
        out += "\"max_requests\":" + std::to_string(options.max_requests) + ",";
    }
    if (options.meta_statuses > 0) {
        const std::uint64_t seq_end = g_meta_seq.load();
        out += "\"meta\":{\"statuses_per_post\":" + std::to_string(options.meta_statuses) +
               ",\"wamid_pool\":" + std::to_string(options.wamid_pool) + ",\"seq_start\":" +
               std::to_string(options.seq_start) + ",\"seq_end\":" + std::to_string(seq_end) +
               ",\"repeats\":" + (seq_end > 3 * options.wamid_pool ? "true" : "false") + "},";
    }
    out += "\"method\":\"" + json_escape(options.method) + "\",\"path\":\"" + json_escape(options.path) + "\",";
    out += "\"connections\":" + std::to_string(options.connections) + ",";
    if (options.rate > 0) {
        std::snprintf(line, sizeof line, "\"target_rate\":%.1f,\"scheduled\":%llu,\"unsent\":%llu,", options.rate,
                      static_cast<unsigned long long>(all.scheduled), static_cast<unsigned long long>(all.unsent));
        out += line;
    }
    std::snprintf(line, sizeof line,
                  "\"requests\":%llu,\"duration_s\":%.3f,\"rps\":%.1f,\"status_counts\":%s,"
                  "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
                  "\"errors\":%llu,",
                  static_cast<unsigned long long>(requests), duration_s,
                  duration_s > 0 ? requests / duration_s : 0.0, status_json(all.status).c_str(),
                  percentile_ms(all.latencies_us, 50), percentile_ms(all.latencies_us, 90),
                  percentile_ms(all.latencies_us, 99), percentile_ms(all.latencies_us, 99.9),
                  all.latencies_us.empty() ? 0.0 : all.latencies_us.back() / 1000.0, mean_ms,
                  static_cast<unsigned long long>(all.errors + all.unsent));
    out += line;
    if (options.timeline) {
        // Per second of intended send time: requests, p50, p99, max.
        std::map<std::uint32_t, std::vector<std::uint32_t>> buckets;
        for (const auto& [sec, us] : all.timeline) buckets[sec].push_back(us);
        out += "\"timeline\":[";
        bool first = true;
        for (auto& [sec, v] : buckets) {
            std::sort(v.begin(), v.end());
            std::snprintf(line, sizeof line, "%s{\"t\":%u,\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
                          first ? "" : ",", sec, v.size(), percentile_ms(v, 50), percentile_ms(v, 99),
                          v.back() / 1000.0);
            out += line;
            first = false;
        }
        out += "],";
    }
    std::uint64_t warmup_requests = 0;
    for (const auto& [k, v] : all.warmup_status) warmup_requests += v;
    std::snprintf(line, sizeof line,
                  "\"warmup\":{\"duration_s\":%.3f,\"requests\":%llu,\"status_counts\":%s,\"errors\":%llu}}",
                  options.warmup_s, static_cast<unsigned long long>(warmup_requests),
                  status_json(all.warmup_status).c_str(),
                  static_cast<unsigned long long>(all.warmup_errors));
    out += line;
    std::printf("%s\n", out.c_str());
    return 0;
}
