#include <gtest/gtest.h>
#include <wagate/api/api.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/crypto/random.hpp>
#include <wagate/http/message.hpp>

#include "api/auth.hpp"

namespace wagate {
namespace {

TEST(ApiKeys, MintedKeysParseBackToTheirIdAndHashTheWholeKey) {
    const auto minted = api::mint_api_key(crypto::uuid_v7_hex(std::chrono::system_clock::now()));
    EXPECT_EQ(api::api_key_id_of(minted.key), minted.id);
    EXPECT_TRUE(crypto::constant_time_equal(minted.hash, crypto::sha256(minted.key)));
    EXPECT_NE(api::mint_api_key(minted.id).key, minted.key);  // fresh secret each time
}

TEST(ApiKeys, MalformedKeysHaveNoId) {
    const std::string id(32, 'a');
    const std::string secret(48, 'b');
    for (const std::string& key : {std::string(), "wag_" + id, "wag_" + id + "_" + secret + "c",
                                  "wag_" + id + "-" + secret, "WAG_" + id + "_" + secret,
                                  "wag_" + std::string(32, 'G') + "_" + secret, "wag_" + id + "_" + std::string(48, 'B')}) {
        EXPECT_EQ(api::api_key_id_of(key), "") << key;
    }
    EXPECT_EQ(api::api_key_id_of("wag_" + id + "_" + secret), id);
}

TEST(ApiKeys, BearerTokensAreReadCaseInsensitively) {
    http::Request r;
    r.headers = {{"authorization", "bearer  abc "}};
    EXPECT_EQ(api::bearer_token(r), "abc");
    r.headers = {{"authorization", "Basic abc"}};
    EXPECT_EQ(api::bearer_token(r), "");
    r.headers = {};
    EXPECT_EQ(api::bearer_token(r), "");
}

TEST(AdminToken, ComparedOnlyWhenConfigured) {
    http::Request r;
    r.headers = {{"authorization", "Bearer secret"}};
    EXPECT_TRUE(api::admin_authorized(r, "secret"));
    EXPECT_FALSE(api::admin_authorized(r, "secreT"));
    EXPECT_FALSE(api::admin_authorized(r, "secret-longer"));
    EXPECT_FALSE(api::admin_authorized(r, ""));
    r.headers = {{"authorization", "Bearer "}};
    EXPECT_FALSE(api::admin_authorized(r, ""));
}

TEST(MessageIds, ExternalFormRoundTrips) {
    const std::string hex = crypto::uuid_v7_hex(std::chrono::system_clock::now());
    EXPECT_EQ(api::internal_message_id(api::external_message_id(hex)), hex);
    EXPECT_EQ(api::internal_message_id("wamid.HBgL"), "");
    EXPECT_EQ(api::internal_message_id("wagate." + std::string(32, 'G')), "");
    EXPECT_EQ(api::internal_message_id("wagate." + std::string(31, 'a')), "");
}

TEST(UuidV7, IsTimeOrderedAndVersioned) {
    const auto t = std::chrono::system_clock::now();
    const std::string a = crypto::uuid_v7_hex(t);
    const std::string b = crypto::uuid_v7_hex(t + std::chrono::milliseconds(1));
    EXPECT_LT(a, b);
    EXPECT_EQ(a[12], '7');
    EXPECT_TRUE(a[16] == '8' || a[16] == '9' || a[16] == 'a' || a[16] == 'b');
}

TEST(Digest, MatchesKnownVectors) {
    EXPECT_EQ(crypto::to_hex(crypto::sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231 test case 2.
    EXPECT_EQ(crypto::to_hex(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_TRUE(crypto::constant_time_equal(std::string_view("x"), std::string_view("x")));
    EXPECT_FALSE(crypto::constant_time_equal(std::string_view("x"), std::string_view("xx")));
}

TEST(Query, ParamsArePercentDecoded) {
    http::Request r;
    r.query = "hub.mode=subscribe&hub.challenge=a%20b+c&empty=&flag";
    EXPECT_EQ(r.query_param("hub.mode"), "subscribe");
    EXPECT_EQ(r.query_param("hub.challenge"), "a b c");
    EXPECT_EQ(r.query_param("empty"), "");
    EXPECT_EQ(r.query_param("missing"), "");
    EXPECT_EQ(http::percent_decode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace wagate
