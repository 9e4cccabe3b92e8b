// The test-support EventReceiver against the test HTTP client on 127.0.0.1: signatures over raw and
// re-escaped bytes, scripts, recorded deviations, and stop/start on the same port. No PostgreSQL.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <wagate/crypto/digest.hpp>

#include "support/event_receiver.hpp"
#include "support/http_client.hpp"

namespace wagate::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "callback-secret";
constexpr std::string_view kEscaped = R"({"text":"caf\u00e9 \ud83d\ude00"})";
constexpr std::string_view kUtf8 = "{\"text\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}";

std::string sign(std::string_view body, std::string_view secret = kSecret) {
    return "sha256=" + crypto::to_hex(crypto::hmac_sha256(secret, body));
}

HttpResult post(HttpClient& client, std::string_view body, const std::string& signature) {
    return client.post_json("/events", std::string(body), {}, {{"X-Hub-Signature-256", signature}});
}

bool connect_refused(unsigned short port) {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    boost::system::error_code ec;
    socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    return ec == asio::error::connection_refused;
}

TEST(EventReceiverTest, SignedAsciiBodyIsAcknowledged) {
    EventReceiver receiver{std::string(kSecret)};
    HttpClient client(receiver.port());
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]})";

    const HttpResult result = post(client, body, sign(body));

    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body, "{}");
    ASSERT_TRUE(receiver.wait_for_acknowledged(1, 5s));
    EXPECT_EQ(receiver.url(), "http://127.0.0.1:" + std::to_string(receiver.port()) + "/events");
    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 1u);
    const ReceivedEvent& e = events[0];
    EXPECT_EQ(e.path, "/events");
    EXPECT_EQ(e.body, body);
    EXPECT_EQ(e.signature, sign(body));
    EXPECT_TRUE(e.signature_valid_raw);
    EXPECT_TRUE(e.signature_valid_reescaped);
    EXPECT_TRUE(e.content_length);
    EXPECT_FALSE(e.chunked);
    EXPECT_TRUE(e.ascii_only);
    EXPECT_EQ(e.content_type, "application/json");
    EXPECT_EQ(e.answered, 200);
    EXPECT_EQ(receiver.acknowledged().size(), 1u);
}

TEST(EventReceiverTest, BadSignaturesAreRecordedAndAnswered401) {
    EventReceiver receiver{std::string(kSecret)};
    HttpClient client(receiver.port());
    const std::string body = R"({"n":1})";
    std::string upper = sign(body);
    for (std::size_t i = 7; i < upper.size(); ++i) {
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    }
    ASSERT_NE(upper, sign(body));

    EXPECT_EQ(post(client, body, sign(body, "another-secret")).status, 401);
    EXPECT_EQ(post(client, body, upper).status, 401);  // the contract wants lowercase hex
    EXPECT_EQ(client.post_json("/events", body).status, 401);

    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 3u);
    for (const ReceivedEvent& e : events) {
        EXPECT_FALSE(e.signature_valid_raw);
        EXPECT_FALSE(e.signature_valid_reescaped);
        EXPECT_EQ(e.answered, 401);
        EXPECT_EQ(e.body, body);
    }
    EXPECT_EQ(events[1].signature, upper);
    EXPECT_EQ(events[2].signature, "");
    EXPECT_TRUE(receiver.acknowledged().empty());
}

TEST(EventReceiverTest, EscapedNonAsciiVerifiesRawAndReescaped) {
    EventReceiver receiver{std::string(kSecret)};
    HttpClient client(receiver.port());
    EXPECT_EQ(reescape(kEscaped), kEscaped);

    EXPECT_EQ(post(client, kEscaped, sign(kEscaped)).status, 200);

    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(events[0].signature_valid_raw);
    EXPECT_TRUE(events[0].signature_valid_reescaped);
    EXPECT_TRUE(events[0].ascii_only);
}

TEST(EventReceiverTest, RawUtf8VerifiesOnlyOverTheRawBytes) {
    EventReceiver receiver{std::string(kSecret)};
    HttpClient client(receiver.port());
    EXPECT_EQ(reescape(kUtf8), kEscaped);
    EXPECT_EQ(reescape("not json"), "");

    EXPECT_EQ(post(client, kUtf8, sign(kUtf8)).status, 200);

    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].body, kUtf8);
    EXPECT_TRUE(events[0].signature_valid_raw);
    EXPECT_FALSE(events[0].signature_valid_reescaped);
    EXPECT_FALSE(events[0].ascii_only);
}

TEST(EventReceiverTest, ScriptAnswersBySameBodyIndex) {
    EventReceiver receiver{std::string(kSecret), [](const ReceivedEvent&, int index) {
                               EventReply reply;
                               reply.status = index == 0 ? 500 : 200;
                               return reply;
                           }};
    HttpClient client(receiver.port());
    const std::string first = R"({"event":1})";
    const std::string second = R"({"event":2})";

    EXPECT_EQ(post(client, first, sign(first)).status, 500);
    EXPECT_EQ(post(client, first, sign(first)).status, 200);
    EXPECT_EQ(post(client, second, sign(second)).status, 500);

    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].answered, 500);
    EXPECT_EQ(events[1].answered, 200);
    EXPECT_EQ(events[2].answered, 500);
    const auto acknowledged = receiver.acknowledged();
    ASSERT_EQ(acknowledged.size(), 1u);
    EXPECT_EQ(acknowledged[0].body, first);

    receiver.set_script({});  // back to the default: 200 when signed
    EXPECT_EQ(post(client, second, sign(second)).status, 200);
    EXPECT_TRUE(receiver.wait_for_acknowledged(2, 5s));
}

// A delayed reply holds only its own connection; stop() cuts it off, refuses connects, and start()
// serves the same URL again.
TEST(EventReceiverTest, StopRefusesConnectionsAndStartReopensTheSamePort) {
    const std::string slow = R"({"slow":true})";
    const std::string fast = R"({"fast":true})";
    auto slow_arrived = std::make_shared<std::promise<void>>();
    EventReceiver receiver{std::string(kSecret), [&slow, slow_arrived](const ReceivedEvent& e, int index) {
                               EventReply reply;
                               if (e.body == slow && index == 0) {
                                   reply.delay = 60s;
                                   slow_arrived->set_value();
                               }
                               return reply;
                           }};
    const unsigned short port = receiver.port();
    const std::string url = receiver.url();
    std::promise<bool> slow_failed;
    std::thread slow_client([&] {
        HttpClient client(port);
        try {
            post(client, slow, sign(slow));
            slow_failed.set_value(false);
        } catch (const std::exception&) {
            slow_failed.set_value(true);
        }
    });
    ASSERT_EQ(slow_arrived->get_future().wait_for(10s), std::future_status::ready);

    HttpClient client(port);
    EXPECT_EQ(post(client, fast, sign(fast)).status, 200);

    receiver.stop();
    auto failed = slow_failed.get_future();
    ASSERT_EQ(failed.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(failed.get());
    slow_client.join();
    EXPECT_TRUE(connect_refused(port));
    EXPECT_THROW(post(client, fast, sign(fast)), std::exception);

    receiver.start();
    EXPECT_EQ(receiver.url(), url);
    EXPECT_EQ(post(client, slow, sign(slow)).status, 200);  // index 1: no delay

    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].body, slow);
    EXPECT_EQ(events[0].answered, 0);  // cut off by stop()
    EXPECT_EQ(events[1].body, fast);
    EXPECT_EQ(events[2].body, slow);
    EXPECT_EQ(events[2].answered, 200);
    EXPECT_EQ(receiver.acknowledged().size(), 2u);
}

TEST(EventReceiverTest, ChunkedAndMisdirectedRequestsAreRecorded) {
    EventReceiver receiver{std::string(kSecret)};
    HttpClient client(receiver.port());
    const std::string body = R"({"chunked":true})";
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    const std::string chunked = "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "X-Hub-Signature-256: " + sign(body) +
                                "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + size + "\r\n" +
                                body + "\r\n0\r\n\r\n";

    EXPECT_EQ(client.raw(chunked).status, 200);
    EXPECT_EQ(client.post_json("/elsewhere", body, {}, {{"X-Hub-Signature-256", sign(body)}}).status, 404);

    ASSERT_TRUE(receiver.wait_for_received(2, 5s));
    const auto events = receiver.received();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].body, body);
    EXPECT_TRUE(events[0].chunked);
    EXPECT_FALSE(events[0].content_length);
    EXPECT_TRUE(events[0].signature_valid_raw);
    EXPECT_EQ(events[1].path, "/elsewhere");
    EXPECT_EQ(events[1].answered, 404);
    EXPECT_EQ(events[1].body, "");  // the server answers 404 without reading the body
}

}  // namespace
}  // namespace wagate::test
