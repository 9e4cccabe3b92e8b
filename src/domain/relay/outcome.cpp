#include <wagate/domain/relay.hpp>

#include <array>
#include <string>

#include <nlohmann/json.hpp>

namespace wagate::domain::relay {
namespace {

using nlohmann::json;

/// "(#131030) Recipient phone number not in allowed list" → "Recipient phone number not in allowed list".
std::string title_of(std::string message) {
    if (message.starts_with("(#")) {
        if (auto close = message.find(") "); close != std::string::npos) {
            message.erase(0, close + 2);
        }
    }
    return message;
}

/// Meta's Graph envelope, if `body` is one: its code, title and details.
struct GraphError {
    int code = 0;
    std::string title;
    std::string details;
};

std::optional<GraphError> read_graph_error(std::string_view body) {
    const json doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) {
        return std::nullopt;
    }
    auto error = doc.find("error");
    if (error == doc.end() || !error->is_object()) {
        return std::nullopt;
    }
    GraphError out;
    if (auto code = error->find("code"); code != error->end() && code->is_number_integer()) {
        out.code = code->get<int>();
    }
    if (auto message = error->find("message"); message != error->end() && message->is_string()) {
        out.title = title_of(message->get<std::string>());
    }
    if (auto data = error->find("error_data"); data != error->end() && data->is_object()) {
        if (auto details = data->find("details"); details != data->end() && details->is_string()) {
            out.details = details->get<std::string>();
        }
    }
    return out;
}

/// The wamid of a success body `{"messages":[{"id":"wamid..."}]}`, or empty.
std::string read_wamid(const json& doc) {
    auto messages = doc.find("messages");
    if (messages == doc.end() || !messages->is_array() || messages->empty() || !(*messages)[0].is_object()) {
        return {};
    }
    auto id = (*messages)[0].find("id");
    if (id == (*messages)[0].end() || !id->is_string()) {
        return {};
    }
    std::string wamid = id->get<std::string>();
    // Stored in a text column and matched against webhooks: Meta's ids are at most 128
    // characters of printable ASCII.
    if (wamid.empty() || wamid.size() > 128) {
        return {};
    }
    for (unsigned char c : wamid) {
        if (c < 0x21 || c > 0x7e) {
            return {};
        }
    }
    return wamid;
}

/// What happened, in one line: "code 130429 Rate limit hit: Cloud API message throughput ...".
std::string summary(int code, const std::string& title, const std::string& details) {
    std::string out = "code " + std::to_string(code) + " " + title;
    if (!details.empty()) {
        out += ": " + details;
    }
    return out;
}

}  // namespace

std::string errors_json(int code, std::string_view title, std::string_view details) {
    json error = {{"code", code}, {"title", title}, {"message", title}};
    if (!details.empty()) {
        error["error_data"] = {{"details", details}};
    }
    return json::array({error}).dump(-1, ' ', true, json::error_handler_t::replace);
}

bool is_transient_code(int code) noexcept {
    static constexpr std::array kTransient{2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133016, 134101, 2494100};
    for (int c : kTransient) {
        if (c == code) {
            return true;
        }
    }
    return false;
}

Outcome classify_response(int http_status, std::string_view body, bool expect_wamid) {
    Outcome out;
    if (http_status >= 200 && http_status < 300) {
        const json doc = json::parse(body, nullptr, false);
        if (doc.is_object()) {
            if (expect_wamid) {
                out.wamid = read_wamid(doc);
            } else if (auto success = doc.find("success"); success != doc.end() && success->is_boolean() &&
                                                           success->get<bool>()) {
                out.kind = OutcomeKind::kAccepted;
                return out;
            }
        }
        if (!out.wamid.empty()) {
            out.kind = OutcomeKind::kAccepted;
            return out;
        }
        // Meta may have taken the request, so it is not sent again: failed, and says why.
        out.kind = OutcomeKind::kPermanent;
        out.code = 131000;
        out.details = "upstream answered HTTP " + std::to_string(http_status) +
                      (expect_wamid ? " without a message id" : " without success:true");
        out.errors_json = errors_json(131000, "Something went wrong", out.details);
        return out;
    }
    const auto graph = read_graph_error(body);
    out.code = graph ? graph->code : 0;
    const bool transient_status = http_status == 408 || http_status == 429 || http_status >= 500;
    out.kind = transient_status || is_transient_code(out.code) ? OutcomeKind::kTransient : OutcomeKind::kPermanent;
    out.pair_limited = out.code == 131056;
    if (graph && graph->code != 0) {
        out.errors_json = errors_json(graph->code, graph->title, graph->details);
        out.details = "HTTP " + std::to_string(http_status) + ", " + summary(graph->code, graph->title, graph->details);
    } else {
        // No Graph envelope (a proxy's page, an empty body): the HTTP status is all there is.
        out.code = transient_status ? 131000 : 1;
        out.details = "upstream answered HTTP " + std::to_string(http_status) + " without a Graph error";
        out.errors_json = errors_json(out.code, transient_status ? "Something went wrong" : "API Unknown", out.details);
    }
    return out;
}

Outcome classify_network_failure(std::string_view what) {
    Outcome out;
    out.kind = OutcomeKind::kTransient;
    out.code = 131000;
    out.details = "upstream not reached: " + std::string(what);
    out.errors_json = errors_json(131000, "Something went wrong", out.details);
    return out;
}

std::string expired_errors_json(std::string_view last_failure_details) {
    std::string details = "the message was not sent within its time to live";
    if (!last_failure_details.empty()) {
        details += "; last attempt: ";
        details += last_failure_details;
    }
    return errors_json(900301, "Message expired", details);
}

}  // namespace wagate::domain::relay
