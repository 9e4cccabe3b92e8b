// Fuzz target: the body of POST /{version}/{phone_number_id}/messages from raw bytes, the way
// api/send_message.cpp hands it over: the bytes go straight to domain::validate_send_request,
// which runs the UTF-8 and depth pre-scan, the JSON parse and every structural rule, and a
// rejection is rendered as the Graph error envelope.
//
// Invariants (each violation aborts, so libFuzzer keeps the input):
//  - no crash, no sanitizer report, no exception out of the validator;
//  - the validator's catch-all ("body: could not be validated") is never reached: it hides a
//    validator bug that threw;
//  - a rejection is a 400 with one of the validator's codes and a `details` that starts with a
//    field path ("interactive.action.buttons[3]: ..."; an unexpected key's path is the key as
//    sent, which may be empty), and renders as a JSON envelope;
//  - an acceptance has a payload_json that is valid UTF-8 JSON with messaging_product
//    "whatsapp" (and `to` = "+" wa_id for phone recipients), and validating that payload again
//    accepts it with the same facts and byte-identical payload_json (normalisation is a fixpoint).
//
// The validation settings are chosen by the input's length (mod 4), so every input always meets
// the same settings: the defaults; Direct Send enabled; the smallest depth and a small contacts
// cap; the largest depth. Those are the ranges config.cpp allows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <wagate/domain/api_error.hpp>
#include <wagate/domain/send_request.hpp>

#include "fuzz_check.hpp"

namespace {

using wagate::domain::ApiError;
using wagate::domain::RecipientKind;
using wagate::domain::RequestKind;
using wagate::domain::SendRequest;
using wagate::domain::ValidationSettings;
using wagate::fuzz::excerpt;

ValidationSettings settings_for(std::size_t size) {
    ValidationSettings s;
    switch (size % 4) {
        case 1:
            s.direct_send_enabled = true;
            break;
        case 2:
            s.max_json_depth = 8;  // WAGATE_JSON_MAX_DEPTH's minimum
            s.max_contacts = 3;
            break;
        case 3:
            s.max_json_depth = 256;  // its maximum
            break;
        default:
            break;
    }
    return s;
}

bool is_validator_code(int code) {
    switch (code) {
        case 100:
        case 131008:
        case 131009:
        case 131051:
        case 132000:
        case 132005:
        case 132012:
            return true;
        default:
            return false;
    }
}

void check_rejection(const ApiError& e, std::string_view body) {
    const std::string where = e.details + " | input: " + excerpt(body);
    FUZZ_CHECK(e.details != "body: could not be validated", "the validator threw: " + where);
    FUZZ_CHECK(e.http_status == 400, where);
    FUZZ_CHECK(is_validator_code(e.code), std::to_string(e.code) + " " + where);
    FUZZ_CHECK(!e.title.empty(), where);
    // An unexpected key is named as sent, so its path can be empty ({"": 1}) or hold ": "
    // itself; every other error starts with the path of a field the validator knows.
    const std::size_t colon = e.details.find(": ");
    FUZZ_CHECK(colon != std::string::npos && (colon > 0 || e.title == "Unexpected key"),
               "details must start with a field path: " + where);
    const std::string envelope = wagate::domain::graph_error_body(e, "fuzz");
    const auto parsed = nlohmann::json::parse(envelope, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(parsed.is_object() && parsed.contains("error"), "envelope is not JSON: " + envelope);
}

void check_acceptance(const SendRequest& r, const ValidationSettings& settings, std::string_view body) {
    const std::string where = "payload: " + excerpt(r.payload_json) + " | input: " + excerpt(body);
    FUZZ_CHECK(wagate::fuzz::is_utf8(r.payload_json), where);
    const auto payload = nlohmann::json::parse(r.payload_json, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(payload.is_object(), where);
    FUZZ_CHECK(payload.value("messaging_product", "") == "whatsapp", where);
    if (r.kind == RequestKind::kMessage) {
        FUZZ_CHECK(!r.type.empty() && payload.value("type", "") == r.type, where);
        FUZZ_CHECK(!r.wa_id.empty(), where);
        if (r.recipient_kind == RecipientKind::kIndividual) {
            FUZZ_CHECK(payload.value("to", "") == "+" + r.wa_id, where);
            FUZZ_CHECK(r.wa_id.size() >= 7 && r.wa_id.size() <= 15, where);
        }
    } else {
        FUZZ_CHECK(!r.mark_read_message_id.empty(), where);
    }

    // Normalisation is a fixpoint: the relayed payload validates to the same request.
    auto again = wagate::domain::validate_send_request(r.payload_json, settings);
    FUZZ_CHECK(again.has_value(), "the normalised payload is rejected: " +
                                      (again ? std::string() : again.error().details) + " | " + where);
    FUZZ_CHECK(again->payload_json == r.payload_json,
               "normalisation is not a fixpoint: " + excerpt(again->payload_json) + " | " + where);
    FUZZ_CHECK(again->kind == r.kind && again->type == r.type && again->interactive_type == r.interactive_type &&
                   again->recipient_kind == r.recipient_kind && again->wa_id == r.wa_id &&
                   again->context_message_id == r.context_message_id &&
                   again->reaction_message_id == r.reaction_message_id &&
                   again->mark_read_message_id == r.mark_read_message_id &&
                   again->typing_indicator == r.typing_indicator &&
                   again->biz_opaque_callback_data == r.biz_opaque_callback_data &&
                   again->template_name == r.template_name && again->template_language == r.template_language,
               "revalidation changed the request's facts: " + where);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const ValidationSettings settings = settings_for(size);
    auto result = wagate::domain::validate_send_request(body, settings);
    if (result) {
        check_acceptance(*result, settings, body);
    } else {
        check_rejection(result.error(), body);
    }
    return 0;
}
