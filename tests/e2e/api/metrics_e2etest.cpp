// GET /metrics (contract §8): the series move with traffic, carry no user numbers or message
// ids, and live on the admin listener when one is configured.
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/meta_webhooks.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hi"}})";
const std::string kSendRoute = R"(route="/{version}/{phone_number_id}/messages")";

/// Prometheus text → series (name plus labels, as printed) → value. Fails on a line that is
/// neither a comment nor `series value`.
std::map<std::string, double> parse_exposition(const std::string& text) {
    std::map<std::string, double> series;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            continue;
        }
        const auto space = line.rfind(' ');
        EXPECT_NE(space, std::string::npos) << line;
        if (space == std::string::npos) {
            continue;
        }
        const std::string value = line.substr(space + 1);
        series[line.substr(0, space)] = value == "+Inf" ? 1e300 : std::stod(value);
    }
    return series;
}

class MetricsTest : public GatewayTest {
protected:
    std::map<std::string, double> scrape() {
        auto r = gateway_->client().get("/metrics");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
        last_text_ = r.body;
        return parse_exposition(r.body);
    }
    std::string last_text_;
};

double at(const std::map<std::string, double>& m, const std::string& series) {
    auto it = m.find(series);
    return it == m.end() ? 0 : it->second;
}

TEST_F(MetricsTest, SeriesMoveWithTrafficAndCarryNoUserData) {
    const auto before = scrape();
    auto client = gateway_->client();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(client.post_json("/v23.0/1001/messages", kText, key_).status, 200);
    }
    ASSERT_EQ(client.post_json("/v23.0/1001/messages", R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text"})", key_).status, 400);
    ASSERT_EQ(client.post_json("/v23.0/1001/messages", kText, "wrong").status, 401);
    ASSERT_EQ(client.get("/no/such/route").status, 404);
    // A window-closed refusal, by policy.
    ASSERT_EQ(client.post_json("/v23.0/1001/messages",
                               R"({"messaging_product":"whatsapp","to":"+15559990000","type":"text","text":{"body":"x"}})", key_)
                  .status,
              400);
    // Webhooks: one stored, the same bytes again, one with a bad signature; its statuses applied.
    const std::string id = sent_message("wamid.METRICS1");
    const std::string body = statuses_body("1001", nlohmann::json::array({status_item("wamid.METRICS1", "delivered", 1'700'000'100),
                                                                          status_item("wamid.METRICS1", "read", 1'700'000'200)}));
    ASSERT_EQ(post_webhook(client, body).status, 200);
    ASSERT_EQ(post_webhook(client, body).status, 200);
    ASSERT_EQ(post_webhook(client, body, "not-the-secret").status, 401);
    gateway_->drain_webhooks();

    const auto after = scrape();
    const auto delta = [&](const std::string& series) { return at(after, series) - at(before, series); };
    // sent_message made one more accepted send.
    EXPECT_EQ(delta("wagate_http_requests_total{method=\"POST\"," + kSendRoute + ",status=\"200\"}"), 4);
    EXPECT_EQ(delta("wagate_http_requests_total{method=\"POST\"," + kSendRoute + ",status=\"401\"}"), 1);
    EXPECT_EQ(delta("wagate_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"), 1);
    EXPECT_EQ(delta("wagate_http_request_duration_seconds_count{method=\"POST\"," + kSendRoute + "}"), 7);
    EXPECT_EQ(delta("wagate_http_request_duration_seconds_bucket{method=\"POST\"," + kSendRoute + ",le=\"+Inf\"}"), 7);
    EXPECT_GT(delta("wagate_http_request_duration_seconds_sum{method=\"POST\"," + kSendRoute + "}"), 0);
    EXPECT_EQ(delta("wagate_messages_total{status=\"accepted\"}"), 4);
    EXPECT_EQ(delta(R"(wagate_send_rejections_total{reason="invalid_payload",code="131008"})") +
                  delta(R"(wagate_send_rejections_total{reason="invalid_payload",code="100"})"),
              1);
    EXPECT_EQ(delta(R"(wagate_send_rejections_total{reason="unauthenticated",code="190"})"), 1);
    EXPECT_EQ(delta(R"(wagate_send_rejections_total{reason="window_closed",code="131047"})"), 1);
    EXPECT_EQ(delta(R"(wagate_webhook_deliveries_total{result="stored"})"), 1);
    EXPECT_EQ(delta(R"(wagate_webhook_deliveries_total{result="duplicate"})"), 1);
    EXPECT_EQ(delta(R"(wagate_webhook_deliveries_total{result="unverified"})"), 1);
    EXPECT_EQ(delta(R"(wagate_webhook_statuses_total{status="delivered"})"), 1);
    EXPECT_EQ(delta(R"(wagate_webhook_statuses_total{status="read"})"), 1);
    // The relay is off in these tests: the 4 accepted sends wait in the queue (sent_message gives
    // its message a wamid without taking it off the queue). The backlogs are
    // read from the database at most once a second, so a fresh reading may take a scrape or two.
    EXPECT_TRUE(eventually([&] { return at(scrape(), "wagate_relay_queue_messages") == 4; })) << last_text_;
    const auto backlogs = scrape();
    EXPECT_LE(at(backlogs, "wagate_relay_queue_due_messages"), 4);
    EXPECT_GE(at(backlogs, "wagate_relay_queue_oldest_due_seconds"), 0);
    EXPECT_EQ(at(backlogs, "wagate_webhook_backlog_deliveries"), 0);  // drained above
    EXPECT_EQ(at(backlogs, "wagate_database_up"), 1);
    EXPECT_EQ(at(after, "wagate_db_pool_size"), 6);
    EXPECT_GE(at(after, R"(wagate_http_connections_open{listener="public"})"), 1);
    // Buckets are cumulative: each is at least the one before.
    double previous = 0;
    for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
                           "5", "10", "+Inf"}) {
        const double v = at(after, "wagate_http_request_duration_seconds_bucket{method=\"POST\"," + kSendRoute +
                                       ",le=\"" + le + "\"}");
        EXPECT_GE(v, previous) << le;
        previous = v;
    }
    // No user's number, no message id, no key anywhere in the scrape.
    EXPECT_EQ(last_text_.find("15551234567"), std::string::npos);
    EXPECT_EQ(last_text_.find("15559990000"), std::string::npos);
    EXPECT_EQ(last_text_.find(id), std::string::npos);
    EXPECT_EQ(last_text_.find("METRICS1"), std::string::npos);
    EXPECT_EQ(last_text_.find(key_), std::string::npos);
}

TEST_F(MetricsTest, InventedMethodsShareOneSeries) {
    auto client = gateway_->client();
    for (const char* method : {"BREW", "FOO1", "WHATEVER"}) {
        client.request(method, "/healthz");
    }
    scrape();
    EXPECT_EQ(last_text_.find("BREW"), std::string::npos);
    EXPECT_EQ(last_text_.find("WHATEVER"), std::string::npos);
    EXPECT_NE(last_text_.find("method=\"OTHER\""), std::string::npos);
}

class MetricsAdminListenerTest : public GatewayTest {
protected:
    void SetUp() override {
        app::Config config = TestGateway::base_config();
        config.admin_listen = "127.0.0.1:0";
        start(config);
    }
};

TEST_F(MetricsAdminListenerTest, MetricsAndAdminMoveToTheAdminListener) {
    EXPECT_EQ(gateway_->client().get("/metrics").status, 404);
    EXPECT_EQ(gateway_->client().get("/admin/v1/api-keys", kAdminToken).status, 404);
    HttpClient admin(gateway_->admin_port());
    EXPECT_EQ(admin.get("/admin/v1/api-keys", kAdminToken).status, 200);
    auto r = admin.get("/metrics");
    ASSERT_EQ(r.status, 200);
    const auto series = parse_exposition(r.body);
    EXPECT_EQ(at(series, R"(wagate_http_requests_total{method="GET",route="/admin/v1/api-keys",status="200"})"), 1);
    EXPECT_TRUE(series.contains(R"(wagate_http_connections_open{listener="admin"})"));
    // The send API stays on the public listener.
    EXPECT_EQ(admin.post_json("/v23.0/1001/messages", kText, key_).status, 404);
}

}  // namespace
}  // namespace wagate::test
