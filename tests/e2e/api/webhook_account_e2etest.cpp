// Account-level webhook fields through the whole gateway (reference/webhooks.md §3.2 and §7,
// policy §3–§5, docs/webhooks.md "Account-level fields"): Meta's word on the messaging tier, the
// numbers' status, the templates' status, quality and category, a disabled WABA, versioning by
// entry.time, replays, and fields that are only stored.
//
// Numbers 1001 and 1002 (business biz1) belong to WABA kWaba, 1003 (business biz2) to
// kOtherWaba; each has the display number Meta writes in these webhooks. Every test posts signed
// bodies, applies them with drain_webhooks() and asserts the stored state (SQL, the admin API)
// and its effect on sends through POST /v23.0/1001/messages.

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "support/meta_webhooks.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"
#include "support/time_assertions.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

constexpr const char* kWaba = "104996122399160";
constexpr const char* kOtherWaba = "209384756102938";
constexpr const char* kDisplay1001 = "15550783881";
constexpr const char* kDisplay1002 = "15550783882";
constexpr const char* kDisplay1003 = "15550783883";
constexpr std::int64_t kHelloId = 1689556908129832;    // hello / en_US at Meta
constexpr std::int64_t kHelloPtId = 1689556908129999;  // hello / pt_BR
constexpr std::int64_t kOrderUpdateId = 952305634123456;
constexpr std::int64_t kT = 1'739'321'024;  // entry.time of the first update of each test

const std::string kHello =
    R"({"category":"MARKETING","status":"APPROVED","components":[{"type":"BODY","text":"Hello {{1}}"}]})";
const std::string kOrderUpdate =
    R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"Your order {{1}} has shipped."}]})";

/// Test user n: "1650555" and four digits.
std::string user(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "1650555%04d", n);
    return buf;
}

/// A message_template_status_update value for `event` in Meta's shape.
json template_status(const std::string& event,
                     const std::string& name = "hello",
                     const std::string& language = "en-US",
                     std::int64_t id = kHelloId) {
    json v = {{"event", event},
              {"message_template_id", id},
              {"message_template_name", name},
              {"message_template_language", language},
              {"reason", "NONE"},
              {"message_template_category", "MARKETING"}};
    if (event == "PAUSED") {
        v["reason"] = nullptr;
        v["other_info"] = {{"title", "FIRST_PAUSE"},
                           {"description",
                            "Your WhatsApp message template has been paused for 3 hours until "
                            "Feb 12, 2025 at 5:03 PM UTC because it had issues."}};
    } else if (event == "DISABLED") {
        v["disable_info"] = {{"disable_date", "1739376000"}};
        v["other_info"] = {{"title", "DISABLED"},
                           {"description", "Your template was disabled for low quality."}};
    }
    return v;
}

class WebhookAccountTest : public GatewayTest {
protected:
    void SetUp() override {
        app::Config c = TestGateway::base_config();
        c.maintenance_interval_ms = 0;  // no tier review between the test's steps
        start(c);
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        put_number(
            "1001",
            {{"business_id", "biz1"}, {"waba_id", kWaba}, {"display_phone_number", kDisplay1001}});
        put_number(
            "1002",
            {{"business_id", "biz1"}, {"waba_id", kWaba}, {"display_phone_number", kDisplay1002}});
        gateway_->put_business("biz2");
        put_number("1003", {{"business_id", "biz2"},
                            {"waba_id", kOtherWaba},
                            {"display_phone_number", kDisplay1003},
                            {"access_token", "meta-token"}});
        put_template(kWaba, "hello", "en_US", kHello);
        put_template(kWaba, "hello", "pt_BR", kHello);
        put_template(kWaba, "order_update", "en_US", kOrderUpdate);
        put_template(kOtherWaba, "hello", "en_US", kHello);
    }

    std::int64_t now() const { return clock_->unix_seconds(); }

    void admin_ok(const std::string& method,
                  const std::string& path,
                  const std::string& body = {}) {
        auto r = gateway_->admin(method, path, body);
        ASSERT_EQ(r.status, 200) << method << " " << path << " " << body << " → " << r.body;
    }
    void put_number(const std::string& id, const json& body) {
        admin_ok("PUT", "/admin/v1/phone-numbers/" + id, body.dump());
    }
    void put_template(const std::string& waba,
                      const std::string& name,
                      const std::string& language,
                      const std::string& definition) {
        admin_ok("PUT", "/admin/v1/templates/" + waba + "/" + name + "/" + language, definition);
    }
    void opt_in(const std::string& wa_id) {
        admin_ok("PUT", "/admin/v1/contacts/1001/" + wa_id,
                 R"({"opted_in":true,"source":"signup-form"})");
    }
    json admin_get(const std::string& path) {
        auto r = gateway_->admin("GET", path);
        EXPECT_EQ(r.status, 200) << path << " → " << r.body;
        return json::parse(r.body, nullptr, false);
    }

    /// Posts a signed body and applies every stored webhook.
    void apply(const std::string& body) {
        auto client = gateway_->client();
        auto r = post_webhook(client, body);
        ASSERT_EQ(r.status, 200) << r.body;
        gateway_->drain_webhooks();
    }
    /// One account-level change of `waba` at entry.time `time`.
    void account(const std::string& field,
                 std::int64_t time,
                 const json& value,
                 const std::string& waba = kWaba) {
        apply(account_body(waba, field, time, value));
    }

    HttpResult send(const json& body) {
        return gateway_->client().post_json("/v23.0/1001/messages", body.dump(), key_);
    }
    /// hello / en_US from 1001 to `to`, with its one body parameter.
    HttpResult send_hello(const std::string& to, const std::string& language = "en_US") {
        return send({{"messaging_product", "whatsapp"},
                     {"to", "+" + to},
                     {"type", "template"},
                     {"template",
                      {{"name", "hello"},
                       {"language", {{"code", language}}},
                       {"components",
                        json::array({{{"type", "body"},
                                      {"parameters",
                                       json::array({{{"type", "text"}, {"text", "Ann"}}})}}})}}}});
    }
    HttpResult send_text(const std::string& to) {
        return send({{"messaging_product", "whatsapp"},
                     {"to", "+" + to},
                     {"type", "text"},
                     {"text", {{"body", "hi"}}}});
    }
    static void expect_error(const HttpResult& r, int status, int code) {
        EXPECT_EQ(r.status, status) << r.body;
        auto body = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(body.is_object() && body.contains("error")) << r.body;
        EXPECT_EQ(body["error"]["code"], code) << r.body;
    }

    static std::string tier(const std::string& business = "biz1") {
        return sql("SELECT messaging_limit_tier FROM wagate.businesses WHERE id = '" + business +
                   "'");
    }
    static std::string number_status(const std::string& id) {
        return sql("SELECT status FROM wagate.phone_numbers WHERE id = '" + id + "'");
    }
    static std::string template_column(const std::string& column,
                                       const std::string& name = "hello",
                                       const std::string& language = "en_US",
                                       const std::string& waba = kWaba) {
        return sql("SELECT " + column + " FROM wagate.templates WHERE waba_id = '" + waba +
                   "' AND name = '" + name + "' AND language = '" + language + "'");
    }
    /// Meta's changes recorded for a subject, oldest first: "field old>new" joined by ", ".
    static std::string meta_changes(const std::string& kind, const std::string& id) {
        return sql(
            "SELECT coalesce(string_agg(field || ' ' || coalesce(old_value, '') || '>' || "
            "new_value, ', ' ORDER BY id), '')"
            " FROM wagate.state_changes WHERE source = 'meta' AND subject_kind = '" +
            kind + "' AND subject_id = '" + id + "'");
    }
};

// ============================================================================================
// business_capability_update
// ============================================================================================

TEST_F(WebhookAccountTest, BusinessCapabilityUpdateSetsTheTierFromEveryFormMetaUses) {
    account(
        "business_capability_update", kT,
        {{"max_daily_conversations_per_business", "TIER_10K"}, {"max_phone_numbers_per_waba", 25}});
    EXPECT_EQ(tier(), "TIER_10K");
    EXPECT_EQ(tier("biz2"), "TIER_250") << "only the business owning the WABA's numbers";
    EXPECT_EQ(meta_changes("business", "biz1"), "messaging_limit_tier TIER_250>TIER_10K");
    EXPECT_EQ(sql("SELECT extract(epoch FROM changed_at)::bigint FROM wagate.state_changes WHERE "
                  "source = 'meta'"),
              std::to_string(now()))
        << "recorded at the gateway clock's time";
    json limits = admin_get("/admin/v1/businesses/biz1/limits");
    EXPECT_EQ(limits["tier"], "TIER_10K");
    EXPECT_EQ(limits["limit"], 10000);
    json history = admin_get("/admin/v1/businesses/biz1/history")["data"];
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back()["field"], "messaging_limit_tier");
    EXPECT_EQ(history.back()["from"], "TIER_250");
    EXPECT_EQ(history.back()["to"], "TIER_10K");
    EXPECT_EQ(history.back()["source"], "meta");
    EXPECT_TRUE(is_time(history.back()["changed_at"], now()));

    // Meta's own example writes the v24 field as an integer.
    account("business_capability_update", kT + 60,
            {{"max_daily_conversations_per_business", 2000}, {"max_phone_numbers_per_waba", 25}});
    EXPECT_EQ(tier(), "TIER_2K");
    EXPECT_EQ(admin_get("/admin/v1/businesses/biz1/limits")["limit"], 2000);

    // The deprecated per-phone field: -1 is unlimited.
    account("business_capability_update", kT + 120,
            {{"max_daily_conversation_per_phone", -1}, {"max_phone_numbers_per_business", 2}});
    EXPECT_EQ(tier(), "TIER_UNLIMITED");
    limits = admin_get("/admin/v1/businesses/biz1/limits");
    EXPECT_EQ(limits["tier"], "TIER_UNLIMITED");
    EXPECT_TRUE(limits["limit"].is_null());

    // TIER_NOT_SET says nothing about the tier.
    account("business_capability_update", kT + 180,
            {{"max_daily_conversations_per_business", "TIER_NOT_SET"}});
    EXPECT_EQ(tier(), "TIER_UNLIMITED");

    EXPECT_EQ(meta_changes("business", "biz1"),
              "messaging_limit_tier TIER_250>TIER_10K, messaging_limit_tier TIER_10K>TIER_2K, "
              "messaging_limit_tier TIER_2K>TIER_UNLIMITED");
    history = admin_get("/admin/v1/businesses/biz1/history")["data"];
    ASSERT_GE(history.size(), 3u);
    for (std::size_t i = history.size() - 3; i < history.size(); ++i) {
        EXPECT_EQ(history[i]["source"], "meta") << history[i].dump();
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE field = "
                  "'business_capability_update'"),
              "4");
    EXPECT_EQ(
        sql("SELECT string_agg(entry_time::text, ',' ORDER BY id) FROM wagate.account_events"),
        std::to_string(kT) + "," + std::to_string(kT + 60) + "," + std::to_string(kT + 120) + "," +
            std::to_string(kT + 180));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE applied = ''"), "1")
        << "only TIER_NOT_SET";
}

// ============================================================================================
// phone_number_quality_update
// ============================================================================================

TEST_F(WebhookAccountTest, PhoneNumberQualityUpdateFlagsAndUnflagsTheNumberByItsDisplayNumber) {
    account("phone_number_quality_update", kT,
            {{"display_phone_number", kDisplay1001},
             {"event", "FLAGGED"},
             {"current_limit", "TIER_10K"}});
    EXPECT_EQ(number_status("1001"), "FLAGGED");
    EXPECT_EQ(number_status("1002"), "CONNECTED") << "another display number of the same WABA";
    EXPECT_EQ(number_status("1003"), "CONNECTED");
    EXPECT_EQ(tier(), "TIER_10K") << "current_limit is the business's tier";
    EXPECT_EQ(tier("biz2"), "TIER_250");
    EXPECT_EQ(meta_changes("phone_number", "1001"), "status CONNECTED>FLAGGED");
    EXPECT_EQ(meta_changes("phone_number", "1002"), "");
    EXPECT_EQ(meta_changes("business", "biz1"), "messaging_limit_tier TIER_250>TIER_10K");
    json history = admin_get("/admin/v1/phone-numbers/1001/history")["data"];
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back()["field"], "status");
    EXPECT_EQ(history.back()["from"], "CONNECTED");
    EXPECT_EQ(history.back()["to"], "FLAGGED");
    EXPECT_EQ(history.back()["source"], "meta");
    EXPECT_EQ(json::parse(gateway_->admin("GET", "/admin/v1/phone-numbers/1001").body)["status"],
              "FLAGGED");

    // FLAGGED only blocks upgrades (policy §4): a template still goes.
    opt_in(user(1));
    EXPECT_EQ(send_hello(user(1)).status, 200);

    account("phone_number_quality_update", kT + 60,
            {{"display_phone_number", kDisplay1001},
             {"event", "UNFLAGGED"},
             {"current_limit", "TIER_10K"}});
    EXPECT_EQ(number_status("1001"), "CONNECTED");
    EXPECT_EQ(meta_changes("phone_number", "1001"),
              "status CONNECTED>FLAGGED, status FLAGGED>CONNECTED");
    EXPECT_EQ(meta_changes("business", "biz1"), "messaging_limit_tier TIER_250>TIER_10K")
        << "same tier: no change";

    // A display number unknown under this WABA (or another WABA's number) changes nothing.
    account("phone_number_quality_update", kT + 120,
            {{"display_phone_number", "15559999999"}, {"event", "FLAGGED"}});
    account("phone_number_quality_update", kT + 180,
            {{"display_phone_number", kDisplay1003}, {"event", "FLAGGED"}});
    EXPECT_EQ(number_status("1001"), "CONNECTED");
    EXPECT_EQ(number_status("1002"), "CONNECTED");
    EXPECT_EQ(number_status("1003"), "CONNECTED");

    // The current shape: a limit change without a quality event.
    account("phone_number_quality_update", kT + 240,
            {{"display_phone_number", kDisplay1002},
             {"event", "THROUGHPUT_UPGRADE"},
             {"max_daily_conversations_per_business", "TIER_100K"}});
    EXPECT_EQ(tier(), "TIER_100K");
    EXPECT_EQ(number_status("1002"), "CONNECTED");
}

// ============================================================================================
// message_template_status_update
// ============================================================================================

TEST_F(WebhookAccountTest, TemplateStatusUpdatesDecideWhetherTheTemplateCanBeSent) {
    opt_in(user(1));
    ASSERT_EQ(send_hello(user(1)).status, 200);

    account("message_template_status_update", kT, template_status("PAUSED"));
    EXPECT_EQ(template_column("status"), "PAUSED")
        << "\"en-US\" in the webhook is the template stored as en_US";
    EXPECT_EQ(template_column("template_id"), std::to_string(kHelloId));
    EXPECT_EQ(template_column("status", "hello", "pt_BR"), "APPROVED") << "another language";
    EXPECT_EQ(template_column("status", "hello", "en_US", kOtherWaba), "APPROVED")
        << "another WABA";
    expect_error(send_hello(user(1)), 400, 132015);

    account("message_template_status_update", kT + 60, template_status("DISABLED"));
    EXPECT_EQ(template_column("status"), "DISABLED");
    expect_error(send_hello(user(1)), 400, 132016);

    account("message_template_status_update", kT + 120, template_status("APPROVED"));
    EXPECT_EQ(template_column("status"), "APPROVED");
    EXPECT_EQ(send_hello(user(1)).status, 200);

    const json listed = admin_get(std::string("/admin/v1/templates/") + kWaba)["data"];
    bool found = false;
    for (const auto& t : listed) {
        if (t["name"] == "hello" && t["language"] == "en_US") {
            found = true;
            EXPECT_EQ(t["status"], "APPROVED");
        }
    }
    EXPECT_TRUE(found) << listed.dump();
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE applied <> ''"), "3");
}

TEST_F(WebhookAccountTest, AHyphenatedLanguageInTheWebhookMatchesOnlyThatLanguage) {
    opt_in(user(1));
    account("message_template_status_update", kT,
            template_status("PAUSED", "hello", "pt-BR", kHelloPtId));
    EXPECT_EQ(template_column("status", "hello", "pt_BR"), "PAUSED");
    EXPECT_EQ(template_column("template_id", "hello", "pt_BR"), std::to_string(kHelloPtId));
    EXPECT_EQ(template_column("status", "hello", "en_US"), "APPROVED");
    EXPECT_EQ(send_hello(user(1)).status, 200);
    expect_error(send_hello(user(1), "pt_BR"), 400, 132015);
}

TEST_F(WebhookAccountTest, ArchivedThenUnarchivedRestoresThePreviousStatus) {
    opt_in(user(1));
    account("message_template_status_update", kT, template_status("PAUSED"));
    account("message_template_status_update", kT + 60, template_status("ARCHIVED"));
    EXPECT_EQ(template_column("status"), "ARCHIVED");
    EXPECT_EQ(template_column("status_before_archive"), "PAUSED");
    expect_error(send_hello(user(1)), 404, 132001);
    account("message_template_status_update", kT + 120, template_status("UNARCHIVED"));
    EXPECT_EQ(template_column("status"), "PAUSED") << "unarchived to what it was, not to APPROVED";
    expect_error(send_hello(user(1)), 400, 132015);

    account("message_template_status_update", kT + 180, template_status("APPROVED"));
    account("message_template_status_update", kT + 240, template_status("ARCHIVED"));
    EXPECT_EQ(template_column("status_before_archive"), "APPROVED");
    expect_error(send_hello(user(1)), 404, 132001);
    account("message_template_status_update", kT + 300, template_status("UNARCHIVED"));
    EXPECT_EQ(template_column("status"), "APPROVED");
    EXPECT_EQ(send_hello(user(1)).status, 200);
}

// ============================================================================================
// message_template_quality_update, template_category_update
// ============================================================================================

TEST_F(WebhookAccountTest, TemplateQualityUpdateSetsTheTemplatesQuality) {
    EXPECT_EQ(template_column("quality"), "UNKNOWN");
    const auto quality = [](const std::string& previous, const std::string& next) {
        return json{{"previous_quality_score", previous},
                    {"new_quality_score", next},
                    {"message_template_id", kHelloId},
                    {"message_template_name", "hello"},
                    {"message_template_language", "en-US"}};
    };
    account("message_template_quality_update", kT, quality("UNKNOWN", "GREEN"));
    EXPECT_EQ(template_column("quality"), "GREEN");
    account("message_template_quality_update", kT + 60, quality("GREEN", "YELLOW"));
    EXPECT_EQ(template_column("quality"), "YELLOW");
    EXPECT_EQ(template_column("quality", "hello", "pt_BR"), "UNKNOWN");
    EXPECT_EQ(template_column("status"), "APPROVED") << "quality is not status";
    account("message_template_quality_update", kT + 120, quality("YELLOW", "RED"));
    EXPECT_EQ(template_column("quality"), "RED");
}

TEST_F(WebhookAccountTest, ACompletedCategoryChangeChangesTheCategoryAnImpendingOneDoesNot) {
    account("template_category_update", kT,
            {{"message_template_id", kOrderUpdateId},
             {"message_template_name", "order_update"},
             {"message_template_language", "en-US"},
             {"correct_category", "MARKETING"},
             {"new_category", "UTILITY"},
             {"category_update_timestamp", kT + 86400}});
    EXPECT_EQ(template_column("category", "order_update"), "UTILITY");
    EXPECT_EQ(template_column("definition->>'category'", "order_update"), "UTILITY");
    EXPECT_EQ(sql("SELECT applied FROM wagate.account_events"), "") << "stored, changes nothing";

    account("template_category_update", kT + 86400,
            {{"message_template_id", kOrderUpdateId},
             {"message_template_name", "order_update"},
             {"message_template_language", "en-US"},
             {"previous_category", "UTILITY"},
             {"new_category", "MARKETING"}});
    EXPECT_EQ(template_column("category", "order_update"), "MARKETING");
    EXPECT_EQ(template_column("definition->>'category'", "order_update"), "MARKETING");
    EXPECT_EQ(template_column("category", "hello"), "MARKETING");
    const json listed = admin_get(std::string("/admin/v1/templates/") + kWaba)["data"];
    bool found = false;
    for (const auto& t : listed) {
        if (t["name"] == "order_update") {
            found = true;
            EXPECT_EQ(t["category"], "MARKETING");
        }
    }
    EXPECT_TRUE(found) << listed.dump();
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events"), "2");
}

// ============================================================================================
// account_update
// ============================================================================================

TEST_F(WebhookAccountTest, ABannedWabaRestrictsItsNumbersUntilReinstated) {
    for (int u : {1, 2, 3}) {
        opt_in(user(u));
    }
    gateway_->open_window("1001", user(2), now() - 60);  // user 2 wrote to the business

    account("account_update", kT - 60,
            {{"event", "DISABLED_UPDATE"},
             {"ban_info",
              {{"waba_ban_state", "SCHEDULE_FOR_DISABLE"}, {"waba_ban_date", "April 17, 2025"}}}});
    EXPECT_EQ(number_status("1001"), "CONNECTED") << "only scheduled";
    ASSERT_EQ(send_hello(user(1)).status, 200);

    account("account_update", kT,
            {{"event", "DISABLED_UPDATE"},
             {"ban_info", {{"waba_ban_state", "DISABLE"}, {"waba_ban_date", "April 17, 2025"}}}});
    EXPECT_EQ(number_status("1001"), "RESTRICTED");
    EXPECT_EQ(number_status("1002"), "RESTRICTED");
    EXPECT_EQ(number_status("1003"), "CONNECTED") << "another WABA";
    EXPECT_EQ(meta_changes("phone_number", "1001"), "status CONNECTED>RESTRICTED");
    EXPECT_EQ(meta_changes("phone_number", "1002"), "status CONNECTED>RESTRICTED");
    json history = admin_get("/admin/v1/phone-numbers/1001/history")["data"];
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back()["to"], "RESTRICTED");
    EXPECT_EQ(history.back()["source"], "meta");

    expect_error(send_hello(user(3)), 400, 900103);  // no window: business-initiated
    EXPECT_EQ(send_hello(user(2)).status, 200) << "a template inside the window is a reply";
    EXPECT_EQ(send_text(user(2)).status, 200);

    account("account_update", kT + 60,
            {{"event", "DISABLED_UPDATE"},
             {"ban_info", {{"waba_ban_state", "REINSTATE"}, {"waba_ban_date", "April 20, 2025"}}}});
    EXPECT_EQ(number_status("1001"), "CONNECTED");
    EXPECT_EQ(number_status("1002"), "CONNECTED");
    EXPECT_EQ(send_hello(user(3)).status, 200);
}

TEST_F(WebhookAccountTest, UnflaggedLiftsAFlagButNotARestriction) {
    account("account_update", kT,
            {{"event", "DISABLED_UPDATE"}, {"ban_info", {{"waba_ban_state", "DISABLE"}}}});
    ASSERT_EQ(number_status("1001"), "RESTRICTED");
    account("phone_number_quality_update", kT + 60,
            {{"display_phone_number", kDisplay1001}, {"event", "UNFLAGGED"}, {"current_limit", "TIER_250"}});
    EXPECT_EQ(number_status("1001"), "RESTRICTED") << "only REINSTATE ends a ban";
    account("phone_number_quality_update", kT + 120, {{"display_phone_number", kDisplay1002}, {"event", "FLAGGED"}});
    ASSERT_EQ(number_status("1002"), "FLAGGED");
}

TEST_F(WebhookAccountTest, AFormattedDisplayNumberMatchesMetasDigits) {
    put_number("1002", {{"display_phone_number", "+1 555-078-3882"}});
    account("phone_number_quality_update", kT, {{"display_phone_number", kDisplay1002}, {"event", "FLAGGED"}});
    EXPECT_EQ(number_status("1002"), "FLAGGED");
    EXPECT_EQ(number_status("1001"), "CONNECTED");
}

// ============================================================================================
// Versioning, replays, fields that are only stored
// ============================================================================================

TEST_F(WebhookAccountTest, AnOlderUpdateArrivingAfterANewerOneIsStoredButNotApplied) {
    // The tier.
    account("business_capability_update", kT + 100,
            {{"max_daily_conversations_per_business", "TIER_10K"}});
    account("business_capability_update", kT + 50,
            {{"max_daily_conversations_per_business", "TIER_2K"}});
    EXPECT_EQ(tier(), "TIER_10K");
    EXPECT_EQ(meta_changes("business", "biz1"), "messaging_limit_tier TIER_250>TIER_10K");
    EXPECT_EQ(sql("SELECT applied FROM wagate.account_events WHERE entry_time = " +
                  std::to_string(kT + 50)),
              "");
    EXPECT_EQ(sql("SELECT value->>'max_daily_conversations_per_business' FROM "
                  "wagate.account_events WHERE entry_time = " +
                  std::to_string(kT + 50)),
              "TIER_2K");

    // A template's status.
    account("message_template_status_update", kT + 100, template_status("PAUSED"));
    account("message_template_status_update", kT + 50, template_status("APPROVED"));
    EXPECT_EQ(template_column("status"), "PAUSED");

    // A number's status.
    account("phone_number_quality_update", kT + 100,
            {{"display_phone_number", kDisplay1001}, {"event", "FLAGGED"}});
    account("phone_number_quality_update", kT + 50,
            {{"display_phone_number", kDisplay1001}, {"event", "UNFLAGGED"}});
    EXPECT_EQ(number_status("1001"), "FLAGGED");

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events"), "6") << "every update is kept";
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE applied = ''"), "3");

    // A newer one still applies.
    account("business_capability_update", kT + 200,
            {{"max_daily_conversations_per_business", "TIER_2K"}});
    account("message_template_status_update", kT + 200, template_status("APPROVED"));
    account("phone_number_quality_update", kT + 200,
            {{"display_phone_number", kDisplay1001}, {"event", "UNFLAGGED"}});
    EXPECT_EQ(tier(), "TIER_2K");
    EXPECT_EQ(template_column("status"), "APPROVED");
    EXPECT_EQ(number_status("1001"), "CONNECTED");
}

TEST_F(WebhookAccountTest, AnExactReplayIsStoredOnceAndAppliedOnce) {
    const std::string body = account_body(
        kWaba, "business_capability_update", kT,
        {{"max_daily_conversations_per_business", "TIER_10K"}, {"max_phone_numbers_per_waba", 25}});
    apply(body);
    apply(body);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "1");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events"), "1");
    EXPECT_EQ(tier(), "TIER_10K");

    // The operator lowers the tier; Meta then re-sends the same update inside another body, its
    // keys in another order: the same event, already applied, so it changes nothing.
    admin_ok("PUT", "/admin/v1/businesses/biz1", R"({"messaging_limit_tier":"TIER_2K"})");
    const std::string t = std::to_string(kT);
    const std::string again =
        R"({"entry":[{"time":)" + t +
        R"(,"changes":[{"value":{"max_phone_numbers_per_waba":25,  "max_daily_conversations_per_business":"TIER_10K"},"field":"business_capability_update"},)"
        R"({"field":"security","value":{"display_phone_number":")" +
        kDisplay1001 + R"(","event":"PIN_CHANGED","requester":"2893029384"}}],"id":")" + kWaba +
        R"("}],"object":"whatsapp_business_account"})";
    apply(again);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "2");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE field = "
                  "'business_capability_update'"),
              "1");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE field = 'security'"), "1");
    EXPECT_EQ(tier(), "TIER_2K");
    EXPECT_EQ(meta_changes("business", "biz1"), "messaging_limit_tier TIER_250>TIER_10K");
}

TEST_F(WebhookAccountTest, ValueLevelErrorsAndUnknownFieldsAreStoredAndChangeNothing) {
    const json errors = json::array(
        {{{"code", 130429},
          {"title", "Rate limit hit"},
          {"message", "Rate limit hit"},
          {"error_data", {{"details", "Cloud API message throughput has been reached."}}},
          {"href",
           "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}});
    apply(messages_envelope("1001", {{"errors", errors}}).dump());

    account("security", kT,
            {{"display_phone_number", kDisplay1001},
             {"event", "PIN_RESET_REQUEST"},
             {"requester", "2893029384"}});
    account(
        "account_alerts", kT + 1,
        {{"entity_type", "PHONE_NUMBER"},
         {"entity_id", "1001"},
         {"alert_info",
          {{"alert_severity", "CRITICAL"},
           {"alert_status", "ACTIVE"},
           {"alert_type", "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED"},
           {"alert_description", "Your business is not eligible for higher messaging limits."}}}});
    account("phone_number_name_update", kT + 2,
            {{"display_phone_number", kDisplay1001},
             {"decision", "APPROVED"},
             {"requested_verified_name", "Lucky Shrub"},
             {"rejection_reason", "NONE"}});
    // A field Meta adds later, carrying keys that mean something under other fields.
    const json future = {{"display_phone_number", kDisplay1001},
                         {"event", "FLAGGED"},
                         {"current_limit", "TIER_50"},
                         {"max_daily_conversations_per_business", "TIER_50"},
                         {"ban_info", {{"waba_ban_state", "DISABLE"}}},
                         {"message_template_name", "hello"},
                         {"message_template_language", "en-US"},
                         {"new_quality_score", "RED"},
                         {"new_category", "UTILITY"},
                         {"previous_category", "MARKETING"}};
    account("some_future_field", kT + 3, future);

    EXPECT_EQ(sql("SELECT string_agg(field, ',' ORDER BY id) FROM wagate.account_events"),
              "errors,security,account_alerts,phone_number_name_update,some_future_field");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.account_events WHERE applied <> ''"), "0");
    EXPECT_EQ(sql("SELECT waba_id FROM wagate.account_events WHERE field = 'errors'"), kWabaId);
    EXPECT_EQ(
        sql("SELECT value->'errors'->0->>'code' FROM wagate.account_events WHERE field = 'errors'"),
        "130429");
    EXPECT_EQ(json::parse(
                  sql("SELECT value->'errors' FROM wagate.account_events WHERE field = 'errors'")),
              errors);
    EXPECT_EQ(sql("SELECT value->'metadata'->>'phone_number_id' FROM wagate.account_events WHERE "
                  "field = 'errors'"),
              "1001");
    EXPECT_EQ(json::parse(
                  sql("SELECT value FROM wagate.account_events WHERE field = 'some_future_field'")),
              future);
    EXPECT_EQ(sql("SELECT entry_time FROM wagate.account_events WHERE field = 'account_alerts'"),
              std::to_string(kT + 1));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_item_failures"), "0");

    EXPECT_EQ(tier(), "TIER_250");
    EXPECT_EQ(number_status("1001"), "CONNECTED");
    EXPECT_EQ(number_status("1002"), "CONNECTED");
    EXPECT_EQ(sql("SELECT quality_rating FROM wagate.phone_numbers WHERE id = '1001'"), "UNKNOWN");
    EXPECT_EQ(template_column("status"), "APPROVED");
    EXPECT_EQ(template_column("quality"), "UNKNOWN");
    EXPECT_EQ(template_column("category"), "MARKETING");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.state_changes WHERE source = 'meta'"), "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.meta_versions"), "0");
    opt_in(user(1));
    EXPECT_EQ(send_hello(user(1)).status, 200);
}

}  // namespace
}  // namespace wagate::test
