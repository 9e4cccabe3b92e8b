// Inbound `messages[]` webhooks through the whole gateway (reference/webhooks.md §6, policy §1–§2,
// docs/webhooks.md "Inbound messages"): every inbound type with Meta's payload shapes, what is
// stored for it (wagate.inbound_messages, wagate.reactions, wagate.contacts) and what
// GET /v1/messages/{wamid} returns, deletions, dedupe, the customer service window anchored on
// the message's own timestamp, identity changes and BSUID senders.
//
// Every test posts signed bodies to POST /webhooks/meta, applies them with drain_webhooks() and
// asserts the stored result. Times are Meta's Unix seconds relative to the ManualClock (`clock_`),
// which the window checks read. Users are 1650555xxxx, distinct from the fixture's kWindowUser.

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/meta_webhooks.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"
#include "support/time_assertions.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kDay = 24 * 3600;
constexpr const char* kBusinessDisplay = "15550001111";  // metadata.display_phone_number of 1001
constexpr const char* kBsuid = "US.13491208655302741918";

/// A realistic wamid (base64-like, with '+', '/' and '='), distinct per tag.
std::string wamid(const std::string& tag) {
    return "wamid.HBgLMTY1MDU1NTAxMDEVAgASGBQz" + tag + "+Rk/QUE4NjQ2MEMA=";
}

/// A business (outbound) message's wamid, as in a reply's context or a reaction's message_id.
std::string business_wamid(const std::string& tag) {
    return "wamid.HBgLMTY1MDU1NTAxMDEVAgARGBI" + tag + "/M0RFQjg+OTUA";
}

/// Test user n: "1650555" and four digits.
std::string user(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "1650555%04d", n);
    return buf;
}

/// '/', '+' and '=' escaped, as a client writes a wamid into a path.
std::string path_escape(const std::string& id) {
    std::string out;
    for (char c : id) {
        if (c == '/') {
            out += "%2F";
        } else if (c == '+') {
            out += "%2B";
        } else if (c == '=') {
            out += "%3D";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// A SQL string literal.
std::string q(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("''") : std::string(1, c);
    }
    return out + "'";
}

/// One inbound `messages[]` item: from, id, timestamp (a string, as Meta writes it), type and
/// the type's object, plus `extra` members (context, referral, errors, from_user_id, ...).
json message(const std::string& from,
             const std::string& id,
             std::int64_t ts,
             const std::string& type,
             json payload,
             json extra = json::object()) {
    json m = {{"from", from}, {"id", id}, {"timestamp", std::to_string(ts)}, {"type", type}};
    if (!payload.is_null()) {
        m[type] = std::move(payload);
    }
    for (auto& [k, v] : extra.items()) {
        m[k] = v;
    }
    return m;
}

json text(const std::string& from,
          const std::string& id,
          std::int64_t ts,
          const std::string& body = "Hello!") {
    return message(from, id, ts, "text", {{"body", body}});
}

/// The sender's value.contacts[] entry.
json sender(const std::string& wa_id,
            const std::string& name = "Sheena Nelson",
            json extra = json::object()) {
    json c = {{"profile", {{"name", name}}}, {"wa_id", wa_id}};
    for (auto& [k, v] : extra.items()) {
        c[k] = v;
    }
    return c;
}

json reaction(const std::string& from,
              const std::string& id,
              std::int64_t ts,
              const std::string& target,
              const std::optional<std::string>& emoji) {
    json r = {{"message_id", target}};
    if (emoji) {
        r["emoji"] = *emoji;
    }
    return message(from, id, ts, "reaction", r);
}

class WebhookInboundTest : public GatewayTest {
protected:
    std::int64_t now() const { return clock_->unix_seconds(); }

    HttpResult post(const std::string& body) {
        auto client = gateway_->client();
        return post_webhook(client, body);
    }

    /// Posts a signed body and applies every stored webhook.
    void apply(const std::string& body) {
        auto r = post(body);
        ASSERT_EQ(r.status, 200) << r.body;
        gateway_->drain_webhooks();
    }

    /// One value of 1001 with `messages` and their senders' `contacts`.
    void apply_messages(json messages, json contacts = json::array()) {
        apply(inbound_body("1001", std::move(messages), std::move(contacts)));
    }

    HttpResult get(const std::string& id, const std::string& key = {}) {
        return gateway_->client().get("/v1/messages/" + path_escape(id), key.empty() ? key_ : key);
    }

    /// GET /v1/messages/{wamid} (escaped): the body when the answer is 200; otherwise one failure
    /// naming the answer, and null, so that the test goes on with its other checks.
    json read(const std::string& id) {
        auto r = get(id);
        if (r.status != 200) {
            ADD_FAILURE() << "GET /v1/messages/" << path_escape(id) << " → " << r.status << " "
                          << r.body;
            return nullptr;
        }
        return json::parse(r.body, nullptr, false);
    }

    HttpResult send(const json& body) {
        return gateway_->client().post_json("/v23.0/1001/messages", body.dump(), key_);
    }

    /// A free-form text to `to` from 1001 (needs the customer service window).
    HttpResult send_text(const std::string& to) {
        return send({{"messaging_product", "whatsapp"},
                     {"recipient_type", "individual"},
                     {"to", "+" + to},
                     {"type", "text"},
                     {"text", {{"body", "Thanks for your message"}}}});
    }

    /// Asserts a Graph error and returns its details.
    static std::string error_details(const HttpResult& r, int status, int code) {
        EXPECT_EQ(r.status, status) << r.body;
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object() || !body.contains("error")) {
            ADD_FAILURE() << "not an error envelope: " << r.body;
            return {};
        }
        EXPECT_EQ(body["error"]["code"], code) << r.body;
        const auto& details = body["error"]["error_data"]["details"];
        return details.is_string() ? details.get<std::string>() : std::string{};
    }

    static std::string inbound(const std::string& column, const std::string& id) {
        return sql("SELECT " + column + " FROM wagate.inbound_messages WHERE wamid = " + q(id));
    }
    /// The window anchor of (1001, wa_id) in Unix seconds; "" when unset or no contact.
    static std::string last_inbound(const std::string& wa_id, const std::string& phone = "1001") {
        return sql(
            "SELECT extract(epoch FROM last_inbound_at)::bigint FROM wagate.contacts WHERE "
            "phone_number_id = " +
            q(phone) + " AND wa_id = " + q(wa_id));
    }
    static std::string ack_required(const std::string& wa_id) {
        return sql(
            "SELECT identity_ack_required FROM wagate.contacts WHERE phone_number_id = '1001' AND "
            "wa_id = " +
            q(wa_id));
    }
    void acknowledge(const std::string& wa_id) {
        auto r = gateway_->admin("POST", "/admin/v1/contacts/1001/" + wa_id + "/identity-ack");
        ASSERT_EQ(r.status, 200) << r.body;
    }
};

// ============================================================================================
// Each inbound type, stored and read back
// ============================================================================================

TEST_F(WebhookInboundTest, ATextIsStoredOnceWithItsSenderAndReadByItsEscapedWamid) {
    const std::int64_t ts = now() - 30;
    const std::string id = wamid("TEXT1");
    const json item = text(user(1), id, ts, "Hi, is my order 4521 shipped? 🙂");
    const json contact = sender(user(1));
    apply_messages(json::array({item}), json::array({contact}));

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), "1");
    EXPECT_EQ(inbound("phone_number_id", id), "1001");
    EXPECT_EQ(inbound("wa_id", id), user(1));
    EXPECT_EQ(inbound("user_id IS NULL", id), "t");
    EXPECT_EQ(inbound("type", id), "text");
    EXPECT_EQ(inbound("extract(epoch FROM occurred_at)::bigint", id), std::to_string(ts));
    EXPECT_EQ(inbound("deleted_at IS NULL", id), "t");
    EXPECT_EQ(json::parse(inbound("content::text", id)), item);
    EXPECT_EQ(json::parse(inbound("contact::text", id)), contact);

    if (json m = read(id); !m.is_null()) {
        EXPECT_EQ(m["id"], id);
        EXPECT_EQ(m["wamid"], id);
        EXPECT_EQ(m["direction"], "inbound");
        EXPECT_EQ(m["status"], "received");
        EXPECT_EQ(m["phone_number_id"], "1001");
        EXPECT_EQ(m["wa_id"], user(1));
        EXPECT_TRUE(m["user_id"].is_null());
        EXPECT_EQ(m["type"], "text");
        EXPECT_TRUE(is_time(m["created_at"], ts));
        EXPECT_TRUE(m["deleted_at"].is_null());
        EXPECT_EQ(m["errors"], json::array());
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["content"]["text"]["body"], "Hi, is my order 4521 shipped? 🙂");
        EXPECT_EQ(m["contact"], contact);
    }

    // Another number's key does not see it, and an unknown wamid is absent: 404 "no message".
    const std::string other_key = gateway_->create_key({"1002"});
    for (const auto& r : {get(id, other_key), get(wamid("NOPE"))}) {
        EXPECT_EQ(r.status, 404) << r.body;
        const json e = json::parse(r.body, nullptr, false);
        const std::string details =
            e.is_object() ? e.value(json::json_pointer("/error/error_data/details"), std::string())
                          : "";
        EXPECT_EQ(details.rfind("id: no message", 0), 0u) << r.body;
    }
}

TEST_F(WebhookInboundTest, AWamidWithSlashPlusOrEqualsIsReadThroughItsEscapedForm) {
    // Real wamids are base64 and usually end in '='; the client escapes '/', '+' and '='.
    const std::int64_t ts = now() - 30;
    const std::string plain = "wamid.HBgLMTY1MDU1NTAwNDQVAgASGBQzQUQ4RjYxNzM4RjM0RkEzQjlGMQA";
    const std::vector<std::string> escaped = {
        "wamid.HBgLMTY1MDU1NTAwNDQVAgASGBQzQUQ4RjYxNzM4RjM0RkEzQjlGMgA=",  // '='
        "wamid.HBgLMTY1MDU1NTAwNDQVAgASGBQzQUQ4RjYx+zM4RjM0RkEzQjlGMwA",   // '+'
        "wamid.HBgLMTY1MDU1NTAwNDQVAgASGBQzQUQ4RjYx/zM4RjM0RkEzQjlGNAA",   // '/'
    };
    json items = json::array({text(user(44), plain, ts)});
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        items.push_back(text(user(44), escaped[i], ts + 1 + static_cast<std::int64_t>(i)));
    }
    apply_messages(items, json::array({sender(user(44))}));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), "4");

    auto r = get(plain);
    ASSERT_EQ(r.status, 200) << "control, nothing to escape: " << r.body;
    EXPECT_EQ(json::parse(r.body)["id"], plain);
    for (const auto& id : escaped) {
        SCOPED_TRACE(path_escape(id));
        auto e = get(id);
        EXPECT_EQ(e.status, 200) << e.body;
        if (e.status == 200) {
            EXPECT_EQ(json::parse(e.body)["id"], id);
            EXPECT_EQ(json::parse(e.body)["direction"], "inbound");
        }
    }
}

TEST_F(WebhookInboundTest, MediaMessagesKeepIdMimeTypeBase64ShaCaptionAndFilename) {
    const std::int64_t ts = now() - 600;
    struct Case {
        std::string type;
        json object;
    };
    const std::vector<Case> cases = {
        {"image",
         {{"caption", "The broken part"},
          {"mime_type", "image/jpeg"},
          {"sha256", "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="},
          {"id", "1479537139650973"},
          {"url",
           "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
           "?mid=1479537139650973&ext=1750030000"}}},
        {"video",
         {{"caption", "Unboxing"},
          {"mime_type", "video/mp4"},
          {"sha256", "Bq/2tI0PtYh9mXWNnRpsFhp8G+k1Zl2ZrO8Ff5a0XkE="},
          {"id", "2762451407374632"}}},
        {"audio",
         {{"mime_type", "audio/ogg; codecs=opus"},
          {"sha256", "2xT+QW4F8m0tPzcKlq/TTa8c0XQb3V8v1oP5kX9rVQs="},
          {"id", "1003383421387256"},
          {"voice", true}}},
        {"document",
         {{"caption", "Invoice for June"},
          {"filename", "invoice-2025-06.pdf"},
          {"mime_type", "application/pdf"},
          {"sha256", "k3Wz/3C0dV7pJx0sHnPz+Jm4b2kPlqkYyRj6Y4ZrR0o="},
          {"id", "1126476598893422"}}},
        {"sticker",
         {{"mime_type", "image/webp"},
          {"sha256", "Pw+y1T6CKmLpDTCvE3gXvTzU8m6wq3NlF/eK2Xbt1Vc="},
          {"id", "964536088436234"},
          {"animated", false}}},
    };
    json items = json::array();
    for (std::size_t i = 0; i < cases.size(); ++i) {
        items.push_back(message(user(2), wamid("MEDIA" + std::to_string(i)),
                                ts + static_cast<std::int64_t>(i), cases[i].type, cases[i].object));
    }
    apply_messages(items, json::array({sender(user(2))}));

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), std::to_string(cases.size()));
    for (std::size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE(cases[i].type);
        json m = read(wamid("MEDIA" + std::to_string(i)));
        if (m.is_null()) {
            continue;
        }
        EXPECT_EQ(m["type"], cases[i].type);
        EXPECT_EQ(m["status"], "received");
        EXPECT_EQ(m["content"], items[i]);
        const json& media = m["content"][cases[i].type];
        EXPECT_EQ(media["id"], cases[i].object["id"]);
        EXPECT_EQ(media["mime_type"], cases[i].object["mime_type"]);
        EXPECT_EQ(media["sha256"], cases[i].object["sha256"]) << "base64, kept byte for byte";
        EXPECT_TRUE(is_time(m["created_at"], ts + static_cast<std::int64_t>(i)));
    }
    const auto content = [](const std::string& tag, const std::string& path) {
        return sql("SELECT content #>> '" + path +
                   "' FROM wagate.inbound_messages WHERE wamid = " + q(wamid(tag)));
    };
    EXPECT_EQ(content("MEDIA0", "{image,caption}"), "The broken part");
    EXPECT_EQ(content("MEDIA0", "{image,sha256}"), "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=");
    EXPECT_EQ(content("MEDIA1", "{video,caption}"), "Unboxing");
    EXPECT_EQ(content("MEDIA2", "{audio,voice}"), "true");
    EXPECT_EQ(content("MEDIA2", "{audio,mime_type}"), "audio/ogg; codecs=opus");
    EXPECT_EQ(content("MEDIA3", "{document,filename}"), "invoice-2025-06.pdf");
    EXPECT_EQ(content("MEDIA3", "{document,caption}"), "Invoice for June");
    EXPECT_EQ(content("MEDIA4", "{sticker,animated}"), "false");
    EXPECT_EQ(content("MEDIA4", "{sticker,id}"), "964536088436234");
    // Media renews the window: the anchor is the newest of them.
    EXPECT_EQ(last_inbound(user(2)), std::to_string(ts + 4));
}

TEST_F(WebhookInboundTest, LocationAndContactsMessagesAreKeptWhole) {
    const std::int64_t ts = now() - 100;
    const json location = message(user(3), wamid("LOC"), ts, "location",
                                  {{"latitude", 37.483307},
                                   {"longitude", -122.148981},
                                   {"name", "Meta Headquarters"},
                                   {"address", "1 Hacker Way, Menlo Park, CA 94025"},
                                   {"url", "https://www.meta.com"}});
    const json contacts = message(
        user(3), wamid("VCARD"), ts + 1, "contacts", nullptr,
        {{"contacts",
          json::array(
              {{{"name",
                 {{"formatted_name", "Barbara J. Johnson"},
                  {"first_name", "Barbara"},
                  {"middle_name", "Joana"},
                  {"last_name", "Johnson"},
                  {"prefix", "Dr."}}},
                {"phones",
                 json::array(
                     {{{"phone", "+1 (650) 555-1234"}, {"type", "WORK"}, {"wa_id", "16505551234"}},
                      {{"phone", "+1 (650) 555-9876"}, {"type", "HOME"}}})},
                {"emails",
                 json::array({{{"email", "bjohnson@luckyshrub.example"}, {"type", "WORK"}}})},
                {"org",
                 {{"company", "Lucky Shrub"}, {"department", "Sales"}, {"title", "Manager"}}},
                {"birthday", "1999-01-23"}}})}});
    apply_messages(json::array({location, contacts}), json::array({sender(user(3))}));

    EXPECT_EQ(json::parse(inbound("content::text", wamid("LOC"))), location);
    EXPECT_EQ(json::parse(inbound("content::text", wamid("VCARD"))), contacts);
    if (json loc = read(wamid("LOC")); !loc.is_null()) {
        EXPECT_EQ(loc["type"], "location");
        EXPECT_EQ(loc["content"], location);
        EXPECT_DOUBLE_EQ(loc["content"]["location"]["latitude"].get<double>(), 37.483307);
        EXPECT_DOUBLE_EQ(loc["content"]["location"]["longitude"].get<double>(), -122.148981);
        EXPECT_EQ(loc["content"]["location"]["address"], "1 Hacker Way, Menlo Park, CA 94025");
    }
    if (json card = read(wamid("VCARD")); !card.is_null()) {
        EXPECT_EQ(card["type"], "contacts");
        EXPECT_EQ(card["content"], contacts);
        EXPECT_EQ(card["content"]["contacts"][0]["phones"][0]["wa_id"], "16505551234");
        EXPECT_EQ(card["contact"], sender(user(3))) << "the sender's profile, not the shared card";
    }
    EXPECT_EQ(last_inbound(user(3)), std::to_string(ts + 1));
}

TEST_F(WebhookInboundTest, InteractiveRepliesKeepTheReplyTheContextAndTheFlowResponseAsAString) {
    const std::int64_t ts = now() - 50;
    const json context = {{"from", kBusinessDisplay}, {"id", business_wamid("BUTTONS")}};
    const std::string response_json =
        R"({"flow_token":"AQAAAAACS5FpgQ_cAAAAAD0QI3s.","firstName":"Barbara","lastName":"Johnson","optIn":true})";
    const json button_reply =
        message(user(4), wamid("BTNREPLY"), ts, "interactive",
                {{"type", "button_reply"},
                 {"button_reply", {{"id", "change-button"}, {"title", "Change"}}}},
                {{"context", context}});
    const json list_reply =
        message(user(4), wamid("LISTREPLY"), ts + 1, "interactive",
                {{"type", "list_reply"},
                 {"list_reply",
                  {{"id", "priority_express"},
                   {"title", "Express Shipping"},
                   {"description", "Next Day to 2 Days"}}}},
                {{"context", {{"from", kBusinessDisplay}, {"id", business_wamid("LIST")}}}});
    const json nfm_reply = message(
        user(4), wamid("NFMREPLY"), ts + 2, "interactive",
        {{"type", "nfm_reply"},
         {"nfm_reply", {{"name", "flow"}, {"body", "Sent"}, {"response_json", response_json}}}},
        {{"context", {{"from", kBusinessDisplay}, {"id", business_wamid("FLOW")}}}});
    apply_messages(json::array({button_reply, list_reply, nfm_reply}),
                   json::array({sender(user(4))}));

    EXPECT_EQ(json::parse(inbound("content::text", wamid("BTNREPLY"))), button_reply);
    EXPECT_EQ(json::parse(inbound("content::text", wamid("LISTREPLY"))), list_reply);
    EXPECT_EQ(json::parse(inbound("content::text", wamid("NFMREPLY"))), nfm_reply);
    EXPECT_EQ(inbound("jsonb_typeof(content->'interactive'->'nfm_reply'->'response_json')",
                      wamid("NFMREPLY")),
              "string");
    EXPECT_EQ(inbound("content->'interactive'->'nfm_reply'->>'response_json'", wamid("NFMREPLY")),
              response_json);
    if (json b = read(wamid("BTNREPLY")); !b.is_null()) {
        EXPECT_EQ(b["type"], "interactive");
        EXPECT_EQ(b["content"], button_reply);
        EXPECT_EQ(b["content"]["interactive"]["button_reply"]["id"], "change-button");
        EXPECT_EQ(b["content"]["context"]["id"], business_wamid("BUTTONS"));
    }
    if (json l = read(wamid("LISTREPLY")); !l.is_null()) {
        EXPECT_EQ(l["content"], list_reply);
        EXPECT_EQ(l["content"]["interactive"]["list_reply"]["description"], "Next Day to 2 Days");
    }
    if (json n = read(wamid("NFMREPLY")); !n.is_null()) {
        EXPECT_EQ(n["content"], nfm_reply);
        const json& stored = n["content"]["interactive"]["nfm_reply"]["response_json"];
        EXPECT_TRUE(stored.is_string())
            << "response_json stays a string holding JSON: " << stored.dump();
        if (stored.is_string()) {
            EXPECT_EQ(stored.get<std::string>(), response_json);
            EXPECT_EQ(json::parse(stored.get<std::string>())["flow_token"],
                      "AQAAAAACS5FpgQ_cAAAAAD0QI3s.");
        }
    }
    EXPECT_EQ(last_inbound(user(4)), std::to_string(ts + 2))
        << "interactive replies renew the window";
}

TEST_F(WebhookInboundTest, ATemplateQuickReplyButtonIsKeptWithItsPayloadAndOpensTheWindow) {
    const std::int64_t ts = now() - 10;
    const json item =
        message(user(5), wamid("QUICK"), ts, "button",
                {{"payload", "STOP_PROMOTIONS"}, {"text", "Stop promotions"}},
                {{"context", {{"from", kBusinessDisplay}, {"id", business_wamid("TEMPLATE")}}}});
    error_details(send_text(user(5)), 400, 131047);
    apply_messages(json::array({item}), json::array({sender(user(5))}));
    EXPECT_EQ(json::parse(inbound("content::text", wamid("QUICK"))), item);
    if (json m = read(wamid("QUICK")); !m.is_null()) {
        EXPECT_EQ(m["type"], "button");
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["content"]["button"]["payload"], "STOP_PROMOTIONS");
        EXPECT_EQ(m["content"]["context"]["id"], business_wamid("TEMPLATE"));
    }
    EXPECT_EQ(last_inbound(user(5)), std::to_string(ts));
    EXPECT_EQ(send_text(user(5)).status, 200);
}

TEST_F(WebhookInboundTest, AnOrderIsKeptWithItsProductItems) {
    const std::int64_t ts = now() - 10;
    const json item =
        message(user(6), wamid("ORDER"), ts, "order",
                {{"catalog_id", "194836987003835"},
                 {"text", "Please deliver before 6pm"},
                 {"product_items", json::array({{{"product_retailer_id", "di9ozbzfi4"},
                                                 {"quantity", 2},
                                                 {"item_price", 30},
                                                 {"currency", "USD"}},
                                                {{"product_retailer_id", "nlvjj4pnqh"},
                                                 {"quantity", 1},
                                                 {"item_price", 12.5},
                                                 {"currency", "USD"}}})}});
    apply_messages(json::array({item}), json::array({sender(user(6))}));
    EXPECT_EQ(json::parse(inbound("content::text", wamid("ORDER"))), item);
    if (json m = read(wamid("ORDER")); !m.is_null()) {
        EXPECT_EQ(m["type"], "order");
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["content"]["order"]["product_items"].size(), 2u);
        EXPECT_EQ(m["content"]["order"]["product_items"][1]["item_price"], 12.5);
    }
    EXPECT_EQ(last_inbound(user(6)), std::to_string(ts)) << "an order renews the window";
}

TEST_F(WebhookInboundTest, AReferralOnAFirstMessageIsKeptAndTheMessageOpensTheWindow) {
    const std::int64_t ts = now() - 120;
    const json referral = {
        {"source_url", "https://fb.me/3cr4Wqqkv"},
        {"source_id", "120226305854810726"},
        {"source_type", "ad"},
        {"body", "Summer sale: 30% off all plants"},
        {"headline", "Chat with us"},
        {"media_type", "image"},
        {"image_url", "https://scontent.xx.fbcdn.net/v/t45.1600-4/123_n.png"},
        {"ctwa_clid",
         "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_"
         "0NiNhEgpGo0AHemvuSoifXaytfTzcchptiErTKCqTrJ5nW1h7IHYeYymGb5K5J5iXROYHhPlE-fX"},
        {"welcome_message", {{"text", "Hi there! How can we help?"}}}};
    const json item =
        message(user(7), wamid("REFERRAL"), ts, "text",
                {{"body", "Can I get more info about this?"}}, {{"referral", referral}});
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contacts WHERE wa_id = " + q(user(7))), "0")
        << "a first message";
    apply_messages(json::array({item}), json::array({sender(user(7), "Pablo Morales")}));
    EXPECT_EQ(json::parse(inbound("content->'referral'", wamid("REFERRAL"))), referral);
    if (json m = read(wamid("REFERRAL")); !m.is_null()) {
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["content"]["referral"], referral);
        EXPECT_EQ(m["content"]["referral"]["ctwa_clid"], referral["ctwa_clid"]);
        EXPECT_EQ(m["contact"]["profile"]["name"], "Pablo Morales");
    }
    EXPECT_EQ(last_inbound(user(7)), std::to_string(ts));
    EXPECT_EQ(send_text(user(7)).status, 200);
}

TEST_F(WebhookInboundTest, AnUnsupportedMessageExposesItsErrorsAndDoesNotOpenTheWindow) {
    const std::int64_t ts = now() - 10;
    const json errors =
        json::array({{{"code", 131051},
                      {"title", "Message type unknown"},
                      {"message", "Message type unknown"},
                      {"error_data", {{"details", "Message type is currently not supported."}}}}});
    const json item = message(user(8), wamid("UNSUP"), ts, "unsupported", {{"type", "edit"}},
                              {{"errors", errors}});
    apply_messages(json::array({item}), json::array({sender(user(8))}));
    EXPECT_EQ(json::parse(inbound("content->'errors'", wamid("UNSUP"))), errors);
    if (json m = read(wamid("UNSUP")); !m.is_null()) {
        EXPECT_EQ(m["type"], "unsupported");
        EXPECT_EQ(m["status"], "received");
        EXPECT_EQ(m["errors"], errors);
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["content"]["unsupported"]["type"], "edit");
    }
    EXPECT_EQ(last_inbound(user(8)), "") << "unsupported does not renew the window by default";
    error_details(send_text(user(8)), 400, 131047);
}

TEST_F(WebhookInboundTest, AnUnknownMessageTypeIsKeptWithItsItem) {
    const std::int64_t ts = now() - 10;
    const json item = message(
        user(9), wamid("FUTURE"), ts, "poll_vote",
        {{"poll_id", "wamid.POLL123"}, {"selected_options", json::array({"Tuesday", "Friday"})}},
        {{"some_new_member", {{"nested", json::array({1, 2, 3})}}}});
    apply_messages(json::array({item}), json::array({sender(user(9))}));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_item_failures"), "0");
    EXPECT_EQ(inbound("type", wamid("FUTURE")), "poll_vote");
    EXPECT_EQ(json::parse(inbound("content::text", wamid("FUTURE"))), item);
    if (json m = read(wamid("FUTURE")); !m.is_null()) {
        EXPECT_EQ(m["type"], "poll_vote");
        EXPECT_EQ(m["content"], item);
        EXPECT_EQ(m["errors"], json::array());
    }
    EXPECT_EQ(last_inbound(user(9)), "") << "an unknown type renews nothing by default";
}

// ============================================================================================
// Reactions
// ============================================================================================

TEST_F(WebhookInboundTest, TheLatestReactionByTimestampWinsAndAnOlderOneNeverResurrectsARemoval) {
    const std::int64_t t = now() - 1000;
    const std::string target = business_wamid("REACTED");
    auto row = [&](const std::string& who) {
        return sql(
            "SELECT coalesce(emoji, '<removed>') || ' ' || reaction_wamid || ' ' ||"
            " extract(epoch FROM occurred_at)::bigint FROM wagate.reactions WHERE phone_number_id "
            "= '1001'"
            " AND message_id = " +
            q(target) + " AND wa_id = " + q(who));
    };
    auto expect = [&](const std::string& emoji, const std::string& reaction_id, std::int64_t ts) {
        return emoji + " " + reaction_id + " " + std::to_string(ts);
    };

    apply_messages(json::array({reaction(user(10), wamid("R1"), t + 10, target, "👍")}),
                   json::array({sender(user(10))}));
    EXPECT_EQ(row(user(10)), expect("👍", wamid("R1"), t + 10));

    // Removal: Meta sends the reaction without an emoji.
    apply_messages(json::array({reaction(user(10), wamid("R2"), t + 20, target, std::nullopt)}),
                   json::array({sender(user(10))}));
    EXPECT_EQ(row(user(10)), expect("<removed>", wamid("R2"), t + 20));
    EXPECT_EQ(sql("SELECT emoji IS NULL FROM wagate.reactions WHERE wa_id = " + q(user(10))), "t");

    // An older reaction delivered late (a retry) does not bring the removed one back.
    apply_messages(json::array({reaction(user(10), wamid("R0"), t + 5, target, "❤️")}),
                   json::array({sender(user(10))}));
    EXPECT_EQ(row(user(10)), expect("<removed>", wamid("R2"), t + 20));

    // A newer reaction replaces the removal; an empty emoji removes again.
    apply_messages(json::array({reaction(user(10), wamid("R3"), t + 30, target, "🙏")}),
                   json::array({sender(user(10))}));
    EXPECT_EQ(row(user(10)), expect("🙏", wamid("R3"), t + 30));
    apply_messages(json::array({reaction(user(10), wamid("R4"), t + 40, target, "")}),
                   json::array({sender(user(10))}));
    EXPECT_EQ(row(user(10)), expect("<removed>", wamid("R4"), t + 40));

    // Another user's reaction to the same message is its own row.
    apply_messages(json::array({reaction(user(11), wamid("R5"), t + 15, target, "😂")}),
                   json::array({sender(user(11))}));
    EXPECT_EQ(row(user(11)), expect("😂", wamid("R5"), t + 15));
    EXPECT_EQ(row(user(10)), expect("<removed>", wamid("R4"), t + 40));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.reactions"), "2");

    // Each reaction is also an inbound message of its own.
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE type = 'reaction'"), "6");
    if (json r = read(wamid("R2")); !r.is_null()) {
        EXPECT_EQ(r["type"], "reaction");
        EXPECT_EQ(r["content"]["reaction"], json({{"message_id", target}}));
    }
}

TEST_F(WebhookInboundTest, ReactionsInOneBodyConvergeToTheLatestWhateverTheirOrder) {
    const std::int64_t t = now() - 1000;
    const std::string target = business_wamid("REACTED2");
    // Newest first in the array: the removal at t+20 must still win over the emoji at t+10.
    apply_messages(json::array({reaction(user(12), wamid("RB2"), t + 20, target, std::nullopt),
                                reaction(user(12), wamid("RB1"), t + 10, target, "👍")}),
                   json::array({sender(user(12))}));
    EXPECT_EQ(
        sql("SELECT coalesce(emoji, '<removed>') || ' ' || reaction_wamid FROM wagate.reactions"),
        "<removed> " + wamid("RB2"));
}

// ============================================================================================
// Deletions: revoke and the On-Premises `deleted` status
// ============================================================================================

TEST_F(WebhookInboundTest, ARevokeErasesTheContentAndKeepsATombstone) {
    const std::int64_t ts = now() - 300;
    const std::string original = wamid("ORIG1");
    apply_messages(
        json::array({text(user(13), original, ts, "my card number is 4111 1111 1111 1111")}),
        json::array({sender(user(13))}));
    EXPECT_EQ(inbound("content->'text'->>'body'", original),
              "my card number is 4111 1111 1111 1111");
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "received");
    }

    const json revoke =
        message(user(13), wamid("REVOKE1"), ts + 60, "revoke", {{"original_message_id", original}});
    apply_messages(json::array({revoke}), json::array({sender(user(13))}));

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE wamid = " + q(original)), "1")
        << "a tombstone";
    EXPECT_EQ(inbound("content IS NULL", original), "t");
    EXPECT_EQ(inbound("extract(epoch FROM deleted_at)::bigint", original), std::to_string(ts + 60));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE content::text LIKE '%4111%'"),
              "0");
    EXPECT_EQ(
        inbound("type || ' ' || wa_id || ' ' || extract(epoch FROM occurred_at)::bigint", original),
        "text " + user(13) + " " + std::to_string(ts))
        << "the metadata stays";
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "deleted");
        EXPECT_TRUE(m["content"].is_null());
        EXPECT_EQ(m["type"], "text") << "the metadata stays";
        EXPECT_EQ(m["wa_id"], user(13));
        EXPECT_TRUE(is_time(m["created_at"], ts));
        EXPECT_TRUE(is_time(m["deleted_at"], ts + 60));
    }
    EXPECT_EQ(json::parse(inbound("content::text", wamid("REVOKE1"))), revoke);
    if (json r = read(wamid("REVOKE1")); !r.is_null()) {
        EXPECT_EQ(r["type"], "revoke");
        EXPECT_EQ(r["status"], "received");
        EXPECT_EQ(r["content"], revoke);
    }
}

TEST_F(WebhookInboundTest, ARevokeArrivingBeforeItsOriginalMeansTheOriginalNeverGetsItsContent) {
    const std::int64_t ts = now() - 300;
    const std::string original = wamid("ORIG2");
    apply_messages(json::array({message(user(14), wamid("REVOKE2"), ts + 30, "revoke",
                                        {{"original_message_id", original}})}),
                   json::array({sender(user(14))}));
    EXPECT_EQ(
        inbound("occurred_at IS NULL AND content IS NULL AND deleted_at IS NOT NULL", original),
        "t")
        << "a tombstone waits for its message";

    apply_messages(json::array({text(user(14), original, ts, "oops, wrong chat")}),
                   json::array({sender(user(14))}));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE wamid = " + q(original)),
              "1");
    EXPECT_EQ(inbound("content IS NULL", original), "t");
    EXPECT_EQ(
        sql("SELECT count(*) FROM wagate.inbound_messages WHERE content::text LIKE '%wrong chat%'"),
        "0");
    EXPECT_EQ(inbound("phone_number_id || ' ' || type || ' ' || wa_id || ' ' || extract(epoch FROM "
                      "occurred_at)::bigint"
                      " || ' ' || extract(epoch FROM deleted_at)::bigint",
                      original),
              "1001 text " + user(14) + " " + std::to_string(ts) + " " + std::to_string(ts + 30))
        << "the message fills in the metadata";
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "deleted");
        EXPECT_TRUE(m["content"].is_null());
        EXPECT_EQ(m["type"], "text") << "the message fills in the metadata";
        EXPECT_EQ(m["wa_id"], user(14));
        EXPECT_EQ(m["phone_number_id"], "1001");
        EXPECT_TRUE(is_time(m["created_at"], ts));
        EXPECT_TRUE(is_time(m["deleted_at"], ts + 30));
    }

    // A redelivery of the original (another body) still brings no content back.
    apply_messages(json::array({text(user(14), original, ts, "oops, wrong chat"),
                                text(user(14), wamid("AFTER2"), ts + 90)}),
                   json::array({sender(user(14))}));
    EXPECT_EQ(inbound("content IS NULL AND deleted_at IS NOT NULL", original), "t");
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "deleted");
    }
}

TEST_F(WebhookInboundTest, AnOnPremisesDeletedStatusTombstonesTheInboundMessage) {
    const std::int64_t ts = now() - 300;
    const std::string original =
        "gBGGFlAwCWFvAgkyHMGKnRu4JeA=";  // On-Premises ids carry no "wamid." prefix
    apply_messages(json::array({text(user(15), original, ts, "please forget this")}),
                   json::array({sender(user(15))}));
    EXPECT_EQ(inbound("content IS NOT NULL AND deleted_at IS NULL", original), "t");
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "received");
    }

    // The On-Premises shape: top-level statuses, no entry/changes/metadata.
    const json body = {{"statuses", json::array({{{"id", original},
                                                  {"recipient_id", user(15)},
                                                  {"status", "deleted"},
                                                  {"timestamp", std::to_string(ts + 45)}}})}};
    apply(body.dump());
    EXPECT_EQ(inbound("content IS NULL", original), "t");
    EXPECT_EQ(inbound("extract(epoch FROM deleted_at)::bigint", original), std::to_string(ts + 45));
    EXPECT_EQ(inbound("phone_number_id", original), "1001");
    if (json m = read(original); !m.is_null()) {
        EXPECT_EQ(m["status"], "deleted");
        EXPECT_TRUE(m["content"].is_null());
        EXPECT_TRUE(is_time(m["deleted_at"], ts + 45));
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "0") << "not an outbound status";
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses WHERE status = 'deleted'"), "0");
}

// ============================================================================================
// Dedupe
// ============================================================================================

TEST_F(WebhookInboundTest, TheSameMessageInTwoDifferentBodiesIsStoredOnce) {
    const std::int64_t ts = now() - 60;
    const json x = text(user(16), wamid("DUP"), ts, "only once please");
    apply_messages(json::array({x}), json::array({sender(user(16))}));
    // Meta batches it again with another message (a retry through a second subscription).
    apply_messages(json::array({text(user(16), wamid("DUPNEXT"), ts + 5, "and this"), x}),
                   json::array({sender(user(16))}));
    // And the first body byte for byte.
    apply_messages(json::array({x}), json::array({sender(user(16))}));

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "2")
        << "the exact repeat is not stored again";
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE wamid = " + q(wamid("DUP"))),
              "1");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), "2");
    EXPECT_EQ(json::parse(inbound("content::text", wamid("DUP"))), x);
    if (json m = read(wamid("DUP")); !m.is_null()) {
        EXPECT_EQ(m["content"], x);
    }
    EXPECT_EQ(last_inbound(user(16)), std::to_string(ts + 5));
}

// ============================================================================================
// The customer service window (policy §1)
// ============================================================================================

TEST_F(WebhookInboundTest, AnInboundTextOpensTheWindowForAFreeFormReply) {
    const std::string details = error_details(send_text(user(20)), 400, 131047);
    EXPECT_NE(details.find("no message"), std::string::npos) << details;
    apply_messages(json::array({text(user(20), wamid("OPEN"), now() - 5)}),
                   json::array({sender(user(20))}));
    auto r = send_text(user(20));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE wa_id = " + q(user(20))), "1");
}

TEST_F(WebhookInboundTest, TheWindowRunsFromTheMessagesOwnTimestampNotItsArrival) {
    // Delivered now, sent by the user 23 h 59 min ago (a Meta retry backlog).
    const std::int64_t sent_at = now() - (23 * 3600 + 59 * 60);
    apply_messages(json::array({text(user(21), wamid("OLD1"), sent_at)}),
                   json::array({sender(user(21))}));
    EXPECT_EQ(last_inbound(user(21)), std::to_string(sent_at));
    auto r = send_text(user(21));
    EXPECT_EQ(r.status, 200) << "23h59m old: open " << r.body;

    clock_->advance(minutes(1));  // exactly 24 h after the message
    const std::string details = error_details(send_text(user(21)), 400, 131047);
    EXPECT_NE(details.find(utc_to_the_second(sent_at + kDay)), std::string::npos)
        << "the window closed 24 h after the message's timestamp: " << details;

    // A message that is already 24 h old when it arrives opens nothing.
    apply_messages(json::array({text(user(22), wamid("OLD2"), now() - kDay)}),
                   json::array({sender(user(22))}));
    error_details(send_text(user(22)), 400, 131047);
    apply_messages(json::array({text(user(22), wamid("OLD3"), now() - kDay + 1)}),
                   json::array({sender(user(22))}));
    EXPECT_EQ(send_text(user(22)).status, 200) << "one second younger: open";
}

TEST_F(WebhookInboundTest, ALaterArrivingOlderMessageNeverShortensTheWindow) {
    const std::int64_t t = now();
    apply_messages(json::array({text(user(23), wamid("NEW"), t - 3600)}),
                   json::array({sender(user(23))}));
    apply_messages(json::array({text(user(23), wamid("OLDER"), t - 23 * 3600)}),
                   json::array({sender(user(23))}));
    EXPECT_EQ(last_inbound(user(23)), std::to_string(t - 3600));
    clock_->advance(hours(2));  // the older one is 25 h old now, the newer 3 h
    EXPECT_EQ(send_text(user(23)).status, 200);
    clock_->advance(hours(21));  // 24 h after the newer one
    error_details(send_text(user(23)), 400, 131047);
}

TEST_F(WebhookInboundTest, ReactionsSystemAndUnsupportedMessagesDoNotRenewTheWindowByDefault) {
    const std::int64_t t = now();
    const std::string target = business_wamid("W");
    // Three users whose only messages are doubtful kinds, sent just now.
    apply_messages(json::array({reaction(user(24), wamid("WR"), t - 5, target, "👍")}),
                   json::array({sender(user(24))}));
    apply_messages(
        json::array({message(user(25), wamid("WS"), t - 5, "system",
                             {{"body", "User Sheena Nelson changed their business-scoped user ID"},
                              {"user_id", "US.90817263544536271809"},
                              {"type", "user_changed_user_id"}})}));
    apply_messages(
        json::array({message(
            user(26), wamid("WU"), t - 5, "unsupported", {{"type", "poll_creation"}},
            {{"errors", json::array({{{"code", 131051}, {"title", "Message type unknown"}}})}})}),
        json::array({sender(user(26))}));
    for (int u : {24, 25, 26}) {
        SCOPED_TRACE(user(u));
        EXPECT_EQ(last_inbound(user(u)), "");
        const std::string details = error_details(send_text(user(u)), 400, 131047);
        EXPECT_NE(details.find("no message"), std::string::npos) << details;
    }

    // A window from a text 23 h ago is not extended by a reaction now.
    apply_messages(json::array({text(user(27), wamid("WT"), t - 23 * 3600)}),
                   json::array({sender(user(27))}));
    apply_messages(json::array({reaction(user(27), wamid("WTR"), t, target, "❤️")}),
                   json::array({sender(user(27))}));
    EXPECT_EQ(last_inbound(user(27)), std::to_string(t - 23 * 3600));
    EXPECT_EQ(send_text(user(27)).status, 200);
    clock_->advance(hours(1));
    error_details(send_text(user(27)), 400, 131047);
}

/// The same gateway with WAGATE_WINDOW_RENEWED_BY=reaction,unsupported.
class WebhookInboundRenewalTest : public WebhookInboundTest {
protected:
    void SetUp() override {
        app::Config c = TestGateway::base_config();
        c.window_renewed_by = {"reaction", "unsupported"};
        start(c);
    }
};

TEST_F(WebhookInboundRenewalTest, ConfiguredKindsRenewTheWindowAndSystemMessagesStillDoNot) {
    const std::int64_t t = now() - 10;
    apply_messages(json::array({reaction(user(28), wamid("CR"), t, business_wamid("C"), "👍")}),
                   json::array({sender(user(28))}));
    apply_messages(
        json::array({message(user(29), wamid("CU"), t, "unsupported", {{"type", "edit"}})}),
        json::array({sender(user(29))}));
    apply_messages(json::array({message(user(30), wamid("CS"), t, "system",
                                        {{"body", "User Ann changed their business-scoped user ID"},
                                         {"user_id", "US.10293847561029384756"},
                                         {"type", "user_changed_user_id"}})}));
    EXPECT_EQ(last_inbound(user(28)), std::to_string(t));
    EXPECT_EQ(last_inbound(user(29)), std::to_string(t));
    EXPECT_EQ(last_inbound(user(30)), "");
    EXPECT_EQ(send_text(user(28)).status, 200);
    EXPECT_EQ(send_text(user(29)).status, 200);
    error_details(send_text(user(30)), 400, 131047);
}

// ============================================================================================
// Identity (policy §2)
// ============================================================================================

TEST_F(WebhookInboundTest,
       CustomerIdentityChangedBlocksUntilAcknowledgedAndAReplayDoesNotBlockAgain) {
    const std::int64_t t = now();
    const std::string who = user(31);
    apply_messages(json::array({text(who, wamid("ID0"), t - 120)}), json::array({sender(who)}));
    ASSERT_EQ(send_text(who).status, 200);

    const json change = message(who, wamid("IDCHG"), t - 60, "system",
                                {{"body", "Sheena Nelson's security code changed."},
                                 {"customer", who},
                                 {"identity", "3FqhAtkBy0Ib4/Rha3NE4QnUgLs="},
                                 {"type", "customer_identity_changed"}});
    const std::string body =
        inbound_body("1001", json::array({change}));  // system messages carry no contacts
    apply(body);
    EXPECT_EQ(ack_required(who), "t");
    EXPECT_EQ(sql("SELECT extract(epoch FROM identity_changed_at)::bigint FROM wagate.contacts "
                  "WHERE wa_id = " +
                  q(who)),
              std::to_string(t - 60));
    error_details(send_text(who), 400, 900102);
    EXPECT_EQ(inbound("type", wamid("IDCHG")), "system");
    if (json m = read(wamid("IDCHG")); !m.is_null()) {
        EXPECT_EQ(m["type"], "system");
        EXPECT_EQ(m["content"], change);
    }
    EXPECT_EQ(last_inbound(who), std::to_string(t - 120)) << "a system message renews nothing";

    acknowledge(who);
    EXPECT_EQ(ack_required(who), "f");
    EXPECT_EQ(send_text(who).status, 200);

    // Meta re-sends the notification: byte for byte, then batched with another message.
    apply(body);
    apply_messages(json::array({change, text(user(32), wamid("IDOTHER"), t - 30)}),
                   json::array({sender(user(32))}));
    EXPECT_EQ(ack_required(who), "f") << "a replay after the acknowledgement does not block again";
    EXPECT_EQ(send_text(who).status, 200);
    EXPECT_EQ(
        sql("SELECT count(*) FROM wagate.inbound_messages WHERE wamid = " + q(wamid("IDCHG"))),
        "1");
}

TEST_F(WebhookInboundTest,
       AUserChangedNumberBlocksTheOldNumberAndGivesTheNewOneTheWindowOfThatMessage) {
    const std::int64_t t = now();
    const std::string old_number = user(33);
    const std::string new_number = user(34);
    apply_messages(json::array({text(old_number, wamid("BEFORE"), t - 3600)}),
                   json::array({sender(old_number)}));
    ASSERT_EQ(send_text(old_number).status, 200);
    error_details(send_text(new_number), 400, 131047);

    const std::int64_t changed_at = t - 600;
    const json change =
        message(old_number, wamid("NUMCHG"), changed_at, "system",
                {{"body", "User Sheena Nelson changed from " + old_number + " to " + new_number},
                 {"wa_id", new_number},
                 {"type", "user_changed_number"}});
    const std::string body = inbound_body("1001", json::array({change}));
    apply(body);

    EXPECT_EQ(ack_required(old_number), "t");
    const std::string details = error_details(send_text(old_number), 400, 900102);
    EXPECT_FALSE(details.empty());
    EXPECT_EQ(ack_required(new_number), "f");
    EXPECT_EQ(last_inbound(new_number), std::to_string(changed_at))
        << "the new number has the window of that message";
    auto contact = gateway_->admin("GET", "/admin/v1/contacts/1001/" + new_number);
    ASSERT_EQ(contact.status, 200) << contact.body;
    const json c = json::parse(contact.body);
    EXPECT_EQ(c["window"]["open"], true);
    EXPECT_TRUE(is_time(c["window"]["last_inbound_at"], changed_at));
    EXPECT_EQ(send_text(new_number).status, 200);

    acknowledge(old_number);
    EXPECT_EQ(send_text(old_number).status, 200) << "acknowledged; its own window is still open";
    apply_messages(json::array({change, text(user(35), wamid("NUMOTHER"), t - 30)}),
                   json::array({sender(user(35))}));
    EXPECT_EQ(ack_required(old_number), "f")
        << "a replay after the acknowledgement does not block again";

    clock_->set(std::chrono::system_clock::time_point(seconds(changed_at + kDay)));
    error_details(send_text(new_number), 400, 131047);
}

TEST_F(WebhookInboundTest, AChangedIdentityKeyHashBetweenTwoMessagesFlagsTheContact) {
    const std::int64_t t = now();
    const std::string who = user(36);
    apply_messages(
        json::array({text(who, wamid("KH1"), t - 120)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "DF2lS5v2W6x="}})}));
    apply_messages(
        json::array({text(who, wamid("KH2"), t - 90)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "DF2lS5v2W6x="}})}));
    EXPECT_EQ(ack_required(who), "f") << "the same hash is no change";
    EXPECT_EQ(sql("SELECT identity_key_hash FROM wagate.contacts WHERE wa_id = " + q(who)),
              "DF2lS5v2W6x=");
    ASSERT_EQ(send_text(who).status, 200);

    apply_messages(
        json::array({text(who, wamid("KH3"), t - 60)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "kPq8ZrT3mWs="}})}));
    EXPECT_EQ(ack_required(who), "t");
    EXPECT_EQ(sql("SELECT identity_key_hash FROM wagate.contacts WHERE wa_id = " + q(who)),
              "kPq8ZrT3mWs=");
    EXPECT_EQ(sql("SELECT extract(epoch FROM identity_changed_at)::bigint FROM wagate.contacts "
                  "WHERE wa_id = " +
                  q(who)),
              std::to_string(t - 60));
    error_details(send_text(who), 400, 900102);

    acknowledge(who);
    EXPECT_EQ(send_text(who).status, 200);
    // The same hash again, and a replay of the changing message, flag nothing.
    apply_messages(
        json::array({text(who, wamid("KH4"), t - 30)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "kPq8ZrT3mWs="}})}));
    apply_messages(
        json::array({text(who, wamid("KH3"), t - 60), text(user(37), wamid("KHX"), t - 30)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "kPq8ZrT3mWs="}}),
                     sender(user(37))}));
    EXPECT_EQ(ack_required(who), "f");
    EXPECT_EQ(send_text(who).status, 200);
}

TEST_F(WebhookInboundTest, AnIdentityKeyHashChangeFlagsTheContactWhateverTheArrivalOrder) {
    // The same two messages as above, delivered newest first (a retry backlog, reference §2.4):
    // the key still changed between them, and the order must not decide whether that is seen.
    const std::int64_t t = now();
    const std::string who = user(38);
    apply_messages(
        json::array({text(who, wamid("KR2"), t - 60)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "kPq8ZrT3mWs="}})}));
    apply_messages(
        json::array({text(who, wamid("KR1"), t - 120)}),
        json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "DF2lS5v2W6x="}})}));
    EXPECT_EQ(sql("SELECT identity_key_hash FROM wagate.contacts WHERE wa_id = " + q(who)),
              "kPq8ZrT3mWs=")
        << "the newest hash is the one kept";
    EXPECT_EQ(ack_required(who), "t");
    error_details(send_text(who), 400, 900102);
}

TEST_F(WebhookInboundTest, AnIdentityKeyHashChangeWithinOneBodyFlagsTheContact) {
    // Meta aggregates several changes in one POST (reference §2.5): two messages of one user,
    // each value with its own contacts[] and the key changed between them.
    const std::int64_t t = now();
    const std::string who = user(39);
    json first = messages_envelope(
        "1001",
        {{"messages", json::array({text(who, wamid("KB1"), t - 120)})},
         {"contacts",
          json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "DF2lS5v2W6x="}})})}});
    json second = messages_envelope(
        "1001",
        {{"messages", json::array({text(who, wamid("KB2"), t - 60)})},
         {"contacts",
          json::array({sender(who, "Sheena Nelson", {{"identity_key_hash", "kPq8ZrT3mWs="}})})}});
    first["entry"][0]["changes"].push_back(second["entry"][0]["changes"][0]);
    apply(first.dump());
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), "2");
    EXPECT_EQ(sql("SELECT identity_key_hash FROM wagate.contacts WHERE wa_id = " + q(who)),
              "kPq8ZrT3mWs=");
    EXPECT_EQ(ack_required(who), "t");
    error_details(send_text(who), 400, 900102);
}

TEST_F(WebhookInboundTest, ALegacyUnacknowledgedIdentityOnAMessageBlocksTheUser) {
    const std::int64_t t = now();
    const std::string who = user(40);
    apply_messages(json::array({text(who, wamid("LEG"), t - 60, "hello again")}),
                   json::array({sender(who)}));
    ASSERT_EQ(send_text(who).status, 200);
    apply_messages(json::array({message(who, wamid("LEG2"), t - 30, "text", {{"body", "it's me"}},
                                        {{"identity",
                                          {{"acknowledged", false},
                                           {"created_timestamp", t - 40},
                                           {"hash", "Sjvjlx8G6Z0="}}}})}),
                   json::array({sender(who)}));
    EXPECT_EQ(ack_required(who), "t");
    error_details(send_text(who), 400, 900102);
}

// ============================================================================================
// BSUID senders, and everything in one value
// ============================================================================================

TEST_F(WebhookInboundTest, ABsuidOnlySenderIsStoredWithAnEmptyWaIdAndKeyedByItsUserId) {
    const std::int64_t ts = now() - 20;
    const auto send_to_bsuid = [&] {
        return send({{"messaging_product", "whatsapp"},
                     {"recipient_type", "individual"},
                     {"recipient", kBsuid},
                     {"type", "text"},
                     {"text", {{"body", "Hi!"}}}});
    };
    error_details(send_to_bsuid(), 400, 131047);

    const json item = text("", wamid("BSUID"), ts, "Hi from a username");
    json with_user = item;
    with_user["from_user_id"] = kBsuid;
    const json contact = {
        {"profile", {{"name", "Sheena Nelson"}, {"username", "@sheena.n"}, {"country_code", "US"}}},
        {"wa_id", ""},
        {"user_id", kBsuid}};
    apply_messages(json::array({with_user}), json::array({contact}));

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_item_failures"), "0");
    EXPECT_EQ(inbound("wa_id = ''", wamid("BSUID")), "t");
    EXPECT_EQ(inbound("user_id", wamid("BSUID")), kBsuid);
    EXPECT_EQ(json::parse(inbound("contact::text", wamid("BSUID"))), contact);
    if (json m = read(wamid("BSUID")); !m.is_null()) {
        EXPECT_EQ(m["wa_id"], "");
        EXPECT_EQ(m["user_id"], kBsuid);
        EXPECT_EQ(m["contact"], contact);
    }
    EXPECT_EQ(last_inbound(kBsuid), std::to_string(ts)) << "the window is keyed by the BSUID";
    EXPECT_EQ(sql("SELECT user_id FROM wagate.contacts WHERE wa_id = " + q(kBsuid)), kBsuid);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contacts WHERE wa_id = ''"), "0");
    auto r = send_to_bsuid();
    EXPECT_EQ(r.status, 200) << r.body;

    // A sender with both a phone number and a BSUID is keyed by the number; both are kept.
    const std::string other_bsuid = "US.77201938475610293847";
    json both = text(user(41), wamid("BOTH"), ts);
    both["from_user_id"] = other_bsuid;
    apply_messages(
        json::array({both}),
        json::array(
            {{{"profile", {{"name", "Ann"}}}, {"wa_id", user(41)}, {"user_id", other_bsuid}}}));
    EXPECT_EQ(inbound("wa_id", wamid("BOTH")), user(41));
    EXPECT_EQ(inbound("user_id", wamid("BOTH")), other_bsuid);
    EXPECT_EQ(last_inbound(user(41)), std::to_string(ts));
    EXPECT_EQ(sql("SELECT user_id FROM wagate.contacts WHERE wa_id = " + q(user(41))), other_bsuid);
    EXPECT_EQ(send_text(user(41)).status, 200);
}

TEST_F(WebhookInboundTest, MessagesContactsAndStatusesMixedInOneValueAreEachApplied) {
    // An outbound message with Meta's wamid, to receive a status in the same value.
    auto sent = send_text(kWindowUser);
    ASSERT_EQ(sent.status, 200) << sent.body;
    const std::string outbound_id = json::parse(sent.body)["messages"][0]["id"];
    const std::string outbound_wamid = business_wamid("OUT");
    sql("UPDATE wagate.messages SET wamid = " + q(outbound_wamid) +
        " WHERE id = " + q(outbound_id.substr(7)) + "::uuid");

    const std::int64_t ts = now() - 40;
    const json a_text = text(user(42), wamid("MIXA"), ts, "first");
    const json b_image = message(user(43), wamid("MIXB"), ts + 1, "image",
                                 {{"mime_type", "image/jpeg"},
                                  {"sha256", "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="},
                                  {"id", "1479537139650973"}});
    const json a_reaction = reaction(user(42), wamid("MIXR"), ts + 2, outbound_wamid, "👍");
    const json contacts = json::array({sender(user(43), "Bea"), sender(user(42), "Ann")});
    const json value = {
        {"contacts", contacts},
        {"messages", json::array({a_text, b_image, a_reaction})},
        {"statuses", json::array({status_item(outbound_wamid, "delivered", ts + 3)})}};
    apply(messages_envelope("1001", value).dump());

    EXPECT_EQ(sql("SELECT items FROM wagate.webhook_deliveries"), "4");
    EXPECT_EQ(sql("SELECT failed_items FROM wagate.webhook_deliveries"), "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), "3");
    EXPECT_EQ(json::parse(inbound("contact::text", wamid("MIXA"))), sender(user(42), "Ann"))
        << "each message its sender";
    EXPECT_EQ(json::parse(inbound("contact::text", wamid("MIXB"))), sender(user(43), "Bea"));
    EXPECT_EQ(json::parse(inbound("content::text", wamid("MIXB"))), b_image);
    EXPECT_EQ(inbound("wa_id", wamid("MIXR")), user(42));
    if (json m = read(wamid("MIXA")); !m.is_null()) {
        EXPECT_EQ(m["contact"], sender(user(42), "Ann"));
    }
    if (json m = read(wamid("MIXB")); !m.is_null()) {
        EXPECT_EQ(m["contact"], sender(user(43), "Bea"));
        EXPECT_EQ(m["content"], b_image);
    }
    EXPECT_EQ(last_inbound(user(42)), std::to_string(ts)) << "the reaction does not move it";
    EXPECT_EQ(last_inbound(user(43)), std::to_string(ts + 1));
    EXPECT_EQ(sql("SELECT emoji FROM wagate.reactions WHERE message_id = " + q(outbound_wamid)),
              "👍");
    auto out = gateway_->client().get("/v1/messages/" + outbound_id, key_);
    ASSERT_EQ(out.status, 200) << out.body;
    EXPECT_EQ(json::parse(out.body)["status"], "delivered");
    EXPECT_EQ(send_text(user(42)).status, 200);
    EXPECT_EQ(send_text(user(43)).status, 200);
}

}  // namespace
}  // namespace wagate::test
