// wagate bench/event_sink: the fast business backend of bench/events.sh, and its load client.
//
//   event_sink serve --port P --secret S [--path /events] [--stats-file F] [--log F] [--sample F]
//   event_sink post  --port P --secret S --path /webhooks/meta --inbound K --messages N --users U
//                    --tag T [--phone-number-id ID] [--display-phone-number D] [--waba-id W]
//                    [--user-prefix 1555] [--ts-base SECONDS] [--connections C] [--timeout S]
//   event_sink post  --port P --secret S --path /events --template F --requests M
//                    [--seq-start K] [--connections C] [--timeout S]
//
// serve: an HTTP/1.1 keep-alive server on 127.0.0.1:P (one thread) that answers 200 `{}` to every
// POST on --path and checks each one the way a business backend would: X-Hub-Signature-256 must
// be exactly "sha256=" + lowercase hex HMAC-SHA256 of the raw body keyed with --secret; the body
// must come with Content-Length (a Transfer-Encoding is counted and the connection closed) and be
// ASCII only. Every body is counted by its HMAC (128 bits of it), so a body that arrives twice is
// a duplicate. GET /_sink/stats answers the counters as one JSON line; SIGTERM or SIGINT writes
// them to --stats-file (and stdout) and exits. --log writes one line per POST on --path, in
// arrival order: "index<TAB>wamid<TAB>arrival_us<TAB>valid" (the first "id":"wamid.…" of the
// body; arrival in µs of the system clock); --sample writes the first valid body to F and its
// signature header to F.sig. Other paths answer 404 and are counted apart.
//
// post: a closed-loop client with C keep-alive connections that sends a fixed number of signed
// POSTs (signature as above, keyed with --secret) and prints one JSON line. Two kinds of bodies:
//   --inbound K: Meta webhooks of inbound text messages, K per body, N messages in all
//     (ceil(N / K) requests). Message k (0 ≤ k < N) is from user u = k mod U (wa_id
//     --user-prefix + 7 digits), the (k div U)-th of that user, wamid "wamid." + T + 12 digits of
//     k, timestamp --ts-base + k div U; the body has one contacts[] entry per user in it. The text
//     carries non-ASCII characters (é, 👋), so the gateway must escape them on delivery.
//   --template F: the file's bytes with every {{N}} replaced by 12 digits of (--seq-start + i)
//     for request i (e.g. a body the gateway delivered, its wamid replaced by {{N}}).
// Only 127.0.0.1 is a target. Every run is bounded by --timeout (default 600 s): what is not
// answered by then is counted in "errors".
//
// Build: bench/build.sh (g++ -O2 -std=c++20, header-only Boost.Asio, libcrypto for HMAC).

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void usage(const std::string& error = {}) {
    if (!error.empty()) {
        std::fprintf(stderr, "event_sink: %s\n", error.c_str());
    }
    std::fprintf(stderr,
                 "usage: event_sink serve --port P --secret S [--path /events] [--stats-file F] [--log F]\n"
                 "                        [--sample F]\n"
                 "       event_sink post --port P --secret S --path PATH [--connections C] [--timeout S]\n"
                 "                       (--inbound K --messages N --users U --tag T [--phone-number-id ID]\n"
                 "                        [--display-phone-number D] [--waba-id W] [--user-prefix P]\n"
                 "                        [--ts-base SECONDS]\n"
                 "                       | --template F --requests M [--seq-start K])\n");
    std::exit(2);
}

std::uint64_t parse_uint(const std::string& flag, const std::string& text, std::uint64_t min, std::uint64_t max) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text.front() == '-' || *end != '\0' || errno != 0 || v < min || v > max) {
        usage(flag + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return v;
}

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string hex_lower(const unsigned char* data, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[data[i] >> 4];
        out[2 * i + 1] = kDigits[data[i] & 0x0f];
    }
    return out;
}

/// HMAC-SHA256(secret, body) into `mac` (32 bytes).
void hmac_sha256(const std::string& secret, std::string_view body, unsigned char* mac) {
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &size) == nullptr ||
        size != 32) {
        std::fprintf(stderr, "event_sink: HMAC failed\n");
        std::exit(1);
    }
}

std::string hub_signature(const std::string& secret, std::string_view body) {
    unsigned char mac[32];
    hmac_sha256(secret, body, mac);
    return "sha256=" + hex_lower(mac, sizeof mac);
}

std::string digits(std::uint64_t v, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
    return buf;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// The head of an HTTP/1.1 message: first line and the headers this tool cares about.
struct Head {
    std::string_view first_line;
    std::optional<std::uint64_t> content_length;
    bool content_length_bad = false;
    bool chunked = false;  // any Transfer-Encoding
    bool close = false;
    std::string_view signature;
    bool has_signature = false;
    std::string_view content_type;
};

Head parse_head(std::string_view head) {
    Head h;
    std::size_t eol = head.find("\r\n");
    h.first_line = head.substr(0, eol);
    h.close = h.first_line.ends_with("HTTP/1.0") || h.first_line.starts_with("HTTP/1.0");
    while (eol != std::string_view::npos && eol < head.size()) {
        const std::size_t start = eol + 2;
        std::size_t end = head.find("\r\n", start);
        if (end == std::string_view::npos) {
            end = head.size();
        }
        const std::string_view line = head.substr(start, end - start);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            const std::string_view name = line.substr(0, colon);
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            if (iequals(name, "content-length")) {
                std::uint64_t v = 0;
                bool ok = !value.empty() && value.size() <= 15;
                for (char c : value) {
                    ok = ok && c >= '0' && c <= '9';
                    v = v * 10 + static_cast<std::uint64_t>(c - '0');
                }
                if (ok) {
                    h.content_length = v;
                } else {
                    h.content_length_bad = true;
                }
            } else if (iequals(name, "transfer-encoding")) {
                h.chunked = true;
            } else if (iequals(name, "connection")) {
                h.close = iequals(value, "close");
            } else if (iequals(name, "x-hub-signature-256")) {
                h.signature = value;
                h.has_signature = true;
            } else if (iequals(name, "content-type")) {
                h.content_type = value;
            }
        }
        eol = end;
    }
    return h;
}

// =================================================================================================
// serve
// =================================================================================================

struct ServeOptions {
    unsigned short port = 0;
    std::string secret;
    std::string path = "/events";
    std::string stats_file;
    std::string log_file;
    std::string sample_file;
};

struct BodyKey {
    std::uint64_t a, b;
    bool operator==(const BodyKey&) const = default;
};
struct BodyKeyHash {
    std::size_t operator()(const BodyKey& k) const noexcept { return k.a ^ (k.b * 0x9e3779b97f4a7c15ULL); }
};

struct Sink {
    ServeOptions options;
    std::int64_t started_us = now_us();
    std::uint64_t received = 0;           // POSTs on the path
    std::uint64_t valid = 0;              // ... whose signature verified
    std::uint64_t invalid_signature = 0;  // a signature header that did not match
    std::uint64_t missing_signature = 0;
    std::uint64_t no_content_length = 0;
    std::uint64_t chunked = 0;
    std::uint64_t non_ascii = 0;
    std::uint64_t other_content_type = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t other_requests = 0;  // other paths or methods (404/405), malformed (400)
    std::uint64_t bytes = 0;
    std::uint64_t connections = 0;
    std::int64_t first_us = 0, last_us = 0;  // first and last POST on the path
    std::vector<std::uint32_t> per_second;   // POSTs per second since first_us
    std::unordered_set<BodyKey, BodyKeyHash> seen;
    std::FILE* log = nullptr;
    bool sample_written = false;

    std::string stats_json() const {
        std::string out = "{\"port\":" + std::to_string(options.port);
        auto add = [&](const char* k, std::uint64_t v) { out += ",\"" + std::string(k) + "\":" + std::to_string(v); };
        add("received", received);
        add("valid", valid);
        add("invalid_signature", invalid_signature);
        add("missing_signature", missing_signature);
        add("no_content_length", no_content_length);
        add("chunked", chunked);
        add("non_ascii", non_ascii);
        add("other_content_type", other_content_type);
        add("distinct", seen.size());
        add("duplicates", duplicates);
        add("other_requests", other_requests);
        add("bytes", bytes);
        add("connections", connections);
        out += ",\"started_us\":" + std::to_string(started_us) + ",\"first_us\":" + std::to_string(first_us) +
               ",\"last_us\":" + std::to_string(last_us);
        const double span = received > 1 ? static_cast<double>(last_us - first_us) / 1e6 : 0.0;
        char buf[128];
        std::snprintf(buf, sizeof buf, ",\"span_s\":%.6f,\"rate\":%.1f", span,
                      span > 0 ? static_cast<double>(received - 1) / span : 0.0);
        out += buf;
        out += ",\"per_second\":[";
        for (std::size_t i = 0; i < per_second.size(); ++i) {
            out += (i ? "," : "") + std::to_string(per_second[i]);
        }
        return out + "]}";
    }

    void write_stats() {
        if (log != nullptr) {
            std::fflush(log);
        }
        const std::string json = stats_json();
        std::printf("%s\n", json.c_str());
        std::fflush(stdout);
        if (!options.stats_file.empty()) {
            std::ofstream f(options.stats_file + ".tmp", std::ios::trunc);
            f << json << "\n";
            f.close();
            std::rename((options.stats_file + ".tmp").c_str(), options.stats_file.c_str());
        }
    }

    /// One POST on the path; returns nothing: every such POST is answered 200 {}.
    void on_event(const Head& h, std::string_view body) {
        const std::int64_t t = now_us();
        ++received;
        bytes += body.size();
        if (first_us == 0) {
            first_us = t;
        }
        last_us = t;
        const auto second = static_cast<std::size_t>((t - first_us) / 1'000'000);
        if (second >= per_second.size()) {
            per_second.resize(second + 1, 0);
        }
        ++per_second[second];
        if (!h.content_length) {
            ++no_content_length;
        }
        if (!std::all_of(body.begin(), body.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
            ++non_ascii;
        }
        if (h.content_type != "application/json") {
            ++other_content_type;
        }
        unsigned char mac[32];
        hmac_sha256(options.secret, body, mac);
        bool ok = false;
        if (!h.has_signature) {
            ++missing_signature;
        } else {
            const std::string expected = "sha256=" + hex_lower(mac, sizeof mac);
            ok = h.signature == expected;
            if (ok) {
                ++valid;
            } else {
                ++invalid_signature;
            }
        }
        BodyKey key{};
        std::memcpy(&key.a, mac, 8);
        std::memcpy(&key.b, mac + 8, 8);
        if (!seen.insert(key).second) {
            ++duplicates;
        }
        if (ok && !sample_written && !options.sample_file.empty()) {
            std::ofstream b(options.sample_file, std::ios::binary | std::ios::trunc);
            b << body;
            std::ofstream s(options.sample_file + ".sig", std::ios::binary | std::ios::trunc);
            s << h.signature;
            sample_written = true;
        }
        if (log != nullptr) {
            constexpr std::string_view kId = "\"id\":\"wamid.";
            std::string_view wamid = "-";
            if (const std::size_t at = body.find(kId); at != std::string_view::npos) {
                const std::size_t from = at + 6;
                const std::size_t end = body.find('"', from);
                if (end != std::string_view::npos && end - from < 512) {
                    wamid = body.substr(from, end - from);
                }
            }
            std::fprintf(log, "%llu\t%.*s\t%lld\t%d\n", static_cast<unsigned long long>(received),
                         static_cast<int>(wamid.size()), wamid.data(), static_cast<long long>(t), ok ? 1 : 0);
        }
    }
};

std::string response(int status, std::string_view reason, std::string_view body, bool close) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (close) {
        r += "Connection: close\r\n";
    }
    r += "\r\n";
    r += body;
    return r;
}

asio::awaitable<void> session(tcp::socket socket, Sink& sink) {
    ++sink.connections;
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::string in;
    in.reserve(64 * 1024);
    std::array<char, 64 * 1024> chunk{};
    constexpr std::size_t kMaxHead = 64 * 1024;
    constexpr std::uint64_t kMaxBody = 4 * 1024 * 1024;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    for (;;) {
        std::size_t head_end;
        while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
            if (in.size() > kMaxHead) {
                ++sink.other_requests;
                co_await asio::async_write(socket, asio::buffer(response(431, "Too Large", "{}", true)), token);
                co_return;
            }
            const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), token);
            if (ec) {
                co_return;
            }
            in.append(chunk.data(), n);
        }
        const Head h = parse_head(std::string_view(in).substr(0, head_end));
        const bool is_event = h.first_line.starts_with("POST " + sink.options.path + " ") ||
                              h.first_line == "POST " + sink.options.path;
        if (h.chunked || h.content_length_bad) {
            // Not read as a body: counted, answered, the connection closed.
            if (is_event) {
                if (h.chunked) {
                    ++sink.chunked;
                } else {
                    ++sink.no_content_length;
                }
                ++sink.received;
            } else {
                ++sink.other_requests;
            }
            co_await asio::async_write(socket, asio::buffer(response(400, "Bad Request", "{}", true)), token);
            co_return;
        }
        const std::uint64_t length = h.content_length.value_or(0);
        if (length > kMaxBody) {
            ++sink.other_requests;
            co_await asio::async_write(socket, asio::buffer(response(413, "Too Large", "{}", true)), token);
            co_return;
        }
        const std::size_t total = head_end + 4 + static_cast<std::size_t>(length);
        while (in.size() < total) {
            const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), token);
            if (ec) {
                co_return;
            }
            in.append(chunk.data(), n);
        }
        const std::string_view body = std::string_view(in).substr(head_end + 4, static_cast<std::size_t>(length));
        std::string answer;
        if (is_event) {
            sink.on_event(h, body);
            answer = response(200, "OK", "{}", h.close);
        } else if (h.first_line.starts_with("GET /_sink/stats ")) {
            answer = response(200, "OK", sink.stats_json(), h.close);
        } else {
            ++sink.other_requests;
            answer = response(404, "Not Found", "{}", h.close);
        }
        co_await asio::async_write(socket, asio::buffer(answer), token);
        if (ec || h.close) {
            co_return;
        }
        in.erase(0, total);
    }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, Sink& sink) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted) {
                co_return;
            }
            continue;
        }
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket), sink), asio::detached);
    }
}

int serve(int argc, char** argv) {
    ServeOptions o;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto need = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + ": missing value");
            return argv[++i];
        };
        if (a == "--port") {
            o.port = static_cast<unsigned short>(parse_uint(a, need(), 1, 65535));
        } else if (a == "--secret") {
            o.secret = need();
        } else if (a == "--path") {
            o.path = need();
        } else if (a == "--stats-file") {
            o.stats_file = need();
        } else if (a == "--log") {
            o.log_file = need();
        } else if (a == "--sample") {
            o.sample_file = need();
        } else {
            usage("serve: unknown option " + a);
        }
    }
    if (o.port == 0 || o.secret.empty() || o.path.empty() || o.path.front() != '/') {
        usage("serve needs --port, --secret and a --path starting with /");
    }
    Sink sink;
    sink.options = o;
    if (!o.log_file.empty()) {
        sink.log = std::fopen(o.log_file.c_str(), "w");
        if (sink.log == nullptr) {
            usage("--log: cannot write " + o.log_file);
        }
        std::setvbuf(sink.log, nullptr, _IOFBF, 1 << 20);
    }
    asio::io_context io(1);
    tcp::acceptor acceptor(io);
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), o.port);
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(1024, ec);
    if (ec) {
        std::fprintf(stderr, "event_sink: cannot listen on 127.0.0.1:%u: %s\n", o.port, ec.message().c_str());
        return 1;
    }
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& e, int) {
        if (!e) {
            io.stop();
        }
    });
    asio::co_spawn(io, listen(acceptor, sink), asio::detached);
    io.run();
    sink.write_stats();
    if (sink.log != nullptr) {
        std::fclose(sink.log);
    }
    return 0;
}

// =================================================================================================
// post
// =================================================================================================

struct PostOptions {
    unsigned short port = 0;
    std::string secret;
    std::string path;
    int connections = 16;
    std::uint64_t timeout_s = 600;
    // --inbound
    std::uint64_t per_body = 0;
    std::uint64_t messages = 0;
    std::uint64_t users = 0;
    std::string tag;
    std::string phone_number_id = "15550000001";
    std::string display_phone_number = "15550000001";
    std::string waba_id = "100000000000001";
    std::string user_prefix = "1555";
    std::int64_t ts_base = 0;
    // --template
    std::string template_body;
    std::uint64_t requests = 0;
    std::uint64_t seq_start = 0;
};

/// The body of inbound request `r`: messages r*K .. min(N, (r+1)*K) - 1.
std::string inbound_body(const PostOptions& o, std::uint64_t r) {
    const std::uint64_t from = r * o.per_body;
    const std::uint64_t to = std::min(o.messages, from + o.per_body);
    std::string contacts, messages;
    std::unordered_set<std::uint64_t> users_here;
    for (std::uint64_t k = from; k < to; ++k) {
        const std::uint64_t u = k % o.users;
        const std::uint64_t s = k / o.users;
        const std::string wa_id = o.user_prefix + digits(u, 7);
        if (users_here.insert(u).second) {
            if (!contacts.empty()) contacts += ',';
            contacts += "{\"profile\":{\"name\":\"Bench User " + digits(u, 7) + "\"},\"wa_id\":\"" + wa_id + "\"}";
        }
        if (!messages.empty()) messages += ',';
        messages += "{\"from\":\"" + wa_id + "\",\"id\":\"wamid." + o.tag + digits(k, 12) + "\",\"timestamp\":\"" +
                    std::to_string(o.ts_base + static_cast<std::int64_t>(s)) +
                    "\",\"type\":\"text\",\"text\":{\"body\":\"event bench u" + digits(u, 7) + " s" + digits(s, 5) +
                    " ol\xc3\xa1 \xf0\x9f\x91\x8b\"}}";
    }
    return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"" + o.waba_id +
           "\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"" +
           o.display_phone_number + "\",\"phone_number_id\":\"" + o.phone_number_id + "\"},\"contacts\":[" + contacts +
           "],\"messages\":[" + messages + "]},\"field\":\"messages\"}]}]}";
}

std::string template_body(const PostOptions& o, std::uint64_t r) {
    std::string body = o.template_body;
    const std::string n = digits(o.seq_start + r, 12);
    for (std::size_t at = body.find("{{N}}"); at != std::string::npos; at = body.find("{{N}}", at + n.size())) {
        body.replace(at, 5, n);
    }
    return body;
}

struct PostRun {
    explicit PostRun(const PostOptions& o) : options(o) {}
    const PostOptions& options;
    std::uint64_t total = 0;
    std::uint64_t next = 0;  // single-threaded: no atomics needed
    std::uint64_t errors = 0;
    std::uint64_t answered = 0;
    std::map<int, std::uint64_t> status;
    std::vector<std::uint32_t> latencies_us;
    std::int64_t first_send_us = 0, last_answer_us = 0;
    std::uint64_t bytes = 0;
};

asio::awaitable<void> post_connection(PostRun& run) {
    const PostOptions& o = run.options;
    auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    bool connected = false;
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), o.port);
    std::string in;
    std::array<char, 16 * 1024> chunk{};
    const std::string head = "POST " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(o.port) +
                             "\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ";
    while (run.next < run.total) {
        if (!connected) {
            socket = tcp::socket(executor);
            co_await socket.async_connect(endpoint, token);
            if (ec) {
                ++run.errors;
                asio::steady_timer t(executor, std::chrono::milliseconds(50));
                co_await t.async_wait(token);
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            connected = true;
            in.clear();
        }
        const std::uint64_t r = run.next++;
        const std::string body = o.per_body > 0 ? inbound_body(o, r) : template_body(o, r);
        std::string request = head + hub_signature(o.secret, body) + "\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
        run.bytes += body.size();
        const auto t0 = Steady::now();
        if (run.first_send_us == 0) {
            run.first_send_us = now_us();
        }
        co_await asio::async_write(socket, asio::buffer(request), token);
        if (ec) {
            ++run.errors;
            connected = false;
            continue;
        }
        // One response: head, then Content-Length bytes.
        std::size_t head_end;
        bool failed = false;
        while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
            const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), token);
            if (ec || in.size() > 1024 * 1024) {
                failed = true;
                break;
            }
            in.append(chunk.data(), n);
        }
        Head h;
        if (!failed) {
            h = parse_head(std::string_view(in).substr(0, head_end));
            failed = h.chunked || !h.content_length || !h.first_line.starts_with("HTTP/1.") || h.first_line.size() < 12;
        }
        if (failed) {
            ++run.errors;
            connected = false;
            socket.close(ec);
            continue;
        }
        const std::size_t total = head_end + 4 + static_cast<std::size_t>(*h.content_length);
        while (in.size() < total) {
            const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), token);
            if (ec) {
                failed = true;
                break;
            }
            in.append(chunk.data(), n);
        }
        if (failed) {
            ++run.errors;
            connected = false;
            socket.close(ec);
            continue;
        }
        const int status = std::atoi(std::string(h.first_line.substr(9, 3)).c_str());
        ++run.status[status];
        ++run.answered;
        run.latencies_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t0).count()));
        run.last_answer_us = now_us();
        in.erase(0, total);
        if (h.close) {
            connected = false;
            socket.close(ec);
        }
    }
    if (connected) {
        socket.close(ec);
    }
}

int post(int argc, char** argv) {
    PostOptions o;
    std::string template_file;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto need = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + ": missing value");
            return argv[++i];
        };
        if (a == "--port") {
            o.port = static_cast<unsigned short>(parse_uint(a, need(), 1, 65535));
        } else if (a == "--secret") {
            o.secret = need();
        } else if (a == "--path") {
            o.path = need();
        } else if (a == "--connections") {
            o.connections = static_cast<int>(parse_uint(a, need(), 1, 1024));
        } else if (a == "--timeout") {
            o.timeout_s = parse_uint(a, need(), 1, 3600);
        } else if (a == "--inbound") {
            o.per_body = parse_uint(a, need(), 1, 1000);
        } else if (a == "--messages") {
            o.messages = parse_uint(a, need(), 1, 100'000'000);
        } else if (a == "--users") {
            o.users = parse_uint(a, need(), 1, 10'000'000);
        } else if (a == "--tag") {
            o.tag = need();
        } else if (a == "--phone-number-id") {
            o.phone_number_id = need();
        } else if (a == "--display-phone-number") {
            o.display_phone_number = need();
        } else if (a == "--waba-id") {
            o.waba_id = need();
        } else if (a == "--user-prefix") {
            o.user_prefix = need();
        } else if (a == "--ts-base") {
            o.ts_base = static_cast<std::int64_t>(parse_uint(a, need(), 1, 100'000'000'000ULL));
        } else if (a == "--template") {
            template_file = need();
        } else if (a == "--requests") {
            o.requests = parse_uint(a, need(), 1, 100'000'000);
        } else if (a == "--seq-start") {
            o.seq_start = parse_uint(a, need(), 0, 999'999'999'999ULL);
        } else {
            usage("post: unknown option " + a);
        }
    }
    if (o.port == 0 || o.secret.empty() || o.path.empty() || o.path.front() != '/') {
        usage("post needs --port, --secret and a --path starting with /");
    }
    auto plain = [](const std::string& v) {
        return std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_'; });
    };
    std::uint64_t total = 0;
    if (o.per_body > 0) {
        if (!template_file.empty() || o.messages == 0 || o.users == 0 || o.tag.empty()) {
            usage("--inbound needs --messages, --users and --tag (and no --template)");
        }
        for (const std::string* v : {&o.tag, &o.phone_number_id, &o.display_phone_number, &o.waba_id, &o.user_prefix}) {
            if (!plain(*v)) usage("--inbound: ids are letters, digits, '.' or '_'");
        }
        if (o.ts_base == 0) {
            o.ts_base = now_us() / 1'000'000 - 600;
        }
        total = (o.messages + o.per_body - 1) / o.per_body;
    } else if (!template_file.empty()) {
        if (o.requests == 0) usage("--template needs --requests");
        std::ifstream in(template_file, std::ios::binary);
        if (!in) usage("--template: cannot read " + template_file);
        std::ostringstream ss;
        ss << in.rdbuf();
        o.template_body = ss.str();
        if (o.template_body.find("{{N}}") == std::string::npos) usage("--template: no {{N}} in " + template_file);
        total = o.requests;
    } else {
        usage("post needs --inbound K or --template F");
    }

    asio::io_context io(1);
    PostRun run(o);
    run.total = total;
    run.latencies_us.reserve(total);
    const auto started = Steady::now();
    for (int c = 0; c < o.connections; ++c) {
        asio::co_spawn(io, post_connection(run), asio::detached);
    }
    asio::steady_timer deadline(io, std::chrono::seconds(o.timeout_s));
    bool timed_out = false;
    deadline.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) {
            timed_out = true;
            io.stop();
        }
    });
    // The deadline timer alone keeps run() going once every connection is done: stop then.
    asio::steady_timer check(io);
    std::function<void()> arm = [&] {
        check.expires_after(std::chrono::milliseconds(5));
        check.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            if (run.answered + run.errors >= run.total && run.next >= run.total) {
                deadline.cancel();
                return;
            }
            arm();
        });
    };
    arm();
    io.run();
    const double elapsed = std::chrono::duration<double>(Steady::now() - started).count();
    if (timed_out) {
        run.errors += run.total - std::min(run.total, run.answered + run.errors);
    }
    std::sort(run.latencies_us.begin(), run.latencies_us.end());
    auto pct = [&](double p) {
        if (run.latencies_us.empty()) return 0.0;
        std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(run.latencies_us.size()) + 0.999999);
        rank = std::clamp<std::size_t>(rank, 1, run.latencies_us.size());
        return run.latencies_us[rank - 1] / 1000.0;
    };
    const double span = run.last_answer_us > run.first_send_us ? (run.last_answer_us - run.first_send_us) / 1e6 : 0.0;
    std::string statuses = "{";
    for (const auto& [k, v] : run.status) {
        statuses += (statuses.size() > 1 ? "," : "") + ("\"" + std::to_string(k) + "\":" + std::to_string(v));
    }
    statuses += "}";
    const std::uint64_t items = o.per_body > 0 ? o.messages : total;
    char line[1024];
    std::snprintf(line, sizeof line,
                  "{\"mode\":\"%s\",\"path\":\"%s\",\"connections\":%d,\"requests\":%llu,\"answered\":%llu,"
                  "\"items\":%llu,\"items_per_request\":%llu,\"status_counts\":%s,\"errors\":%llu,"
                  "\"timed_out\":%s,\"elapsed_s\":%.3f,\"span_s\":%.3f,\"rps\":%.1f,\"items_per_s\":%.1f,"
                  "\"body_bytes\":%llu,\"first_send_us\":%lld,\"last_answer_us\":%lld,"
                  "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}}",
                  o.per_body > 0 ? "inbound" : "template", o.path.c_str(), o.connections,
                  static_cast<unsigned long long>(total), static_cast<unsigned long long>(run.answered),
                  static_cast<unsigned long long>(items), static_cast<unsigned long long>(o.per_body > 0 ? o.per_body : 1),
                  statuses.c_str(), static_cast<unsigned long long>(run.errors), timed_out ? "true" : "false", elapsed,
                  span, span > 0 ? run.answered / span : 0.0,
                  span > 0 ? static_cast<double>(items) * run.answered / total / span : 0.0,
                  static_cast<unsigned long long>(run.bytes), static_cast<long long>(run.first_send_us),
                  static_cast<long long>(run.last_answer_us), pct(50), pct(90), pct(99),
                  run.latencies_us.empty() ? 0.0 : run.latencies_us.back() / 1000.0);
    std::printf("%s\n", line);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage();
    }
    const std::string command = argv[1];
    if (command == "serve") {
        return serve(argc, argv);
    }
    if (command == "post") {
        return post(argc, argv);
    }
    usage("the first argument is serve or post");
}
