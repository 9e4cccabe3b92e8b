// WAGATE_KEY_RATE_LIMIT (contract §8): requests per second per API key, 429 with Retry-After
// beyond it. The gateway's clock is a ManualClock here, so the counts are exact however slowly
// the machine runs: time only moves when the test moves it.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {
using nlohmann::json;

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hi"}})";

class KeyRateLimitTest : public GatewayTest {
protected:
    void SetUp() override {
        app::Config config = TestGateway::base_config();
        config.key_rate_limit = 5;
        start(config);
    }

    struct Counts {
        int ok = 0;
        int limited = 0;
        int other = 0;
    };

    /// `n` sends with `key`, from `threads` clients at once on their own connections.
    Counts burst(const std::string& key, int n, int threads) {
        std::atomic<int> ok{0}, limited{0}, other{0}, next{0};
        std::vector<std::thread> clients;
        for (int t = 0; t < threads; ++t) {
            clients.emplace_back([&] {
                auto client = gateway_->client();
                while (next.fetch_add(1) < n) {
                    auto r = client.post_json("/v23.0/1001/messages", kText, key);
                    if (r.status == 200) {
                        ++ok;
                    } else if (r.status == 429 && r.headers["retry-after"] == "1" &&
                               json::parse(r.body)["error"]["code"] == 4) {
                        ++limited;
                    } else {
                        ++other;
                    }
                }
            });
        }
        for (auto& c : clients) {
            c.join();
        }
        return {ok.load(), limited.load(), other.load()};
    }
};

TEST_F(KeyRateLimitTest, ConcurrentRequestsGetExactlyOneSecondsWorthThenTheRate) {
    auto first = burst(key_, 60, 8);
    EXPECT_EQ(first.ok, 5);
    EXPECT_EQ(first.limited, 55);
    EXPECT_EQ(first.other, 0);

    // One interval (200 ms) later exactly one more fits; a second later a whole burst again.
    clock_->advance(std::chrono::milliseconds(200));
    auto one = burst(key_, 20, 4);
    EXPECT_EQ(one.ok, 1);
    EXPECT_EQ(one.limited, 19);
    clock_->advance(std::chrono::seconds(1));
    auto again = burst(key_, 20, 4);
    EXPECT_EQ(again.ok, 5);
    EXPECT_EQ(again.limited, 15);
}

TEST_F(KeyRateLimitTest, TheLimitIsPerKeyAndRejectionsNameIt) {
    auto exhausted = burst(key_, 10, 2);
    ASSERT_EQ(exhausted.ok, 5);
    auto r = gateway_->client().post_json("/v23.0/1001/messages", kText, key_);
    ASSERT_EQ(r.status, 429);
    const auto error = json::parse(r.body)["error"];
    EXPECT_EQ(error["type"], "OAuthException");
    EXPECT_NE(error["error_data"]["details"].get<std::string>().find("WAGATE_KEY_RATE_LIMIT"), std::string::npos);
    EXPECT_FALSE(error["fbtrace_id"].get<std::string>().empty());

    // Another key on the same number still has its whole budget.
    const std::string other = gateway_->create_key({"1001"});
    auto fresh = burst(other, 8, 2);
    EXPECT_EQ(fresh.ok, 5);
    EXPECT_EQ(fresh.limited, 3);
}

TEST_F(KeyRateLimitTest, UnknownKeysAre401AndSpendNoBudget) {
    const std::string forged = key_.substr(0, key_.size() - 1) + (key_.back() == '0' ? '1' : '0');
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(gateway_->client().post_json("/v23.0/1001/messages", kText, forged).status, 401);
    }
    EXPECT_EQ(burst(key_, 5, 1).ok, 5);
}

}  // namespace
}  // namespace wagate::test
