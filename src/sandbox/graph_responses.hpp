#pragma once

#include <string>
#include <string_view>

#include <wagate/domain/api_error.hpp>
#include <wagate/domain/send_request.hpp>
#include <wagate/http/message.hpp>

namespace wagate::sandbox {

// Meta's answers to a send (reference/messages.md §3 and §12.1). Pure.

http::Response json_response(int status, std::string body);

/// The Graph error envelope (domain::graph_error_body), `fbtrace_id` from the request id.
http::Response graph_error(const domain::ApiError& error, const std::string& fbtrace_id);

/// For the conditions the HTTP server detects itself (404, 405, 413, 431, …).
http::Response render_server_error(int status, std::string_view details, const std::string& request_id);

/// The success body of an accepted message: contacts[] (input as sent, wa_id; user_id instead
/// for a BSUID) and messages[] (id; message_status "accepted" for templates; group_id for groups).
std::string send_success_body(const domain::SendRequest& request, std::string_view wamid);

}  // namespace wagate::sandbox
