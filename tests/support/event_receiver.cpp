#include "support/event_receiver.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>

namespace wagate::test {
namespace asio = boost::asio;

namespace {

constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;

bool has_header(const http::Request& request, std::string_view lower_name) {
    return std::any_of(request.headers.begin(), request.headers.end(),
                       [&](const http::Header& h) { return h.name == lower_name; });
}

// The contract wants lowercase hex, so the whole header is compared as a string rather than
// through crypto::verify_hub_signature (which accepts either case).
bool signed_by(const std::string& signature, const std::string& secret, std::string_view bytes) {
    return signature == "sha256=" + crypto::to_hex(crypto::hmac_sha256(secret, bytes));
}

ReceivedEvent inspect(const http::Request& request, const std::string& secret) {
    ReceivedEvent e;
    e.at = std::chrono::steady_clock::now();
    e.path = request.query.empty() ? request.path : request.path + "?" + request.query;
    e.body = request.body;
    e.signature = std::string(request.header("x-hub-signature-256"));
    e.signature_valid_raw = signed_by(e.signature, secret, e.body);
    const std::string reescaped = reescape(e.body);
    e.signature_valid_reescaped = !reescaped.empty() && signed_by(e.signature, secret, reescaped);
    e.content_length = has_header(request, "content-length");
    e.chunked = has_header(request, "transfer-encoding");
    e.ascii_only = std::all_of(e.body.begin(), e.body.end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    e.content_type = std::string(request.header("content-type"));
    return e;
}

EventReply default_reply(const ReceivedEvent& event) {
    EventReply reply;
    if (!event.signature_valid_raw) {
        reply.status = 401;
        reply.body = R"({"error":"bad signature"})";
    }
    return reply;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

/// One listening generation: stop() destroys it whole, so that every socket it owns is closed.
struct Listener {
    asio::io_context ioc;
    std::unique_ptr<http::Server> server;
    std::thread thread;
};

}  // namespace

struct EventReceiver::Impl {
    std::string secret;
    std::string path;
    http::Router router;
    std::atomic<unsigned short> port{0};

    std::mutex lifecycle;  // guards listener; never taken on the receiver's thread
    std::unique_ptr<Listener> listener;

    mutable std::mutex mutex;  // guards everything below
    mutable std::condition_variable changed;  // a request recorded or answered
    Script script;
    std::vector<ReceivedEvent> events;
    std::map<std::string, int> seen_bodies;
    std::unordered_set<std::string> handled;  // request ids the handler saw, for on_request
    std::size_t acknowledged = 0;

    void record_answer(std::size_t slot, int status) {
        {
            std::lock_guard lock(mutex);
            events[slot].answered = status;
            if (is_2xx(status)) {
                ++acknowledged;
            }
        }
        changed.notify_all();
    }

    EventReply run_script(const Script& current, const ReceivedEvent& event, int index) {
        if (!current) {
            return default_reply(event);
        }
        try {
            return current(event, index);
        } catch (const std::exception& e) {
            EventReply reply;
            reply.status = 500;
            reply.body = std::string("script threw: ") + e.what();
            return reply;
        }
    }

    asio::awaitable<http::Response> handle(http::Request& request) {
        const ReceivedEvent event = inspect(request, secret);
        Script current;
        std::size_t slot = 0;
        int index = 0;
        {
            std::lock_guard lock(mutex);
            current = script;
            index = seen_bodies[event.body]++;
            slot = events.size();
            events.push_back(event);
            handled.insert(request.request_id);
        }
        changed.notify_all();
        EventReply reply = run_script(current, event, index);
        if (reply.delay.count() > 0) {
            // stop() destroys the io_context: this frame is then destroyed here, unanswered.
            asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
            boost::system::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
        record_answer(slot, reply.status);
        http::Response response;
        response.status = reply.status;
        response.content_type = "application/json";
        response.body = std::move(reply.body);
        co_return response;
    }

    // Requests the server answered without the handler (unknown path, other method, too large,
    // malformed) are recorded too, so a test sees a misdirected delivery instead of a timeout.
    void on_request(const http::RequestRecord& record) {
        {
            std::lock_guard lock(mutex);
            if (record.request && handled.erase(record.request->request_id) > 0) {
                return;
            }
            ReceivedEvent e;
            if (record.request) {
                e = inspect(*record.request, secret);
            }
            e.at = std::chrono::steady_clock::now();
            e.answered = record.status;
            events.push_back(std::move(e));
        }
        changed.notify_all();
    }

    /// Binds 127.0.0.1:`wanted` (0: any free port) on a new io_context thread.
    std::unique_ptr<Listener> listen(unsigned short wanted) {
        auto l = std::make_unique<Listener>();
        http::ServerSettings settings;
        settings.listen = "127.0.0.1:" + std::to_string(wanted);
        l->server = std::make_unique<http::Server>(
            l->ioc.get_executor(), settings, router,
            [](int status, std::string_view details, const std::string&) {
                http::Response response;
                response.status = status;
                response.content_type = "text/plain";
                response.body = std::string(details);
                return response;
            },
            [this](const http::RequestRecord& record) { on_request(record); });
        if (auto started = l->server->start(); !started) {
            throw std::runtime_error("event receiver cannot listen on " + settings.listen + ": " +
                                     started.error().message);
        }
        Listener& raw = *l;
        l->thread = std::thread([&raw] { raw.ioc.run(); });
        return l;
    }

    // Stopping the io_context and then destroying it destroys every session coroutine and the
    // accept loop with the sockets they own: the listener and all connections are closed when this
    // returns, including those holding a delayed reply (Server::stop would wait for those).
    static void shut(std::unique_ptr<Listener> l) {
        l->ioc.stop();
        l->thread.join();
        l->server.reset();
        l.reset();
    }
};

EventReceiver::EventReceiver(std::string secret, Script script, std::string path)
    : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.secret = std::move(secret);
    s.path = std::move(path);
    s.script = std::move(script);
    s.router.add("POST", s.path, kBodyLimit,
                 [&s](http::Request& request, const http::PathParams&) { return s.handle(request); });
    s.listener = s.listen(0);
    s.port = s.listener->server->port();
}

EventReceiver::~EventReceiver() { stop(); }

unsigned short EventReceiver::port() const { return impl_->port; }

std::string EventReceiver::url() const {
    return "http://127.0.0.1:" + std::to_string(port()) + impl_->path;
}

void EventReceiver::set_script(Script script) {
    std::lock_guard lock(impl_->mutex);
    impl_->script = std::move(script);
}

void EventReceiver::stop() {
    {
        std::lock_guard lock(impl_->lifecycle);
        if (!impl_->listener) {
            return;
        }
        Impl::shut(std::move(impl_->listener));
    }
    std::lock_guard lock(impl_->mutex);
    impl_->handled.clear();
}

void EventReceiver::start() {
    std::lock_guard lock(impl_->lifecycle);
    if (impl_->listener) {
        return;
    }
    impl_->listener = impl_->listen(impl_->port);
}

std::vector<ReceivedEvent> EventReceiver::received() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->events;
}

std::vector<ReceivedEvent> EventReceiver::acknowledged() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<ReceivedEvent> out;
    std::copy_if(impl_->events.begin(), impl_->events.end(), std::back_inserter(out),
                 [](const ReceivedEvent& e) { return is_2xx(e.answered); });
    return out;
}

std::size_t EventReceiver::count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->events.size();
}

bool EventReceiver::wait_for_received(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->events.size() >= n; });
}

bool EventReceiver::wait_for_acknowledged(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return impl_->acknowledged >= n; });
}

std::string reescape(std::string_view body) {
    const auto json = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
        return {};
    }
    try {
        return json.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::ordered_json::error_handler_t::strict);
    } catch (const nlohmann::ordered_json::exception&) {
        return {};
    }
}

}  // namespace wagate::test
