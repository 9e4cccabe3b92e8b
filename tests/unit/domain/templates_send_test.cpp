// Template sends checked against stored definitions (policy §5, reference §10).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <string>
#include <vector>
#include <wagate/domain/send_request.hpp>
#include <wagate/domain/templates.hpp>

#include "support/text_runs.hpp"

namespace {

using nlohmann::json;
using namespace wagate::domain;

using wagate::test::expand_runs;

// The stored definitions the sends are checked against, in Meta's format.
const std::map<std::string, std::string> kDefinitions = {
    // Image header, positional body, footer; buttons 0 quick reply, 1 URL with a variable
    // ("https://www.luckyshrub.com/track/" is 33 characters), 2 static URL, 3 phone.
    {"order_confirmation", R"({"category":"UTILITY","status":"APPROVED","components":[
        {"type":"HEADER","format":"IMAGE"},
        {"type":"BODY","text":"Hi {{1}}, we received {{2}} on {{3}}."},
        {"type":"FOOTER","text":"Lucky Shrub"},
        {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Cancel order"},
          {"type":"URL","text":"Track","url":"https://www.luckyshrub.com/track/{{1}}"},
          {"type":"URL","text":"Help","url":"https://www.luckyshrub.com/help"},
          {"type":"PHONE_NUMBER","text":"Call us","phone_number":"+15550783881"}]}]})"},
    {"order_pickup", R"({"category":"UTILITY","status":"APPROVED","parameter_format":"NAMED",
        "components":[{"type":"HEADER","format":"TEXT","text":"Order {{order_id}} is ready"},
        {"type":"BODY","text":"Hi {{customer_name}}, pick up {{order_id}} at {{store}}."}]})"},
    {"welcome", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"HEADER","format":"TEXT","text":"Welcome!"},{"type":"BODY","text":"Hi {{1}}"}]})"},
    {"promo_code", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"BODY","text":"Use code {{1}} today"},
        {"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"SAVE25"},
          {"type":"QUICK_REPLY","text":"Stop promotions"}]}]})"},
    {"shop_now", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"BODY","text":"Browse our catalog"},
        {"type":"BUTTONS","buttons":[{"type":"CATALOG","text":"View catalog"},
          {"type":"VOICE_CALL","text":"Call us"},{"type":"FLOW","text":"Book"},
          {"type":"MPM","text":"View items"}]}]})"},
    {"verify_code", R"({"category":"AUTHENTICATION","status":"APPROVED","components":[
        {"type":"BODY","add_security_recommendation":true},
        {"type":"FOOTER","code_expiration_minutes":10},
        {"type":"BUTTONS","buttons":[
          {"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}]}]})"},
    {"payment_request", R"({"category":"UTILITY","status":"APPROVED","components":[
        {"type":"BODY","text":"Your order {{1}} is ready to pay"},
        {"type":"BUTTONS","buttons":[{"type":"ORDER_DETAILS","text":"Review and pay"}]}]})"},
    {"note", R"({"category":"UTILITY","status":"APPROVED","components":[
        {"type":"BODY","text":"Note: {{1}}"}]})"},
    {"note_footer", R"({"category":"UTILITY","status":"APPROVED","components":[
        {"type":"BODY","text":"Note: {{1}}"},{"type":"FOOTER","text":"Lucky Shrub"}]})"},
    {"pickup_point", R"({"category":"UTILITY","status":"APPROVED","components":[
        {"type":"HEADER","format":"LOCATION"},{"type":"BODY","text":"Your pickup point"}]})"},
    {"summer_carousel", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"BODY","text":"Summer picks for {{1}}"},
        {"type":"CAROUSEL","cards":[{"components":[{"type":"HEADER","format":"IMAGE"}]},
          {"components":[{"type":"HEADER","format":"IMAGE"}]}]}]})"},
    {"flash_sale", R"({"category":"MARKETING","status":"APPROVED","components":[
        {"type":"LIMITED_TIME_OFFER",
         "limited_time_offer":{"text":"Ends soon","has_expiration":true}},
        {"type":"BODY","text":"Sale for {{1}}"}]})"},
};

TemplateDefinition definition(const std::string& name) {
    auto def = parse_template_definition(name, "en_US", kDefinitions.at(name));
    if (!def) {
        ADD_FAILURE() << name << ": " << def.error().details;
        return {};
    }
    return *def;
}

struct SendCase {
    std::string label;
    std::string definition;
    std::string components;  // the send's template.components
    int code = 0;            // 0: accepted
    std::string details;     // expected prefix of error_data.details
};

void PrintTo(const SendCase& c, std::ostream* os) { *os << c.label; }

// Components of a valid order_confirmation send, to vary one at a time.
const std::string kImage =
    R"({"type":"header","parameters":[
        {"type":"image","image":{"link":"https://x.example/a.png"}}]})";
const std::string kBody3 = R"({"type":"body","parameters":[{"type":"text","text":"Pablo"},
    {"type":"currency","currency":{"fallback_value":"$100.99","code":"USD","amount_1000":100990}},
    {"type":"date_time","date_time":{"fallback_value":"February 25, 1977"}}]})";
const std::string kTrack =
    R"({"type":"button","sub_type":"url","index":1,"parameters":[{"type":"text","text":"abc"}]})";
const std::string kCoupon = R"({"type":"button","sub_type":"copy_code","index":0,
    "parameters":[{"type":"coupon_code","coupon_code":"SAVE25"}]})";
const std::string kMpm = R"({"type":"button","sub_type":"mpm","index":3,"parameters":[
    {"type":"action","action":{"thumbnail_product_retailer_id":"sku-1","sections":[]}}]})";
const std::string kPickupHeader =
    R"({"type":"header","parameters":[
        {"type":"text","parameter_name":"order_id","text":"335628"}]})";

std::string order(const std::string& more) { return kImage + "," + kBody3 + "," + kTrack + more; }
std::string body(const std::string& texts) {
    return R"({"type":"body","parameters":[)" + texts + "]}";
}
std::string text(const std::string& value) { return R"({"type":"text","text":")" + value + "\"}"; }
std::string named(const std::string& name, const std::string& value) {
    return R"({"type":"text","parameter_name":")" + name + R"(","text":")" + value + "\"}";
}

const std::vector<SendCase> kSends = {
    // Accepted.
    {"order_ok", "order_confirmation", order(""), 0, ""},
    {"order_ok_with_quick_reply", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"quick_reply","index":0,
         "parameters":[{"type":"payload","payload":"CANCEL-1234"}]})"),
     0, ""},
    {"url_filled_in_at_2000", "order_confirmation",
     kImage + "," + kBody3 + R"(,{"type":"button","sub_type":"url","index":1,
         "parameters":[{"type":"text","text":"@x1967@"}]})",
     0, ""},
    {"named_any_order", "order_pickup",
     kPickupHeader + "," +
         body(named("store", "Main St") + "," + named("order_id", "335628") + "," +
              named("customer_name", "Jessica")),
     0, ""},
    {"text_header_without_variable_takes_nothing", "welcome", body(text("Ana")), 0, ""},
    {"copy_code_ok", "promo_code", body(text("SAVE25")) + "," + kCoupon, 0, ""},
    {"voice_call_without_index", "shop_now",
     kMpm + R"(,{"type":"button","sub_type":"voice_call","parameters":[
         {"type":"ttl_minutes","ttl_minutes":100}]})",
     0, ""},
    {"catalog_and_flow", "shop_now",
     kMpm + R"(,{"type":"button","sub_type":"catalog","index":0,"parameters":[{"type":"action",
         "action":{"thumbnail_product_retailer_id":"sku-1"}}]},{"type":"button","sub_type":"flow",
         "index":2,"parameters":[{"type":"action","action":{"flow_token":"t"}}]})",
     0, ""},
    {"authentication_ok", "verify_code",
     body(text("J$FpnYnP")) + R"(,{"type":"button","sub_type":"url","index":0,
         "parameters":[{"type":"text","text":"J$FpnYnP"}]})",
     0, ""},
    {"order_details_ok", "payment_request",
     body(text("#1234")) + R"(,{"type":"button","sub_type":"order_details","index":0,
         "parameters":[{"type":"action","action":{"order_details":{"reference_id":"r1"}}}]})",
     0, ""},
    {"location_header_ok", "pickup_point", R"({"type":"header","parameters":[{"type":"location",
         "location":{"latitude":"37.48","longitude":"-122.14","name":"Shop",
         "address":"1 Hacker Way"}}]})",
     0, ""},
    {"body_only_param_1025_ok", "note", body(text("@x1025@")), 0, ""},
    {"body_only_filled_in_32768_ok", "note", body(text("@x32762@")), 0, ""},
    {"carousel_ok", "summer_carousel",
     body(text("Ana")) + R"(,{"type":"carousel","cards":[{"card_index":0,"components":[]},
         {"card_index":1,"components":[]}]})",
     0, ""},
    {"limited_time_offer_ok", "flash_sale",
     R"({"type":"limited_time_offer","parameters":[{"type":"limited_time_offer",
         "limited_time_offer":{"expiration_time_ms":1209600000}}]},)" +
         body(text("Ana")),
     0, ""},

    // Header.
    {"header_missing", "order_confirmation", kBody3 + "," + kTrack, 132000,
     "template.components: expected a header component with 1 parameter, got none"},
    {"no_components_at_all", "order_confirmation", "", 132000,
     "template.components: expected a header component"},
    {"header_wrong_media_kind", "order_confirmation",
     R"({"type":"header","parameters":[{"type":"video","video":{"id":"1"}}]},)" + kBody3 + "," +
         kTrack,
     132012, "template.components[0].parameters[0].type: the template's header is IMAGE"},
    {"header_media_for_text_header", "order_pickup",
     kImage + "," +
         body(named("store", "a") + "," + named("order_id", "b") + "," +
              named("customer_name", "c")),
     132012, "template.components[0].parameters[0].type: the template's header is TEXT"},
    {"header_text_for_location", "pickup_point",
     R"({"type":"header","parameters":[{"type":"text","text":"x"}]})", 132012,
     "template.components[0].parameters[0].type: the template's header is LOCATION"},
    {"header_extra_parameter", "order_pickup",
     R"({"type":"header","parameters":[)" + named("order_id", "1") + "," + named("store", "2") +
         "]}",
     132000, "template.components[0].parameters: expected 1 parameter, got 2"},
    {"header_given_but_template_has_none", "note",
     R"({"type":"header","parameters":[{"type":"text","text":"x"}]},)" + body(text("a")), 132000,
     "template.components[0].parameters: expected 0 parameters, got 1 (the template has no "
     "header)"},
    {"header_given_but_no_variable", "welcome",
     R"({"type":"header","parameters":[{"type":"text","text":"x"}]},)" + body(text("a")), 132000,
     "template.components[0].parameters: expected 0 parameters, got 1 (the template's header has "
     "no variable)"},
    {"header_named_wrong_name", "order_pickup",
     R"({"type":"header","parameters":[)" + named("order", "1") + "]}", 132012,
     "template.components[0].parameters[0].parameter_name: the template has no parameter "
     "\"order\""},

    // Body counts and formats.
    {"body_too_few", "order_confirmation",
     kImage + "," + body(text("a") + "," + text("b")) + "," + kTrack, 132000,
     "template.components[1].parameters: expected 3 parameters, got 2"},
    {"body_too_many", "order_confirmation",
     kImage + "," + body(text("a") + "," + text("b") + "," + text("c") + "," + text("d")) + "," +
         kTrack,
     132000, "template.components[1].parameters: expected 3 parameters, got 4"},
    {"body_missing", "order_confirmation", kImage + "," + kTrack, 132000,
     "template.components: expected a body component with 3 parameters, got none"},
    {"body_given_but_no_variables", "pickup_point",
     R"({"type":"header","parameters":[{"type":"location","location":{"latitude":"1",
         "longitude":"2"}}]},)" +
         body(text("x")),
     132000, "template.components[1].parameters: expected 0 parameters, got 1"},
    {"named_parameters_on_positional", "order_confirmation",
     kImage + "," + body(named("a", "1") + "," + named("b", "2") + "," + named("c", "3")) + "," +
         kTrack,
     132012, "template.components[1].parameters[0].parameter_name: the template uses positional"},
    {"positional_parameters_on_named", "order_pickup",
     kPickupHeader + "," + body(text("a") + "," + text("b") + "," + text("c")), 132012,
     "template.components[1].parameters[0].parameter_name: required, the template uses named"},
    {"named_one_missing_name", "order_pickup",
     kPickupHeader + "," +
         body(named("store", "a") + "," + text("b") + "," + named("customer_name", "c")),
     132012, "template.components[1].parameters[1].parameter_name: required"},
    {"named_unknown_name", "order_pickup",
     kPickupHeader + "," +
         body(named("store", "a") + "," + named("order_id", "b") + "," + named("first_name", "c")),
     132012,
     "template.components[1].parameters[2].parameter_name: the template has no parameter "
     "\"first_name\""},
    {"named_duplicate", "order_pickup",
     kPickupHeader + "," +
         body(named("store", "a") + "," + named("order_id", "b") + "," + named("store", "c")),
     132012, "template.components[1].parameters[2].parameter_name: duplicate \"store\""},
    {"named_count_mismatch", "order_pickup",
     kPickupHeader + "," + body(named("store", "a") + "," + named("order_id", "b")), 132000,
     "template.components[1].parameters: expected 3 parameters, got 2"},

    // The 1024 rule and the filled-in body.
    {"body_param_1025_with_other_components", "order_confirmation",
     kImage + "," + body(text("@x1025@") + "," + text("b") + "," + text("c")) + "," + kTrack,
     131009,
     "template.components[1].parameters[0].text: at most 1024 characters when the "
     "template has components other than the body"},
    {"body_param_1025_footer_counts_as_other", "note_footer", body(text("@x1025@")), 131009,
     "template.components[0].parameters[0].text: at most 1024 characters"},
    {"body_param_1024_with_footer_fills_in_over_1024", "note_footer", body(text("@x1024@")), 132005,
     "template.components[0].parameters: the body filled in is 1030 characters, at most 1024"},
    {"body_filled_in_over_1024", "order_confirmation",
     kImage + "," + body(text("@x400@") + "," + text("@y400@") + "," + text("@z206@")) + "," +
         kTrack,
     132005,
     "template.components[1].parameters: the body filled in is 1028 characters, at most "
     "1024"},
    {"body_only_filled_in_over_32768", "note", body(text("@x32763@")), 132005,
     "template.components[0].parameters: the body filled in is 32769 characters, at most 32768"},

    // Buttons.
    {"button_index_out_of_range", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"quick_reply","index":7,"parameters":[
         {"type":"payload","payload":"x"}]})"),
     131009, "template.components[3].index: the template has no button 7 (it has 4 buttons)"},
    {"button_on_template_without_buttons", "note",
     body(text("a")) + R"(,{"type":"button","sub_type":"quick_reply","index":0,"parameters":[
         {"type":"payload","payload":"x"}]})",
     131009, "template.components[1].index: the template has no button 0 (it has 0 buttons)"},
    {"button_wrong_sub_type", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"url","index":0,"parameters":[
         {"type":"text","text":"x"}]})"),
     132012,
     "template.components[3].sub_type: button 0 is QUICK_REPLY, so the sub_type is "
     "quick_reply"},
    {"button_phone_takes_nothing", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"quick_reply","index":3,"parameters":[
         {"type":"payload","payload":"x"}]})"),
     132012,
     "template.components[3].sub_type: button 3 is PHONE_NUMBER, which takes no "
     "parameters"},
    {"catalog_sub_type_for_mpm_button", "shop_now",
     R"({"type":"button","sub_type":"catalog","index":3,"parameters":[{"type":"action",
         "action":{}}]})",
     132012, "template.components[0].sub_type: button 3 is MPM, so the sub_type is mpm"},
    {"static_url_with_parameter", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"url","index":2,"parameters":[
         {"type":"text","text":"x"}]})"),
     132000,
     "template.components[3].parameters: expected 0 parameters, got 1 (the button's URL "
     "has no variable)"},
    {"url_filled_in_over_2000", "order_confirmation",
     kImage + "," + kBody3 + R"(,{"type":"button","sub_type":"url","index":1,
         "parameters":[{"type":"text","text":"@x1968@"}]})",
     131009, "template.components[2].parameters[0].text: the URL filled in is 2001 characters"},
    {"url_button_missing", "order_confirmation", kImage + "," + kBody3, 132000,
     "template.components: expected a button component with sub_type url and index 1 (URL "
     "button), got none"},
    {"copy_code_missing", "promo_code", body(text("SAVE25")), 132000,
     "template.components: expected a button component with sub_type copy_code and index 0"},
    {"mpm_missing", "shop_now", "", 132000,
     "template.components: expected a button component with sub_type mpm and index 3"},
    {"voice_call_without_index_and_no_call_button", "order_confirmation",
     order(R"(,{"type":"button","sub_type":"voice_call","parameters":[]})"), 132012,
     "template.components[3].sub_type: the template has no VOICE_CALL button"},
    {"otp_missing", "verify_code", body(text("123456")), 132000,
     "template.components: expected a button component with sub_type url and index 0 (OTP"},
    {"otp_over_15", "verify_code",
     body(text("1234567890123456")) + R"(,{"type":"button","sub_type":"url","index":0,
         "parameters":[{"type":"text","text":"1234567890123456"}]})",
     131009, "template.components[1].parameters[0].text: a one-time password is at most 15"},
    {"otp_as_copy_code", "verify_code",
     body(text("123456")) + R"(,{"type":"button","sub_type":"copy_code","index":0,
         "parameters":[{"type":"coupon_code","coupon_code":"123456"}]})",
     132012, "template.components[1].sub_type: button 0 is OTP, so the sub_type is url"},
    {"authentication_body_missing", "verify_code",
     R"({"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"1"}]})",
     132000, "template.components: expected a body component with 1 parameter, got none"},

    // Carousel and limited-time offer.
    {"carousel_too_many_cards", "summer_carousel",
     body(text("Ana")) + R"(,{"type":"carousel","cards":[{"card_index":0,"components":[]},
         {"card_index":1,"components":[]},{"card_index":2,"components":[]}]})",
     132000, "template.components[1].cards: expected 2 cards, got 3"},
    {"carousel_missing", "summer_carousel", body(text("Ana")), 132000,
     "template.components: expected a carousel component with 2 cards, got none"},
    {"carousel_on_plain_template", "note",
     body(text("Ana")) + R"(,{"type":"carousel","cards":[{"card_index":0,"components":[]}]})",
     132000, "template.components[1].cards: expected 0 cards, got 1"},
    {"limited_time_offer_on_plain_template", "note",
     R"({"type":"limited_time_offer","parameters":[{"type":"limited_time_offer",
         "limited_time_offer":{"expiration_time_ms":1}}]},)" +
         body(text("Ana")),
     132000,
     "template.components[0].parameters: expected 0 parameters, got 1 (the template has "
     "no limited-time offer)"},
};

class TemplateSend : public ::testing::TestWithParam<SendCase> {};

TEST_P(TemplateSend, MatchesTheDefinition) {
    const SendCase& c = GetParam();
    const TemplateDefinition def = definition(c.definition);
    const std::string tpl = R"({"name":")" + c.definition +
                            R"(","language":{"code":"en_US"},"components":[)" +
                            expand_runs(c.components) + "]}";
    ASSERT_TRUE(json::accept(tpl)) << tpl;
    auto checked = check_template_send(def, tpl);
    if (c.code == 0) {
        EXPECT_TRUE(checked) << checked.error().details;
        return;
    }
    ASSERT_FALSE(checked) << "accepted";
    EXPECT_EQ(checked.error().code, c.code) << checked.error().details;
    EXPECT_EQ(checked.error().http_status, 400);
    EXPECT_EQ(checked.error().details.substr(0, c.details.size()), c.details);
}

INSTANTIATE_TEST_SUITE_P(Templates, TemplateSend, ::testing::ValuesIn(kSends), [](const auto& p) {
    return p.param.label;
});

TEST(TemplateSendStatus, OnlyApprovedTemplatesGoOut) {
    struct Case {
        std::string status;
        int code;
        int http_status;
    };
    const std::vector<Case> cases = {
        {"APPROVED", 0, 0},          {"PAUSED", 132015, 400},
        {"DISABLED", 132016, 400},   {"PENDING", 132001, 404},
        {"REJECTED", 132001, 404},   {"FLAGGED", 132001, 404},
        {"IN_APPEAL", 132001, 404},  {"LIMIT_EXCEEDED", 132001, 404},
        {"LOCKED", 132001, 404},     {"ARCHIVED", 132001, 404},
        {"DELETED", 132001, 404},    {"PENDING_DELETION", 132001, 404},
        {"REINSTATED", 132001, 404},
    };
    for (const auto& c : cases) {
        auto def = parse_template_definition(
            "note", "en_US",
            R"({"category":"UTILITY","status":")" + c.status +
                R"(","components":[{"type":"BODY","text":"Note: {{1}}"}]})");
        ASSERT_TRUE(def) << c.status << ": " << def.error().details;
        // The status is checked before anything else: this send also has the wrong count.
        auto checked = check_template_send(*def, R"({"name":"note","components":[]})");
        if (c.code == 0) {
            ASSERT_FALSE(checked);
            EXPECT_EQ(checked.error().code, 132000) << c.status;
            continue;
        }
        ASSERT_FALSE(checked) << c.status;
        EXPECT_EQ(checked.error().code, c.code) << c.status;
        EXPECT_EQ(checked.error().http_status, c.http_status) << c.status;
        EXPECT_EQ(checked.error().details.rfind("template.name: \"note\" (en_US) is ", 0), 0u)
            << checked.error().details;
    }
}

// The send path's real input: the validator's normalised payload (string index, upper-case
// sub_type and component type rewritten).
TEST(TemplateSendPayload, ChecksTheValidatorsOutput) {
    const auto request = validate_send_request(
        R"({"messaging_product":"whatsapp","to":"+15551234567","type":"template","template":{
        "name":"promo_code","language":{"code":"en_US"},"components":[
        {"type":"BODY","parameters":[{"type":"text","text":"SAVE25"}]},
        {"type":"button","sub_type":"COPY_CODE","index":"0",
         "parameters":[{"type":"coupon_code","coupon_code":"SAVE25"}]}]}})",
        ValidationSettings{});
    ASSERT_TRUE(request) << request.error().details;
    EXPECT_TRUE(check_template_payload(definition("promo_code"), request->payload_json));
    auto wrong = check_template_payload(definition("order_pickup"), request->payload_json);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, 132000);
}

TEST(TemplateSendPayload, RejectsWhatIsNotATemplateSend) {
    const TemplateDefinition def = definition("note");
    EXPECT_EQ(check_template_payload(def, R"({"type":"text"})").error().code, 131008);
    EXPECT_EQ(check_template_send(def, "{").error().code, 100);
    EXPECT_EQ(check_template_send(def, R"({"components":{}})").error().details,
              "template.components: must be an array");
    EXPECT_EQ(check_template_send(def, R"({"components":[{"type":"footer"}]})").error().details,
              "template.components[0].type: unsupported value \"footer\"");
    EXPECT_EQ(check_template_send(def, R"({"components":[{"type":"body","parameters":[
        {"type":"text","text":"a"}]},{"type":"button","sub_type":"url","index":1.5}]})")
                  .error()
                  .details,
              "template.components[1].index: must be an integer");
}

TEST(TemplateSendObject, TakesParsedJson) {
    const json tpl = {
        {"name", "note"},
        {"components",
         json::array({{{"type", "body"},
                       {"parameters", json::array({{{"type", "text"}, {"text", "hi"}}})}}})}};
    EXPECT_TRUE(check_template_object(definition("note"), tpl));
    EXPECT_FALSE(check_template_object(definition("welcome"), json::array()));
}

}  // namespace
