// Template definitions as an admin upserts them (PUT /admin/v1/templates/{waba}/{name}/{language}),
// in Meta's template-definition format, and the placeholder rules they rest on.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <string>
#include <vector>
#include <wagate/domain/templates.hpp>

#include "support/text_runs.hpp"

namespace {

using nlohmann::json;
using namespace wagate::domain;

using wagate::test::expand_runs;

// A one-line summary of what was parsed, so each valid case pins its interpretation.
std::string summary(const TemplateDefinition& d) {
    std::string s = std::string(to_string(d.category)) + " " + std::string(to_string(d.status)) +
                    " " + std::string(to_string(d.parameter_format));
    if (d.header) {
        s += " header=" + std::string(to_string(d.header->format));
        for (const auto& v : d.header->text.variables) {
            s += ":" + v;
        }
    }
    s += " body=" + std::to_string(d.body.variables.size());
    for (const auto& v : d.body.variables) {
        s += (v == d.body.variables.front() ? "(" : ",") + v;
    }
    s += d.body.variables.empty() ? "" : ")";
    s += d.footer ? " footer" : "";
    for (const auto& b : d.buttons) {
        s += " " + std::string(to_string(b.type)) + (b.url_has_variable ? "*" : "");
    }
    s += d.carousel_cards ? " cards=" + std::to_string(d.carousel_cards) : "";
    s += d.limited_time_offer ? " lto" : "";
    return s;
}

struct ValidCase {
    std::string label;
    std::string body;
    std::string expected;  // summary()
    std::string language = "en_US";
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.label; }

const std::vector<ValidCase> kValid = {
    {"marketing_image_header",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::aW1hZ2U="]}},
         {"type":"BODY","text":"Hi {{1}}, our summer sale ends on {{2}}!",
          "example":{"body_text":[["Pablo","May 1"]]}},
         {"type":"FOOTER","text":"Reply STOP to opt out"},
         {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"},
           {"type":"QUICK_REPLY","text":"Shop now"},
           {"type":"URL","text":"Visit","url":"https://www.luckyshrub.com/sale"}]}]})",
     "MARKETING APPROVED POSITIONAL header=IMAGE body=2(1,2) footer QUICK_REPLY QUICK_REPLY URL"},
    {"utility_text_header_url_variable",
     R"({"category":"UTILITY","status":"APPROVED","components":[
         {"type":"HEADER","format":"TEXT","text":"Order {{1}} shipped",
          "example":{"header_text":["#1234"]}},
         {"type":"BODY","text":"Hi {{1}}, {{2}} ships on {{3}}. Total {{2}}."},
         {"type":"BUTTONS","buttons":[
           {"type":"URL","text":"Track","url":"https://www.luckyshrub.com/track/{{1}}",
            "example":["https://www.luckyshrub.com/track/abc"]},
           {"type":"PHONE_NUMBER","text":"Call us","phone_number":"+15550783881"}]}]})",
     "UTILITY APPROVED POSITIONAL header=TEXT:1 body=3(1,2,3) URL* PHONE_NUMBER"},
    {"utility_named_declared",
     R"({"category":"UTILITY","status":"PENDING","parameter_format":"NAMED","components":[
         {"type":"HEADER","format":"TEXT","text":"Order {{order_id}} is ready",
          "example":{"header_text_named_params":[{"param_name":"order_id","example":"335628"}]}},
         {"type":"BODY","text":"Hi {{customer_name}}, pick up {{order_id}} at {{store}}.",
          "example":{"body_text_named_params":[{"param_name":"customer_name","example":"Jo"}]}}]})",
     "UTILITY PENDING NAMED header=TEXT:order_id body=3(customer_name,order_id,store)"},
    {"named_inferred_without_parameter_format",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"BODY","text":"Hello {{first_name}}, {{first_name}} again"}]})",
     "MARKETING APPROVED NAMED body=1(first_name)"},
    {"authentication_creation_format",
     R"({"category":"AUTHENTICATION","status":"APPROVED","components":[
         {"type":"BODY","add_security_recommendation":true},
         {"type":"FOOTER","code_expiration_minutes":10},
         {"type":"BUTTONS","buttons":[
           {"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}]}]})",
     "AUTHENTICATION APPROVED POSITIONAL body=1(1) footer OTP"},
    {"authentication_with_body_text",
     R"({"category":"AUTHENTICATION","status":"APPROVED","components":[
         {"type":"BODY","text":"*{{1}}* is your verification code."},
         {"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"one_tap","package_name":"com.app",
           "signature_hash":"K8a/AINcGX7"}]}]})",
     "AUTHENTICATION APPROVED POSITIONAL body=1(1) OTP"},
    {"video_header",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"HEADER","format":"VIDEO"},{"type":"BODY","text":"New arrivals"}]})",
     "MARKETING APPROVED POSITIONAL header=VIDEO body=0"},
    {"document_header",
     R"({"category":"UTILITY","status":"APPROVED","components":[
         {"type":"HEADER","format":"DOCUMENT"},{"type":"BODY","text":"Your invoice {{1}}"}]})",
     "UTILITY APPROVED POSITIONAL header=DOCUMENT body=1(1)"},
    {"location_header",
     R"({"category":"UTILITY","status":"APPROVED","components":[
         {"type":"HEADER","format":"LOCATION"},{"type":"BODY","text":"Your pickup point"}]})",
     "UTILITY APPROVED POSITIONAL header=LOCATION body=0"},
    {"product_header_lower_case_types",
     R"({"category":"marketing","status":"approved","components":[
         {"type":"header","format":"product"},{"type":"body","text":"Back in stock"},
         {"type":"buttons","buttons":[{"type":"url","text":"View","url":"https://x.example/"}]}]})",
     "MARKETING APPROVED POSITIONAL header=PRODUCT body=0 URL"},
    {"every_button_type",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"BODY","text":"Everything"},
         {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"A"},
           {"type":"QUICK_REPLY","text":"B"},{"type":"COPY_CODE","example":"SAVE25"},
           {"type":"FLOW","text":"Book","flow_id":"123","flow_action":"navigate"},
           {"type":"CATALOG","text":"View catalog"},{"type":"MPM","text":"View items"},
           {"type":"VOICE_CALL","text":"Call us"},{"type":"APP","text":"Open"},
           {"type":"REQUEST_CONTACT_INFO"},{"type":"ORDER_DETAILS","text":"Pay"}]}]})",
     "MARKETING APPROVED POSITIONAL body=0 QUICK_REPLY QUICK_REPLY COPY_CODE FLOW CATALOG MPM "
     "VOICE_CALL APP REQUEST_CONTACT_INFO ORDER_DETAILS"},
    {"quick_replies_grouped_at_the_end",
     R"({"category":"MARKETING","status":"APPROVED","components":[{"type":"BODY","text":"Hi"},
         {"type":"BUTTONS","buttons":[{"type":"URL","text":"Go","url":"https://a.example/"},
           {"type":"URL","text":"Go 2","url":"http://b.example/{{1}}"},
           {"type":"QUICK_REPLY","text":"Yes"},{"type":"QUICK_REPLY","text":"No"}]}]})",
     "MARKETING APPROVED POSITIONAL body=0 URL URL* QUICK_REPLY QUICK_REPLY"},
    {"carousel",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"BODY","text":"Summer picks for {{1}}"},
         {"type":"CAROUSEL","cards":[{"components":[{"type":"HEADER","format":"IMAGE"}]},
           {"components":[{"type":"HEADER","format":"IMAGE"}]}]}]})",
     "MARKETING APPROVED POSITIONAL body=1(1) cards=2"},
    {"limited_time_offer",
     R"({"category":"MARKETING","status":"APPROVED","components":[
         {"type":"LIMITED_TIME_OFFER",
          "limited_time_offer":{"text":"Expiring!","has_expiration":true}},
         {"type":"BODY","text":"Good deal, {{1}}"},
         {"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"SAVE"},
           {"type":"URL","text":"Book","url":"https://x.example/{{1}}"}]}]})",
     "MARKETING APPROVED POSITIONAL body=1(1) COPY_CODE URL* lto"},
    {"meta_get_response_shape",
     R"({"name":"order_update","language":"pt_BR","status":"PAUSED","category":"UTILITY",
         "id":"1146563219818224","quality_score":{"score":"RED"},"sub_category":"ORDER_STATUS",
         "parameter_format":"POSITIONAL","components":[{"type":"BODY","text":"Olá {{1}}"}]})",
     "UTILITY PAUSED POSITIONAL body=1(1)", "pt_BR"},
    {"limits_exactly",
     R"({"category":"UTILITY","status":"APPROVED","components":[
         {"type":"HEADER","format":"TEXT","text":"@h55@{{1}}"},
         {"type":"BODY","text":"@b1024@"},{"type":"FOOTER","text":"ééé@f57@"},
         {"type":"BUTTONS","buttons":[{"type":"PHONE_NUMBER","text":"@t25@",
           "phone_number":"+1234567890123456789"},
           {"type":"URL","text":"u","url":"https://@u1987@{{1}}"}]}]})",
     "UTILITY APPROVED POSITIONAL header=TEXT:1 body=0 footer PHONE_NUMBER URL*"},
    {"ten_quick_replies",
     R"({"category":"MARKETING","status":"REJECTED","components":[{"type":"BODY","text":"x"},
         {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"1"},
         {"type":"QUICK_REPLY","text":"2"},{"type":"QUICK_REPLY","text":"3"},
         {"type":"QUICK_REPLY","text":"4"},{"type":"QUICK_REPLY","text":"5"},
         {"type":"QUICK_REPLY","text":"6"},{"type":"QUICK_REPLY","text":"7"},
         {"type":"QUICK_REPLY","text":"8"},{"type":"QUICK_REPLY","text":"9"},
         {"type":"QUICK_REPLY","text":"10"}]}]})",
     "MARKETING REJECTED POSITIONAL body=0 QUICK_REPLY QUICK_REPLY QUICK_REPLY QUICK_REPLY "
     "QUICK_REPLY QUICK_REPLY QUICK_REPLY QUICK_REPLY QUICK_REPLY QUICK_REPLY"},
};

class ValidDefinition : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidDefinition, ParsesAsExpected) {
    const ValidCase& c = GetParam();
    auto def = parse_template_definition("order_update", c.language, expand_runs(c.body));
    ASSERT_TRUE(def) << def.error().details;
    EXPECT_EQ(summary(*def), c.expected);
    // The normalised JSON parses back to the same definition.
    auto again = parse_template_definition("order_update", c.language, def->json);
    ASSERT_TRUE(again) << again.error().details;
    EXPECT_EQ(again->json, def->json);
    EXPECT_EQ(summary(*again), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Templates,
                         ValidDefinition,
                         ::testing::ValuesIn(kValid),
                         [](const auto& p) { return p.param.label; });

TEST(TemplateDefinition, NormalisesEnumsAndRecordsTheFormat) {
    auto def = parse_template_definition("product_drop", "en", R"({"category":"marketing",
        "status":"approved","components":[{"type":"header","format":"video"},
        {"type":"body","text":"New"},
        {"type":"buttons","buttons":[{"type":"quick_reply","text":"Hi"}]}]})");
    ASSERT_TRUE(def) << def.error().details;
    const json stored = json::parse(def->json);
    EXPECT_EQ(stored["category"], "MARKETING");
    EXPECT_EQ(stored["status"], "APPROVED");
    EXPECT_EQ(stored["parameter_format"], "POSITIONAL");
    EXPECT_EQ(stored["components"][0]["type"], "HEADER");
    EXPECT_EQ(stored["components"][0]["format"], "VIDEO");
    EXPECT_EQ(stored["components"][2]["buttons"][0]["type"], "QUICK_REPLY");
    EXPECT_EQ(def->name, "product_drop");
    EXPECT_EQ(def->language, "en");
    EXPECT_FALSE(def->body_only());
}

TEST(TemplateDefinition, KeepsButtonDetails) {
    auto def = parse_template_definition("track", "en_GB", R"({"category":"UTILITY",
        "status":"APPROVED","components":[{"type":"BODY","text":"Hi"},{"type":"BUTTONS","buttons":[
        {"type":"URL","text":"Track","url":"https://x.example/t/{{1}}"},
        {"type":"PHONE_NUMBER","text":"Call","phone_number":"+15550001111"}]}]})");
    ASSERT_TRUE(def) << def.error().details;
    ASSERT_EQ(def->buttons.size(), 2u);
    EXPECT_EQ(def->buttons[0].url, "https://x.example/t/{{1}}");
    EXPECT_TRUE(def->buttons[0].url_has_variable);
    EXPECT_EQ(def->buttons[0].text, "Track");
    EXPECT_EQ(def->buttons[1].phone_number, "+15550001111");
    EXPECT_EQ(def->body.text, "Hi");
}

struct InvalidCase {
    std::string label;
    std::string body;
    int code;
    std::string details;  // expected prefix of error_data.details
    std::string name = "order_update";
    std::string language = "en_US";
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.label; }

// Wraps one component list in an otherwise valid UTILITY definition.
std::string utility(const std::string& components) {
    return R"({"category":"UTILITY","status":"APPROVED","components":[)" + components + "]}";
}
std::string with_buttons(const std::string& buttons) {
    return utility(R"({"type":"BODY","text":"Hi"},{"type":"BUTTONS","buttons":[)" + buttons + "]}");
}
const std::string kBody = R"({"type":"BODY","text":"Hi {{1}}"})";
const std::string kQuick = R"({"type":"QUICK_REPLY","text":"Ok"})";
const std::string kUrl = R"({"type":"URL","text":"Go","url":"https://x.example/{{1}}"})";
const std::string kPhone = R"({"type":"PHONE_NUMBER","text":"Call","phone_number":"+1555"})";

const std::vector<InvalidCase> kInvalid = {
    // Identity, from the URL.
    {"name_upper_case", utility(kBody), 131009, "name: 1 to 512 lowercase", "Order_update"},
    {"name_dash", utility(kBody), 131009, "name: ", "order-update"},
    {"name_empty", utility(kBody), 131009, "name: ", ""},
    {"name_513", utility(kBody), 131009, "name: ", std::string(513, 'a')},
    {"language_unknown", utility(kBody), 131009, "language: unsupported language code \"en-US\"",
     "order_update", "en-US"},
    {"name_in_body_differs", R"({"name":"other","category":"UTILITY","status":"APPROVED",
        "components":[{"type":"BODY","text":"x"}]})",
     131009, "name: \"other\" differs"},
    // Document level.
    {"not_json", "{", 100, "body: must be a JSON object"},
    {"array", "[]", 100, "body: must be a JSON object"},
    {"unknown_key", R"({"category":"UTILITY","status":"APPROVED","namespace":"x",
        "components":[]})",
     100, "namespace: unexpected key"},
    {"category_missing", R"({"status":"APPROVED","components":[]})", 131008, "category: required"},
    {"category_unknown", R"({"category":"PROMOTIONAL","status":"APPROVED","components":[]})", 100,
     "category: unsupported value \"PROMOTIONAL\""},
    {"status_missing", R"({"category":"UTILITY","components":[]})", 131008, "status: required"},
    {"status_unknown", R"({"category":"UTILITY","status":"LIVE","components":[]})", 100,
     "status: unsupported value \"LIVE\""},
    {"parameter_format_unknown", R"({"category":"UTILITY","status":"APPROVED",
        "parameter_format":"MIXED","components":[]})",
     100, "parameter_format: unsupported value"},
    {"components_missing", R"({"category":"UTILITY","status":"APPROVED"})", 131008,
     "components: required"},
    {"components_empty", utility(""), 131009, "components: a template has a BODY component"},
    {"component_type_unknown", utility(R"({"type":"SIGNATURE","text":"x"})"), 100,
     "components[0].type: unsupported value \"SIGNATURE\""},
    {"component_unknown_key", utility(R"({"type":"BODY","text":"x","format":"TEXT"})"), 100,
     "components[0].format: unexpected key"},
    {"body_missing", utility(R"({"type":"FOOTER","text":"x"})"), 131008,
     "components: a BODY component: required"},
    {"body_twice", utility(kBody + "," + kBody), 131009, "components[1].type: at most 1 BODY"},
    {"header_twice",
     utility(R"({"type":"HEADER","format":"IMAGE"},{"type":"HEADER",
        "format":"VIDEO"},)" +
             kBody),
     131009, "components[1].type: at most 1 HEADER"},
    // HEADER.
    {"header_format_missing", utility(R"({"type":"HEADER","text":"x"},)" + kBody), 131008,
     "components[0].format: required"},
    {"header_format_unknown", utility(R"({"type":"HEADER","format":"AUDIO"},)" + kBody), 100,
     "components[0].format: unsupported value \"AUDIO\""},
    {"header_text_missing", utility(R"({"type":"HEADER","format":"TEXT"},)" + kBody), 131008,
     "components[0].text: required"},
    {"header_text_61", utility(R"({"type":"HEADER","format":"TEXT","text":"@x61@"},)" + kBody),
     131009, "components[0].text: at most 60 characters"},
    {"header_two_variables",
     utility(R"({"type":"HEADER","format":"TEXT","text":"{{1}} {{2}}"},)" + kBody), 131009,
     "components[0].text: a header has at most 1 variable"},
    {"media_header_with_text",
     utility(R"({"type":"HEADER","format":"IMAGE","text":"Hello"},)" + kBody), 131009,
     "components[0].text: only a TEXT header has text"},
    {"location_header_in_authentication", R"({"category":"AUTHENTICATION","status":"APPROVED",
        "components":[{"type":"HEADER","format":"LOCATION"},{"type":"BODY"}]})",
     131009, "components[0].format: LOCATION headers are for MARKETING and UTILITY"},
    // BODY and placeholders.
    {"body_text_missing", utility(R"({"type":"BODY"})"), 131008, "components[0].text: required"},
    {"body_1025", utility(R"({"type":"BODY","text":"@x1025@"})"), 131009,
     "components[0].text: at most 1024 characters"},
    {"body_1025_multibyte", utility(R"({"type":"BODY","text":"é@x1024@"})"), 131009,
     "components[0].text: at most 1024 characters"},
    {"positional_gap", utility(R"({"type":"BODY","text":"{{1}} and {{3}}"})"), 131009,
     "components[0].text: {{3}} where {{2}} was expected"},
    {"positional_out_of_order", utility(R"({"type":"BODY","text":"{{2}} then {{1}}"})"), 131009,
     "components[0].text: {{2}} where {{1}} was expected"},
    {"positional_zero", utility(R"({"type":"BODY","text":"{{0}}"})"), 131009,
     "components[0].text: {{0}} is not a placeholder"},
    {"positional_leading_zero", utility(R"({"type":"BODY","text":"{{01}}"})"), 131009,
     "components[0].text: {{01}} is not a placeholder"},
    {"placeholder_spaces", utility(R"({"type":"BODY","text":"{{ 1 }}"})"), 131009,
     "components[0].text: {{ 1 }} is not a placeholder"},
    {"placeholder_empty", utility(R"({"type":"BODY","text":"{{}}"})"), 131009,
     "components[0].text: {{}} is not a placeholder"},
    {"placeholder_upper_case", utility(R"({"type":"BODY","text":"Hi {{First_Name}}"})"), 131009,
     "components[0].text: {{First_Name}} is not a placeholder"},
    {"placeholder_unclosed", utility(R"({"type":"BODY","text":"Hi {{1"})"), 131009,
     "components[0].text: unclosed \"{{\""},
    {"named_over_20", utility(R"({"type":"BODY","text":"{{@n21@}}"})"), 131009,
     "components[0].text: {{" + std::string(21, 'n') + "}}: placeholder names are at most 20"},
    {"mixed_in_one_text", utility(R"({"type":"BODY","text":"{{1}} {{name}}"})"), 131009,
     "components[0].text: named and positional placeholders cannot be mixed"},
    {"mixed_header_named_body_positional",
     utility(R"({"type":"HEADER","format":"TEXT","text":"Hi {{name}}"},)" + kBody), 131009,
     "components: POSITIONAL placeholders in a NAMED template"},
    {"declared_named_but_positional", R"({"category":"UTILITY","status":"APPROVED",
        "parameter_format":"NAMED","components":[{"type":"BODY","text":"Hi {{1}}"}]})",
     131009, "components: POSITIONAL placeholders in a NAMED template"},
    {"declared_positional_but_named", R"({"category":"UTILITY","status":"APPROVED",
        "parameter_format":"POSITIONAL","components":[{"type":"BODY","text":"Hi {{who}}"}]})",
     131009, "components: NAMED placeholders in a POSITIONAL template"},
    // FOOTER.
    {"footer_61", utility(kBody + R"(,{"type":"FOOTER","text":"@x61@"})"), 131009,
     "components[1].text: at most 60 characters"},
    {"footer_variable", utility(kBody + R"(,{"type":"FOOTER","text":"Ref {{1}}"})"), 131009,
     "components[1].text: a footer cannot have variables"},
    {"footer_text_missing", utility(kBody + R"(,{"type":"FOOTER"})"), 131008,
     "components[1].text: required"},
    {"footer_expiry_91", R"({"category":"AUTHENTICATION","status":"APPROVED","components":[
        {"type":"BODY"},{"type":"FOOTER","code_expiration_minutes":91}]})",
     131009, "components[1].code_expiration_minutes: must be between 1 and 90"},
    // BUTTONS.
    {"buttons_empty", with_buttons(""), 131009, "components[1].buttons: at least 1 button"},
    {"buttons_11",
     with_buttons(kQuick + "," + kQuick + "," + kQuick + "," + kQuick + "," + kQuick + "," +
                  kQuick + "," + kQuick + "," + kQuick + "," + kQuick + "," + kQuick + "," +
                  kQuick),
     131009, "components[1].buttons[10]: at most 10 buttons"},
    {"button_type_unknown", with_buttons(R"({"type":"SPM","text":"x"})"), 100,
     "components[1].buttons[0].type: unsupported value \"SPM\""},
    {"button_type_unknown_lower_case",
     with_buttons(R"({"type":"spm_is_not_checked_here","text":"x"})"), 100,
     "components[1].buttons[0].type: unsupported value"},
    {"button_text_26", with_buttons(R"({"type":"QUICK_REPLY","text":"@x26@"})"), 131009,
     "components[1].buttons[0].text: at most 25 characters"},
    {"quick_reply_text_missing", with_buttons(R"({"type":"QUICK_REPLY"})"), 131008,
     "components[1].buttons[0].text: required"},
    {"url_missing", with_buttons(R"({"type":"URL","text":"Go"})"), 131008,
     "components[1].buttons[0].url: required"},
    {"url_2001", with_buttons(R"({"type":"URL","text":"Go","url":"https://@x1993@"})"), 131009,
     "components[1].buttons[0].url: at most 2000 characters"},
    {"url_not_http", with_buttons(R"({"type":"URL","text":"Go","url":"ftp://x.example/"})"), 131009,
     "components[1].buttons[0].url: must be an http:// or https:// URL"},
    {"url_variable_in_the_middle",
     with_buttons(R"({"type":"URL","text":"Go","url":"https://x.example/{{1}}/track"})"), 131009,
     "components[1].buttons[0].url: at most 1 variable, at the end of the URL"},
    {"url_two_variables",
     with_buttons(R"({"type":"URL","text":"Go","url":"https://x.example/{{1}}/{{2}}"})"), 131009,
     "components[1].buttons[0].url: at most 1 variable, at the end"},
    {"url_variable_twice",
     with_buttons(R"({"type":"URL","text":"Go","url":"https://x.example/{{1}}?a={{1}}"})"), 131009,
     "components[1].buttons[0].url: at most 1 variable, at the end"},
    {"phone_21", with_buttons(R"({"type":"PHONE_NUMBER","text":"Call","phone_number":"@x21@"})"),
     131009, "components[1].buttons[0].phone_number: at most 20 characters"},
    {"phone_missing", with_buttons(R"({"type":"PHONE_NUMBER","text":"Call"})"), 131008,
     "components[1].buttons[0].phone_number: required"},
    {"three_url_buttons", with_buttons(kUrl + "," + kUrl + "," + kUrl), 131009,
     "components[1].buttons[2].type: at most 2 URL buttons"},
    {"two_phone_buttons", with_buttons(kPhone + "," + kPhone), 131009,
     "components[1].buttons[1].type: at most 1 PHONE_NUMBER button"},
    {"two_copy_code_buttons", with_buttons(R"({"type":"COPY_CODE"},{"type":"COPY_CODE"})"), 131009,
     "components[1].buttons[1].type: at most 1 COPY_CODE button"},
    {"quick_replies_interleaved", with_buttons(kQuick + "," + kUrl + "," + kQuick), 131009,
     "components[1].buttons[2].type: quick replies must be grouped together"},
    {"otp_outside_authentication", with_buttons(R"({"type":"OTP","otp_type":"COPY_CODE"})"), 131009,
     "components[1].buttons[0].type: OTP buttons are for AUTHENTICATION templates"},
    {"two_otp_buttons", R"({"category":"AUTHENTICATION","status":"APPROVED","components":[
        {"type":"BODY"},{"type":"BUTTONS","buttons":[{"type":"OTP"},{"type":"OTP"}]}]})",
     131009, "components[1].buttons[1].type: at most 1 OTP button"},
    // CAROUSEL.
    {"carousel_no_cards", utility(kBody + R"(,{"type":"CAROUSEL","cards":[]})"), 131009,
     "components[1].cards: 1 to 10 cards"},
};

class InvalidDefinition : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidDefinition, IsRejectedWithThePath) {
    const InvalidCase& c = GetParam();
    auto def = parse_template_definition(c.name, c.language, expand_runs(c.body));
    ASSERT_FALSE(def) << "accepted: " << summary(*def);
    EXPECT_EQ(def.error().code, c.code) << def.error().details;
    EXPECT_EQ(def.error().http_status, 400);
    EXPECT_EQ(def.error().details.substr(0, c.details.size()), c.details);
}

INSTANTIATE_TEST_SUITE_P(Templates,
                         InvalidDefinition,
                         ::testing::ValuesIn(kInvalid),
                         [](const auto& p) { return p.param.label; });

TEST(TemplateText, ParsesPositionalAndNamedPlaceholders) {
    struct Case {
        std::string text;
        std::vector<std::string> variables;
        bool named;
    };
    const std::vector<Case> cases = {
        {"no placeholders at all", {}, false},
        {"{{1}}", {"1"}, false},
        {"{{1}}{{2}} {{1}} {{3}}", {"1", "2", "3"}, false},
        {"Hi {{first_name}}, order {{order_2}} for {{first_name}}",
         {"first_name", "order_2"},
         true},
        {"} }} single { braces { are text }", {}, false},
        {"Olá {{1}} — ✓", {"1"}, false},
    };
    for (const auto& c : cases) {
        auto parsed = parse_template_text(c.text, "t");
        ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().details;
        EXPECT_EQ(parsed->variables, c.variables) << c.text;
        EXPECT_EQ(parsed->named, c.named) << c.text;
        EXPECT_EQ(parsed->text, c.text);
    }
}

TEST(TemplateText, HydratedLengthCountsCodePoints) {
    auto parsed = parse_template_text("Olá {{1}}, {{2}} and {{1}} again", "t");
    ASSERT_TRUE(parsed);
    // "Olá " 4 + ", " 2 + " and " 5 + " again" 6 = 17 fixed code points.
    EXPECT_EQ(hydrated_length(*parsed, {{"1", "ééé"}, {"2", "x"}}), 17u + 3 + 1 + 3);
    // A variable without a value keeps its placeholder.
    EXPECT_EQ(hydrated_length(*parsed, {{"1", ""}}), 17u + 5);
}

TEST(TemplateVocabulary, StatusNamesRoundTrip) {
    const std::vector<std::string> names = {
        "APPROVED", "PENDING",          "REJECTED",       "PAUSED", "DISABLED",
        "FLAGGED",  "IN_APPEAL",        "LIMIT_EXCEEDED", "LOCKED", "ARCHIVED",
        "DELETED",  "PENDING_DELETION", "REINSTATED"};
    for (const auto& name : names) {
        const auto status = parse_template_status(name);
        ASSERT_TRUE(status) << name;
        EXPECT_EQ(to_string(*status), name);
    }
    EXPECT_EQ(parse_template_status("paused"), TemplateStatus::kPaused);
    EXPECT_FALSE(parse_template_status("LIVE"));
    EXPECT_FALSE(parse_template_status(""));
}

TEST(TemplateErrors, CarryMetasCodes) {
    const ApiError missing = template_errors::not_found("template.name: x");
    EXPECT_EQ(missing.http_status, 404);
    EXPECT_EQ(missing.code, 132001);
    EXPECT_EQ(missing.title, "Template does not exist");
    EXPECT_EQ(template_errors::paused("x").code, 132015);
    EXPECT_EQ(template_errors::paused("x").title, "Template is paused");
    EXPECT_EQ(template_errors::disabled("x").code, 132016);
    EXPECT_EQ(template_errors::disabled("x").http_status, 400);
}

}  // namespace
