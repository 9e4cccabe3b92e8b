// The business rules of ../shared/spec/policy.md over the real send API: customer service window,
// opt-in, identity changes, number status, stored templates, the pair backlog cap, the messaging
// limit (budget) and its admin views, upgrades and the maintenance that applies them.
//
// Every test runs on a ManualClock (`clock_`): 24-hour and 7-day rules are crossed by moving the
// clock, never by waiting. Recipients are 1555xxxxxxx users, distinct from the fixture's
// kWindowUser.
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"
#include "support/time_assertions.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::seconds;

constexpr std::int64_t kDay = 24 * 3600;

// The template most tests send: one positional body variable.
const std::string kHello =
    R"({"category":"MARKETING","status":"APPROVED","components":[{"type":"BODY","text":"Hello {{1}}"}]})";

// An id of a message from the user, for reactions and mark-as-read.
const std::string kInboundWamid = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI3RUY0QkM5QzFDNDk0NEJBMUEA";

/// Test user number n: "1555" and seven digits ("15550000001" for 1).
std::string user(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "1555%07d", n);
    return buf;
}


json text_message(const std::string& to) {
    return {{"messaging_product", "whatsapp"},
            {"to", "+" + to},
            {"type", "text"},
            {"text", {{"body", "hi"}}}};
}

/// The components of a send matching kHello: one body text parameter.
json hello_components() {
    return json::array(
        {{{"type", "body"}, {"parameters", json::array({{{"type", "text"}, {"text", "Ann"}}})}}});
}

/// A template send; by default the matching send of kHello ("hello", en_US). Null components:
/// the send has none.
json template_message(const std::string& to,
                      const std::string& name = "hello",
                      json components = hello_components(),
                      const std::string& language = "en_US") {
    json t = {{"name", name}, {"language", {{"code", language}}}};
    if (!components.is_null()) {
        t["components"] = std::move(components);
    }
    return {{"messaging_product", "whatsapp"},
            {"to", "+" + to},
            {"type", "template"},
            {"template", std::move(t)}};
}

bool is_non_empty_string(const json& value) {
    return value.is_string() && !value.get<std::string>().empty();
}

class PolicyRulesTest : public GatewayTest {
protected:
    void SetUp() override {
        start(config());
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        client_ = std::make_unique<HttpClient>(gateway_->client());
        key_both_ = gateway_->create_key({"1001", "1002"});
        // Both numbers send from WABA "waba1", where the templates of these tests are stored.
        put_number("1001", R"({"waba_id":"waba1"})");
        put_number("1002", R"({"waba_id":"waba1"})");
        put_template("hello", kHello);
    }

    /// The gateway's settings; fixtures for other settings override this.
    virtual app::Config config() const {
        app::Config c = TestGateway::base_config();
        c.maintenance_interval_ms = 0;  // maintenance runs only when a test asks for it
        return c;
    }

    // --- Admin API -------------------------------------------------------------------------

    HttpResult admin(const std::string& method,
                     const std::string& path,
                     const std::string& body = {}) {
        return gateway_->admin(method, path, body);
    }
    void admin_ok(const std::string& method,
                  const std::string& path,
                  const std::string& body = {}) {
        auto r = admin(method, path, body);
        ASSERT_EQ(r.status, 200) << method << " " << path << " " << body << " → " << r.body;
    }
    void put_business(const std::string& body, const std::string& id = "biz1") {
        admin_ok("PUT", "/admin/v1/businesses/" + id, body);
    }
    /// Updates 1001 or 1002 (a partial update: the fields given change, the rest stays).
    void put_number(const std::string& id, const std::string& body) {
        admin_ok("PUT", "/admin/v1/phone-numbers/" + id, body);
    }
    void put_template(const std::string& name,
                      const std::string& definition,
                      const std::string& waba = "waba1",
                      const std::string& language = "en_US") {
        admin_ok("PUT", "/admin/v1/templates/" + waba + "/" + name + "/" + language, definition);
    }
    void put_contact(const std::string& wa_id,
                     const json& body,
                     const std::string& phone = "1001") {
        admin_ok("PUT", "/admin/v1/contacts/" + phone + "/" + wa_id, body.dump());
    }
    void opt_in(const std::string& wa_id, const std::string& phone = "1001") {
        put_contact(wa_id, {{"opted_in", true}, {"source", "signup-form"}}, phone);
    }
    void opt_out(const std::string& wa_id, const std::string& phone = "1001") {
        put_contact(wa_id, {{"opted_in", false}, {"source", "STOP keyword"}}, phone);
    }
    /// An inbound message from `wa_id` at `unix_seconds` (now by default): opens the window.
    void open_window(const std::string& wa_id,
                     std::int64_t unix_seconds = -1,
                     const std::string& phone = "1001") {
        gateway_->open_window(phone, wa_id, unix_seconds < 0 ? now() : unix_seconds);
    }
    /// What the webhook ingest will do when Meta reports that the user's identity changed.
    static void require_identity_ack(const std::string& wa_id, const std::string& phone = "1001") {
        const std::string key = "('" + phone + "', '" + wa_id + "', true)";
        sql("INSERT INTO wagate.contacts (phone_number_id, wa_id, identity_ack_required) VALUES " +
            key +
            " ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET identity_ack_required = true");
    }

    json limits(const std::string& business = "biz1") {
        auto r = admin("GET", "/admin/v1/businesses/" + business + "/limits");
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false);
    }
    json used() { return limits()["used"]; }
    json history(const std::string& path) {
        auto r = admin("GET", path);
        EXPECT_EQ(r.status, 200) << path << " → " << r.body;
        return json::parse(r.body, nullptr, false)["data"];
    }
    std::string tier() {
        return json::parse(admin("GET", "/admin/v1/businesses/biz1").body)["messaging_limit_tier"];
    }
    std::string number_status(const std::string& id) {
        return json::parse(admin("GET", "/admin/v1/phone-numbers/" + id).body)["status"];
    }

    /// biz1 on `tier` without automatic upgrades, and both numbers without the opt-in requirement,
    /// so every template to a user without a window is business-initiated and admitted up to the
    /// limit.
    void use_tier(const std::string& tier_name, const std::string& rule = "meta-2025") {
        const json business = {
            {"messaging_limit_tier", tier_name}, {"upgrade_rule", rule}, {"auto_upgrade", false}};
        put_business(business.dump());
        put_number("1001", R"({"require_opt_in":false})");
        put_number("1002", R"({"require_opt_in":false})");
    }

    /// One maintenance pass (automatic upgrades, flagged downgrades) at the clock's time, as the
    /// background timer would run it.
    void run_maintenance() {
        auto ran = gateway_->run_maintenance();
        ASSERT_TRUE(ran.has_value()) << ran.error().message;
    }

    // --- Send API --------------------------------------------------------------------------

    HttpResult send(const json& body, const std::string& phone = "1001") {
        return client_->post_json("/v23.0/" + phone + "/messages", body.dump(), key_both_);
    }
    HttpResult send_text(const std::string& to) { return send(text_message(to)); }
    HttpResult send_template(const std::string& to, const std::string& phone = "1001") {
        return send(template_message(to), phone);
    }
    /// Templates to users first … first + count − 1 (business-initiated when they have no window),
    /// each expected to be accepted.
    void reach(int first, int count, const std::string& phone = "1001") {
        for (int i = first; i < first + count; ++i) {
            auto r = send_template(user(i), phone);
            ASSERT_EQ(r.status, 200) << user(i) << " via " << phone << ": " << r.body;
        }
    }

    /// Asserts the Graph error and returns its details.
    static std::string error_details(const HttpResult& r, int status, int code) {
        EXPECT_EQ(r.status, status) << r.body;
        auto body = json::parse(r.body, nullptr, false);
        if (!body.contains("error")) {
            ADD_FAILURE() << "not an error envelope: " << r.body;
            return {};
        }
        EXPECT_EQ(body["error"]["code"], code) << r.body;
        const auto& details = body["error"]["error_data"]["details"];
        return details.is_string() ? details.get<std::string>() : std::string{};
    }
    /// The same for the gateway's own codes (contract §4), which carry type WagateException.
    static std::string expect_gateway_error(const HttpResult& r, int status, int code) {
        auto details = error_details(r, status, code);
        EXPECT_EQ(json::parse(r.body, nullptr, false)["error"]["type"], "WagateException")
            << r.body;
        return details;
    }

    static std::string messages() { return sql("SELECT count(*) FROM wagate.messages"); }
    std::int64_t now() const { return clock_->unix_seconds(); }

    std::unique_ptr<HttpClient> client_;
    std::string key_both_;  // scoped to 1001 and 1002
};

// ============================================================================================
// §1 Customer service window
// ============================================================================================

TEST_F(PolicyRulesTest, WindowIsOpenUntilOneSecondBefore24HoursAndClosedAtExactly24) {
    const std::int64_t opened = now();
    open_window(user(1), opened);
    clock_->advance(hours(24) - seconds(1));
    ASSERT_EQ(send_text(user(1)).status, 200);

    clock_->advance(seconds(1));  // exactly 24 h after the inbound message
    auto r = send_text(user(1));
    const std::string details = error_details(r, 400, 131047);
    EXPECT_NE(details.find(utc_to_the_second(opened + kDay)), std::string::npos)
        << "the details say when the window closed: " << details;
    EXPECT_EQ(messages(), "1") << "a refused message is not stored";
}

TEST_F(PolicyRulesTest, WithoutAnyInboundMessageFreeFormIsRefused) {
    auto r = send_text(user(1));
    const std::string details = error_details(r, 400, 131047);
    EXPECT_FALSE(details.empty());
    EXPECT_EQ(messages(), "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "0");
}

TEST_F(PolicyRulesTest, EveryFreeFormTypeNeedsTheWindowReactionsIncluded) {
    const std::string to = "+" + user(1);
    const std::vector<json> free_form = {
        text_message(user(1)),
        {{"messaging_product", "whatsapp"},
         {"to", to},
         {"type", "image"},
         {"image", {{"id", "1479537139650973"}}}},
        {{"messaging_product", "whatsapp"},
         {"to", to},
         {"type", "location"},
         {"location", {{"latitude", "37.44"}, {"longitude", "-122.16"}}}},
        {{"messaging_product", "whatsapp"},
         {"to", to},
         {"type", "reaction"},
         {"reaction", {{"message_id", kInboundWamid}, {"emoji", "👍"}}}},
    };
    for (const auto& body : free_form) {
        error_details(send(body), 400, 131047);
    }
    EXPECT_EQ(messages(), "0");
    open_window(user(1));
    for (const auto& body : free_form) {
        EXPECT_EQ(send(body).status, 200) << body["type"];
    }
}

TEST_F(PolicyRulesTest, TemplatesAreNeverRefusedByTheWindow) {
    opt_in(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200) << "no window ever opened";
    open_window(user(1));
    clock_->advance(hours(30));
    auto r = send_template(user(1));
    EXPECT_EQ(r.status, 200) << "window closed 6 h ago: " << r.body;
}

TEST_F(PolicyRulesTest, ALateOlderInboundNeverShortensTheWindow) {
    const std::int64_t t0 = now();
    open_window(user(1), t0);
    open_window(user(1), t0 - 20 * 3600);  // an older message delivered late
    clock_->advance(hours(23));
    EXPECT_EQ(send_text(user(1)).status, 200) << "the window still runs from the newer message";
}

TEST_F(PolicyRulesTest, ANewerInboundRenewsAClosedWindow) {
    open_window(user(1), now() - 25 * 3600);
    error_details(send_text(user(1)), 400, 131047);
    open_window(user(1), now() - 60);
    EXPECT_EQ(send_text(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, WindowsBelongToOnePhoneNumber) {
    open_window(user(1), now(), "1001");
    EXPECT_EQ(send_text(user(1)).status, 200);
    error_details(send(text_message(user(1)), "1002"), 400, 131047);
}

TEST_F(PolicyRulesTest, MarkAsReadSkipsEveryRule) {
    // A full budget on a restricted number that requires opt-in: a read receipt still goes.
    use_tier("TIER_50");
    reach(1, 50);
    put_number("1001", R"({"status":"RESTRICTED","require_opt_in":true})");
    const json read = {
        {"messaging_product", "whatsapp"}, {"status", "read"}, {"message_id", kInboundWamid}};
    auto r = send(read);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"success":true})"));
    EXPECT_EQ(used(), 50);
}

// ============================================================================================
// §2 Opt-in
// ============================================================================================

TEST_F(PolicyRulesTest, TemplatesNeedOptInAndOptOutWins) {
    expect_gateway_error(send_template(user(1)), 400, 900101);  // never heard of
    opt_in(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200);
    opt_out(user(1));
    expect_gateway_error(send_template(user(1)), 400, 900101);
    opt_in(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200) << "opting in again lifts the opt-out";
    EXPECT_EQ(messages(), "2");
}

TEST_F(PolicyRulesTest, OptInIsCheckedInsideTheWindowToo) {
    open_window(user(1));
    expect_gateway_error(send_template(user(1)), 400, 900101);
    opt_in(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, OptInIsPerPhoneNumber) {
    opt_in(user(1), "1001");
    EXPECT_EQ(send_template(user(1), "1001").status, 200);
    expect_gateway_error(send_template(user(1), "1002"), 400, 900101);
}

TEST_F(PolicyRulesTest, FreeFormMessagesIgnoreOptIn) {
    open_window(user(1));
    opt_out(user(1));
    EXPECT_EQ(send_text(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, WithoutRequireOptInNothingIsChecked) {
    put_number("1001", R"({"require_opt_in":false})");
    EXPECT_EQ(send_template(user(1)).status, 200) << "never opted in";
    opt_out(user(2));
    EXPECT_EQ(send_template(user(2)).status, 200) << "opted out";
    // The other number still requires it.
    expect_gateway_error(send_template(user(1), "1002"), 400, 900101);
}

// ============================================================================================
// §2 Identity changes
// ============================================================================================

TEST_F(PolicyRulesTest, AnIdentityChangeBlocksEveryMessageUntilAcknowledged) {
    open_window(user(1));
    opt_in(user(1));
    require_identity_ack(user(1));
    expect_gateway_error(send_text(user(1)), 400, 900102);
    expect_gateway_error(send_template(user(1)), 400, 900102);
    EXPECT_EQ(messages(), "0");

    admin_ok("POST", "/admin/v1/contacts/1001/" + user(1) + "/identity-ack");
    EXPECT_EQ(send_text(user(1)).status, 200);
    EXPECT_EQ(send_template(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, TheIdentityRuleComesBeforeTheWindow) {
    // The number may belong to someone else now: that is the answer, not "window closed".
    require_identity_ack(user(1));
    expect_gateway_error(send_text(user(1)), 400, 900102);
}

// ============================================================================================
// §4 Number status
// ============================================================================================

TEST_F(PolicyRulesTest, ARestrictedNumberRefusesBusinessInitiatedMessagesOnly) {
    put_number("1001", R"({"status":"RESTRICTED"})");
    opt_in(user(1));
    expect_gateway_error(send_template(user(1)), 400, 900103);  // no window: business-initiated

    open_window(user(2));
    opt_in(user(2));
    EXPECT_EQ(send_template(user(2)).status, 200) << "a template inside the window is a reply";
    EXPECT_EQ(send_text(user(2)).status, 200);
    EXPECT_EQ(send_text(kWindowUser).status, 200);
    EXPECT_EQ(messages(), "3");
    EXPECT_EQ(used(), 0) << "the refused template consumed nothing";

    put_number("1001", R"({"status":"CONNECTED"})");
    EXPECT_EQ(send_template(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, AFlaggedNumberStillSends) {
    put_number("1001", R"({"status":"FLAGGED"})");
    opt_in(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200);
    EXPECT_EQ(used(), 1);
}

// ============================================================================================
// §5 Templates against their stored definitions
// ============================================================================================

TEST_F(PolicyRulesTest, ATemplateWithoutAStoredDefinitionIs132001) {
    opt_in(user(1));
    error_details(send(template_message(user(1), "no_such_template")), 404, 132001);
    {
        SCOPED_TRACE("stored in en_US only");
        error_details(send(template_message(user(1), "hello", hello_components(), "pt_BR")), 404,
                      132001);
    }
    put_template("other_waba_only", kHello, "waba2");
    {
        SCOPED_TRACE("stored for another WABA than the number's");
        error_details(send(template_message(user(1), "other_waba_only")), 404, 132001);
    }
    EXPECT_EQ(messages(), "0");
    EXPECT_EQ(send_template(user(1)).status, 200);
}

TEST_F(PolicyRulesTest, OnlyApprovedTemplatesCanBeSent) {
    opt_in(user(1));
    const std::map<std::string, std::pair<int, int>> refused = {{"PAUSED", {400, 132015}},
                                                                {"DISABLED", {400, 132016}},
                                                                {"PENDING", {404, 132001}},
                                                                {"REJECTED", {404, 132001}}};
    for (const auto& [status, answer] : refused) {
        std::string definition = kHello;
        definition.replace(definition.find("APPROVED"), 8, status);
        put_template("hello", definition);
        SCOPED_TRACE(status);
        error_details(send_template(user(1)), answer.first, answer.second);
    }
    EXPECT_EQ(messages(), "0");
    put_template("hello", kHello);
    EXPECT_EQ(send_template(user(1)).status, 200) << "approved again";
}

TEST_F(PolicyRulesTest, ParametersMustMatchTheDefinition) {
    opt_in(user(1));
    const auto body = [](json parameters) {
        return json::array({{{"type", "body"}, {"parameters", std::move(parameters)}}});
    };
    const json ann = {{"type", "text"}, {"text", "Ann"}};
    error_details(send(template_message(user(1), "hello", json(nullptr))), 400, 132000);  // none
    error_details(send(template_message(user(1), "hello", body(json::array({ann, ann})))), 400,
                  132000);
    // "hello" is positional: a named parameter is the wrong kind.
    const json named = {{"type", "text"}, {"parameter_name", "first_name"}, {"text", "Ann"}};
    error_details(send(template_message(user(1), "hello", body(json::array({named})))), 400,
                  132012);

    put_template("banner", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"New in store"}]})");
    const json text_header = json::array(
        {{{"type", "header"}, {"parameters", json::array({{{"type", "text"}, {"text", "x"}}})}}});
    error_details(send(template_message(user(1), "banner", text_header)), 400, 132012);
    const json image_header = json::array(
        {{{"type", "header"},
          {"parameters",
           json::array({{{"type", "image"}, {"image", {{"link", "https://x.example/a.png"}}}}})}}});
    EXPECT_EQ(send(template_message(user(1), "banner", image_header)).status, 200);
    EXPECT_EQ(messages(), "1");
}

class UnknownTemplatesPassTest : public PolicyRulesTest {
protected:
    app::Config config() const override {
        app::Config c = PolicyRulesTest::config();
        c.unknown_templates = "pass";
        return c;
    }
};

TEST_F(UnknownTemplatesPassTest, TemplatesWithoutADefinitionPassButStoredOnesAreChecked) {
    opt_in(user(1));
    EXPECT_EQ(send(template_message(user(1), "defined_at_meta_only")).status, 200);
    // A stored definition is still the reference.
    error_details(send(template_message(user(1), "hello", json(nullptr))), 400, 132000);
    std::string paused = kHello;
    paused.replace(paused.find("APPROVED"), 8, "PAUSED");
    put_template("hello", paused);
    error_details(send_template(user(1)), 400, 132015);
    EXPECT_EQ(messages(), "1");
}

// ============================================================================================
// §7 Pair backlog cap
// ============================================================================================

TEST_F(PolicyRulesTest, ThePairBacklogCapIsOffByDefault) {
    open_window(user(1));
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(send_text(user(1)).status, 200) << i;
    }
}

class PairCapTest : public PolicyRulesTest {
protected:
    app::Config config() const override {
        app::Config c = PolicyRulesTest::config();
        c.pair_queue_cap = 3;
        return c;
    }
};

TEST_F(PairCapTest, TheFourthQueuedMessageToOneUserIs131056) {
    open_window(user(1));
    open_window(user(2));
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(send_text(user(1)).status, 200) << i;
    }
    error_details(send_text(user(1)), 400, 131056);  // nothing relays yet: all three still wait
    EXPECT_EQ(send_text(user(2)).status, 200) << "another user has their own backlog";
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "4");
}

TEST_F(PairCapTest, TheGatewayCreatesTheIndexTheCapCountsWith) {
    // Built in the background at start; the cap is correct without it, only slower.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string found;
    while ((found = sql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'wagate' "
                        "AND indexname = 'relay_queue_pair'")) != "1" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(found, "1");
}

// ============================================================================================
// §3 Messaging limit (budget)
// ============================================================================================

TEST_F(PolicyRulesTest, Tier50AdmitsFiftyUniqueUsersAndRefusesThe51st) {
    use_tier("TIER_50");
    const std::int64_t t0 = now();
    reach(1, 50);

    auto r = send_template(user(51));
    const std::string details = expect_gateway_error(r, 429, 900100);
    // The clock stands still: the oldest slot frees exactly 24 h after the first user was counted.
    EXPECT_EQ(r.headers["retry-after"], std::to_string(kDay));
    EXPECT_NE(details.find("TIER_50"), std::string::npos) << details;
    EXPECT_NE(details.find("0 remaining"), std::string::npos) << details;
    EXPECT_NE(details.find(utc_to_the_second(t0 + kDay)), std::string::npos) << details;

    // A user counted already does not consume again.
    EXPECT_EQ(send_template(user(7)).status, 200);
    auto l = limits();
    EXPECT_EQ(l["used"], 50);
    EXPECT_EQ(l["remaining"], 0);
    EXPECT_EQ(messages(), "51") << "the refused message is not stored";

    clock_->advance(hours(1));
    r = send_template(user(52));
    expect_gateway_error(r, 429, 900100);
    EXPECT_EQ(r.headers["retry-after"], std::to_string(kDay - 3600));
}

TEST_F(PolicyRulesTest, ARefusedMessageConsumesNothing) {
    put_business(R"({"messaging_limit_tier":"TIER_50"})");  // 1001 keeps require_opt_in on
    expect_gateway_error(send_template(user(1)), 400, 900101);
    opt_in(user(2));
    error_details(send(template_message(user(2), "no_such_template")), 404, 132001);
    require_identity_ack(user(3));
    expect_gateway_error(send_template(user(3)), 400, 900102);
    put_number("1002", R"({"status":"RESTRICTED","require_opt_in":false})");
    expect_gateway_error(send_template(user(4), "1002"), 400, 900103);

    auto l = limits();
    EXPECT_EQ(l["used"], 0);
    EXPECT_EQ(l["remaining"], 50);
    EXPECT_TRUE(l["next_slot_at"].is_null());
}

TEST_F(PolicyRulesTest, RepliesAndFreeFormMessagesNeverConsume) {
    use_tier("TIER_50");
    open_window(user(1));
    EXPECT_EQ(send_template(user(1)).status, 200) << "a template inside the window";
    EXPECT_EQ(send_text(user(1)).status, 200);
    EXPECT_EQ(send_text(kWindowUser).status, 200);
    EXPECT_EQ(used(), 0);
}

TEST_F(PolicyRulesTest, AllNumbersOfABusinessShareItsBudget) {
    use_tier("TIER_50");
    reach(1, 25, "1001");
    reach(26, 25, "1002");
    expect_gateway_error(send_template(user(51), "1001"), 429, 900100);
    expect_gateway_error(send_template(user(51), "1002"), 429, 900100);
    // Users are counted per business: one reached through 1001 costs nothing through 1002.
    EXPECT_EQ(send_template(user(1), "1002").status, 200);
    EXPECT_EQ(used(), 50);
}

TEST_F(PolicyRulesTest, BusinessesHaveSeparateBudgets) {
    use_tier("TIER_50");
    put_business(R"({"messaging_limit_tier":"TIER_50"})", "biz2");
    admin_ok("PUT", "/admin/v1/phone-numbers/2001",
             R"({"business_id":"biz2","waba_id":"waba1","require_opt_in":false})");
    const std::string key = gateway_->create_key({"2001"});
    reach(1, 50);
    auto r = client_->post_json("/v23.0/2001/messages", template_message(user(60)).dump(), key);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(limits("biz2")["used"], 1);
}

TEST_F(PolicyRulesTest, SlotsFreeExactly24HoursAfterTheUserWasCounted) {
    use_tier("TIER_50");
    const std::int64_t t0 = now();
    reach(1, 25);
    clock_->advance(hours(1));
    reach(26, 25);

    clock_->advance(hours(23) - seconds(1));  // t0 + 24 h − 1 s
    auto r = send_template(user(51));
    expect_gateway_error(r, 429, 900100);
    EXPECT_EQ(r.headers["retry-after"], "1");

    clock_->advance(seconds(1));  // t0 + 24 h: the first 25 slots are free
    EXPECT_EQ(send_template(user(51)).status, 200);
    auto l = limits();
    EXPECT_EQ(l["used"], 26);
    EXPECT_EQ(l["remaining"], 24);
    EXPECT_TRUE(is_time(l["next_slot_at"], t0 + 3600 + kDay));
    // A user whose count lapsed is counted again.
    EXPECT_EQ(send_template(user(1)).status, 200);
    EXPECT_EQ(used(), 27);
}

TEST_F(PolicyRulesTest, TierUnlimitedNeverRefuses) {
    use_tier("TIER_UNLIMITED");
    reach(1, 60);
    auto l = limits();
    EXPECT_EQ(l["tier"], "TIER_UNLIMITED");
    EXPECT_TRUE(l["limit"].is_null());
    EXPECT_TRUE(l["remaining"].is_null());
    EXPECT_EQ(l["used"], 60) << "reached users are still recorded (docs/policy.md)";
}

TEST_F(PolicyRulesTest, ALowerTierWithMoreUsersCountedIsFull) {
    use_tier("TIER_250");
    reach(1, 60);
    put_business(R"({"messaging_limit_tier":"TIER_50"})");
    expect_gateway_error(send_template(user(61)), 429, 900100);
    auto l = limits();
    EXPECT_EQ(l["used"], 60);
    EXPECT_EQ(l["remaining"], 0);
}

// ============================================================================================
// §3 The limits endpoint and upgrade eligibility
// ============================================================================================

TEST_F(PolicyRulesTest, LimitsReportExactUsage) {
    use_tier("TIER_50");
    auto l = limits();
    EXPECT_EQ(l["business_id"], "biz1");
    EXPECT_EQ(l["tier"], "TIER_50");
    EXPECT_EQ(l["limit"], 50);
    EXPECT_EQ(l["used"], 0);
    EXPECT_EQ(l["remaining"], 50);
    EXPECT_TRUE(l["next_slot_at"].is_null()) << "nobody is counted";
    EXPECT_EQ(l["upgrade"]["rule"], "meta-2025");
    EXPECT_EQ(l["upgrade"]["auto_upgrade"], false);
    EXPECT_EQ(l["upgrade"]["eligible"], false);
    EXPECT_EQ(l["upgrade"]["unique_users_7d"], 0);
    EXPECT_TRUE(l["upgrade"]["reason"].is_string());

    const std::int64_t t0 = now();
    reach(1, 3);
    clock_->advance(hours(2));
    reach(4, 2);
    l = limits();
    EXPECT_EQ(l["used"], 5);
    EXPECT_EQ(l["remaining"], 45);
    EXPECT_TRUE(is_time(l["next_slot_at"], t0 + kDay));
    EXPECT_EQ(l["upgrade"]["unique_users_7d"], 5);

    clock_->advance(hours(23));  // t0 + 25 h: the first three left the moving 24 h
    l = limits();
    EXPECT_EQ(l["used"], 2);
    EXPECT_EQ(l["remaining"], 48);
    EXPECT_TRUE(is_time(l["next_slot_at"], t0 + 2 * 3600 + kDay));
    EXPECT_EQ(l["upgrade"]["unique_users_7d"], 5) << "the 7-day history keeps them";

    clock_->advance(hours(2));  // everyone left
    l = limits();
    EXPECT_EQ(l["used"], 0);
    EXPECT_TRUE(l["next_slot_at"].is_null());
}

TEST_F(PolicyRulesTest, LimitsOfAnUnknownBusinessAre404) {
    ASSERT_EQ(admin("GET", "/admin/v1/businesses/biz1/limits").status, 200) << "the route exists";
    auto r = admin("GET", "/admin/v1/businesses/nobody/limits");
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_TRUE(json::parse(r.body, nullptr, false).contains("error")) << r.body;
}

TEST_F(PolicyRulesTest, Meta2025IsEligibleAtHalfTheLimitOverSevenDays) {
    use_tier("TIER_50");
    reach(1, 20);
    clock_->advance(std::chrono::days(3));
    reach(21, 4);
    auto up = limits()["upgrade"];
    EXPECT_EQ(up["unique_users_7d"], 24);
    EXPECT_EQ(up["eligible"], false) << "24 of 25 needed";
    EXPECT_TRUE(is_non_empty_string(up["reason"])) << up.dump();

    reach(25, 1);
    up = limits()["upgrade"];
    EXPECT_EQ(up["unique_users_7d"], 25);
    EXPECT_EQ(up["eligible"], true);
    EXPECT_EQ(up["next_tier"], "TIER_250");

    // A user counted twice in 7 days is still one unique user.
    clock_->advance(hours(25));
    reach(1, 1);
    EXPECT_EQ(limits()["upgrade"]["unique_users_7d"], 25);

    // Seven days after the first twenty, only the later users remain in the lookback.
    clock_->advance(std::chrono::days(3));  // t0 + 7 d + 1 h
    up = limits()["upgrade"];
    EXPECT_EQ(up["unique_users_7d"], 6) << "users 21–25 and the recounted user 1";
    EXPECT_EQ(up["eligible"], false);
}

TEST_F(PolicyRulesTest, DoubleIn7dNeedsTwiceTheLimit) {
    use_tier("TIER_50", "double-in-7d");
    reach(1, 50);
    clock_->advance(hours(24));
    reach(51, 49);
    auto up = limits()["upgrade"];
    EXPECT_EQ(up["rule"], "double-in-7d");
    EXPECT_EQ(up["unique_users_7d"], 99);
    EXPECT_EQ(up["eligible"], false);
    reach(100, 1);
    up = limits()["upgrade"];
    EXPECT_EQ(up["eligible"], true);
    EXPECT_EQ(up["next_tier"], "TIER_250");
}

TEST_F(PolicyRulesTest, RedQualityOrAFlaggedNumberBlocksEligibility) {
    use_tier("TIER_50");
    reach(1, 25);
    ASSERT_EQ(limits()["upgrade"]["eligible"], true);

    put_number("1002", R"({"quality_rating":"RED"})");  // any number of the business
    auto up = limits()["upgrade"];
    EXPECT_EQ(up["eligible"], false);
    EXPECT_TRUE(is_non_empty_string(up["reason"])) << up.dump();

    put_number("1002", R"({"quality_rating":"YELLOW"})");
    EXPECT_EQ(limits()["upgrade"]["eligible"], true);

    put_number("1001", R"({"status":"FLAGGED"})");
    EXPECT_EQ(limits()["upgrade"]["eligible"], false);
}

TEST_F(PolicyRulesTest, NextTierFollowsTheLadder) {
    use_tier("TIER_250");
    reach(1, 125);  // half of 250
    auto up = limits()["upgrade"];
    EXPECT_EQ(up["eligible"], true);
    EXPECT_EQ(up["next_tier"], "TIER_2K");
}

// ============================================================================================
// §3 Exactness under concurrency (one gateway; budget_race_e2etest.cpp has two processes)
// ============================================================================================

/// Sends one template to each of `users` from `threads` client threads, each on its own
/// connection, all released at once. Returns the answers in the order of `users`.
std::vector<HttpResult> send_templates_concurrently(unsigned short port,
                                                    const std::string& key,
                                                    const std::vector<std::string>& users,
                                                    int threads) {
    std::vector<HttpResult> answers(users.size());
    std::atomic<std::size_t> next{0};
    std::latch start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            HttpClient client(port);
            start.arrive_and_wait();
            for (std::size_t i = next++; i < users.size(); i = next++) {
                try {
                    answers[i] = client.post_json("/v23.0/1001/messages",
                                                  template_message(users[i]).dump(), key);
                } catch (const std::exception& e) {
                    // A status of its own, so the tally shows it.
                    answers[i].status = -1;
                    answers[i].body = e.what();
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    return answers;
}

/// HTTP status → how many answers had it; every 429 must be 900100 with a Retry-After.
std::map<int, int> tally(const std::vector<HttpResult>& answers) {
    std::map<int, int> by_status;
    for (const auto& r : answers) {
        ++by_status[r.status];
        if (r.status == 429) {
            EXPECT_EQ(json::parse(r.body, nullptr, false)["error"]["code"], 900100) << r.body;
            EXPECT_TRUE(r.headers.contains("retry-after"));
        }
    }
    return by_status;
}

TEST_F(PolicyRulesTest, ConcurrentSendsToManyUsersTakeExactlyTheLimit) {
    use_tier("TIER_50");
    std::vector<std::string> users;
    for (int i = 1; i <= 200; ++i) {
        users.push_back(user(i));
    }
    const auto by_status =
        tally(send_templates_concurrently(gateway_->port(), key_both_, users, 16));
    EXPECT_EQ(by_status, (std::map<int, int>{{200, 50}, {429, 150}}));
    EXPECT_EQ(used(), 50);
    EXPECT_EQ(messages(), "50");
}

TEST_F(PolicyRulesTest, FiftyRacingForTheLastSlotExactlyOneWins) {
    use_tier("TIER_50");
    reach(1, 49);
    std::vector<std::string> users;
    for (int i = 100; i < 150; ++i) {
        users.push_back(user(i));
    }
    const auto by_status =
        tally(send_templates_concurrently(gateway_->port(), key_both_, users, 50));
    EXPECT_EQ(by_status, (std::map<int, int>{{200, 1}, {429, 49}}));
    EXPECT_EQ(used(), 50);
    EXPECT_EQ(messages(), "50");
}

// ============================================================================================
// §3–§4 History of tiers, quality ratings and statuses
// ============================================================================================

TEST_F(PolicyRulesTest, PhoneNumberHistoryRecordsQualityAndStatusChanges) {
    const std::string path = "/admin/v1/phone-numbers/1001/history";
    // Creation records the initial values with no "from".
    auto h = history(path);
    ASSERT_EQ(h.size(), 2u) << h.dump();
    std::set<std::string> created;
    for (const auto& e : h) {
        EXPECT_TRUE(e["from"].is_null()) << e.dump();
        EXPECT_EQ(e["source"], "admin") << e.dump();
        created.insert(e.value("field", std::string()) + "=" + e.value("to", std::string()));
    }
    EXPECT_EQ(created, (std::set<std::string>{"quality_rating=UNKNOWN", "status=CONNECTED"}));

    put_number("1001", R"({"quality_rating":"GREEN"})");
    clock_->advance(hours(1));
    put_number("1001", R"({"status":"FLAGGED","quality_rating":"GREEN"})");  // quality unchanged
    put_number("1001", R"({"display_phone_number":"+1 555 0100"})");         // neither field
    h = history(path);
    SCOPED_TRACE(h.dump());
    ASSERT_EQ(h.size(), 4u);
    EXPECT_EQ(h[2]["field"], "quality_rating");
    EXPECT_EQ(h[2]["from"], "UNKNOWN");
    EXPECT_EQ(h[2]["to"], "GREEN");
    EXPECT_EQ(h[2]["source"], "admin");
    EXPECT_EQ(h[3]["field"], "status");
    EXPECT_EQ(h[3]["from"], "CONNECTED");
    EXPECT_EQ(h[3]["to"], "FLAGGED");
    EXPECT_TRUE(is_time(h[3]["changed_at"], now()));
}

TEST_F(PolicyRulesTest, BusinessHistoryRecordsTierChangesOldestFirst) {
    put_business(R"({"messaging_limit_tier":"TIER_50"})");
    clock_->advance(hours(1));
    put_business(R"({"messaging_limit_tier":"TIER_2K"})");
    put_business(R"({"name":"Acme"})");  // not a tier change
    auto h = history("/admin/v1/businesses/biz1/history");
    SCOPED_TRACE(h.dump());
    ASSERT_GE(h.size(), 2u);
    const json& first = h[h.size() - 2];
    const json& last = h[h.size() - 1];
    EXPECT_EQ(first["field"], "messaging_limit_tier");
    EXPECT_EQ(first["from"], "TIER_250");
    EXPECT_EQ(first["to"], "TIER_50");
    EXPECT_EQ(first["source"], "admin");
    EXPECT_EQ(last["from"], "TIER_50");
    EXPECT_EQ(last["to"], "TIER_2K");
    EXPECT_EQ(last["source"], "admin");
    EXPECT_TRUE(is_time(last["changed_at"], now()));
}

// ============================================================================================
// §3–§4 Maintenance: automatic upgrades and the flagged downgrade
// ============================================================================================

TEST_F(PolicyRulesTest, AutoUpgradeMovesAnEligibleBusinessUpOneTier) {
    use_tier("TIER_50");
    put_business(R"({"auto_upgrade":true})");
    reach(1, 24);
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_50") << "24 users are not half of 50";

    reach(25, 1);
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_250");
    auto l = limits();
    EXPECT_EQ(l["limit"], 250);
    EXPECT_EQ(l["used"], 25);
    EXPECT_EQ(l["remaining"], 225);

    auto h = history("/admin/v1/businesses/biz1/history");
    SCOPED_TRACE(h.dump());
    ASSERT_GE(h.size(), 2u);
    const json& last = h.back();
    EXPECT_EQ(last["field"], "messaging_limit_tier");
    EXPECT_EQ(last["from"], "TIER_50");
    EXPECT_EQ(last["to"], "TIER_250");
    EXPECT_EQ(last["source"], "auto_upgrade");
    EXPECT_TRUE(is_time(last["changed_at"], now()));
    EXPECT_EQ(h[h.size() - 2]["source"], "admin");

    // TIER_250 needs 125: a second run changes nothing.
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_250");
    EXPECT_EQ(history("/admin/v1/businesses/biz1/history").size(), h.size());
}

TEST_F(PolicyRulesTest, AnUpgradeCountsOnlyUsersReachedUnderTheCurrentTier) {
    use_tier("TIER_50");
    put_business(R"({"auto_upgrade":true})");
    // 150 unique users over three days: half of 250 as well as half of 50.
    for (int day = 0; day < 3; ++day) {
        reach(1 + 50 * day, 50);
        clock_->advance(hours(24));
    }
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_250");
    EXPECT_EQ(limits()["upgrade"]["unique_users_7d"], 0) << "nobody reached since the upgrade";
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_250") << "users reached under TIER_50 do not lift it a second tier";
}

TEST_F(PolicyRulesTest, WithoutAutoUpgradeAnEligibleBusinessKeepsItsTier) {
    use_tier("TIER_50");
    reach(1, 25);
    ASSERT_EQ(limits()["upgrade"]["eligible"], true);
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_50");
    for (const auto& e : history("/admin/v1/businesses/biz1/history")) {
        EXPECT_NE(e["source"], "auto_upgrade") << e.dump();
    }
}

TEST_F(PolicyRulesTest, AutoUpgradeWaitsWhileANumberIsRed) {
    use_tier("TIER_50");
    put_business(R"({"auto_upgrade":true})");
    put_number("1002", R"({"quality_rating":"RED"})");
    reach(1, 25);
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_50");
}

TEST_F(PolicyRulesTest, UnderDoubleIn7dANumberFlaggedSevenDaysReturnsConnectedOneTierLower) {
    put_business(R"({"messaging_limit_tier":"TIER_2K","upgrade_rule":"double-in-7d"})");
    put_number("1001", R"({"status":"FLAGGED"})");

    clock_->advance(std::chrono::days(7) - seconds(1));
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(number_status("1001"), "FLAGGED");
    EXPECT_EQ(tier(), "TIER_2K");

    clock_->advance(seconds(1));  // exactly 7 days flagged
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(number_status("1001"), "CONNECTED");
    EXPECT_EQ(number_status("1002"), "CONNECTED");
    EXPECT_EQ(tier(), "TIER_250");

    const json business = history("/admin/v1/businesses/biz1/history").back();
    EXPECT_EQ(business["field"], "messaging_limit_tier");
    EXPECT_EQ(business["from"], "TIER_2K");
    EXPECT_EQ(business["to"], "TIER_250");
    EXPECT_EQ(business["source"], "flagged_downgrade");
    EXPECT_TRUE(is_time(business["changed_at"], now()));
    const json number = history("/admin/v1/phone-numbers/1001/history").back();
    EXPECT_EQ(number["field"], "status");
    EXPECT_EQ(number["from"], "FLAGGED");
    EXPECT_EQ(number["to"], "CONNECTED");
    EXPECT_EQ(number["source"], "flagged_downgrade");
    EXPECT_TRUE(is_time(number["changed_at"], now()));

    // Back to CONNECTED, the number does not cost another tier.
    clock_->advance(std::chrono::days(8));
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(tier(), "TIER_250");
}

TEST_F(PolicyRulesTest, UnderMeta2025AFlaggedNumberKeepsItsTier) {
    put_business(R"({"messaging_limit_tier":"TIER_2K","upgrade_rule":"meta-2025"})");
    put_number("1001", R"({"status":"FLAGGED"})");
    clock_->advance(std::chrono::days(8));
    ASSERT_NO_FATAL_FAILURE(run_maintenance());
    EXPECT_EQ(number_status("1001"), "FLAGGED");
    EXPECT_EQ(tier(), "TIER_2K");
}

}  // namespace
}  // namespace wagate::test
