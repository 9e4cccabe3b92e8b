#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <wagate/core/clock.hpp>
#include <wagate/domain/send_request.hpp>
#include <wagate/http/message.hpp>
#include <wagate/http/router.hpp>

namespace wagate::pg {
class Pool;
}
namespace wagate::store {
class TenantStore;
class ContactStore;
class TemplateStore;
class MessageStore;
class LimitStore;
class AcceptWriter;
class WebhookInbox;
class WebhookProcessor;
class EventStore;
class BacklogStore;
}  // namespace wagate::store
namespace wagate::metrics {
class Registry;
}

namespace wagate::api {

struct ApiSettings {
    domain::ValidationSettings validation;
    std::size_t max_send_body_bytes = 1024 * 1024;
    std::size_t max_admin_body_bytes = 1024 * 1024;
    /// How long an API key's or phone number's lookup is reused. A revocation made through this
    /// instance applies at once; one made through another instance within this time.
    std::chrono::milliseconds auth_cache_ttl{1000};
    /// Requests per second per API key, on average, with bursts of a second's worth; 0: no limit.
    double key_rate_limit = 0;
    /// Empty: the admin API answers 401 to everything.
    std::string admin_token;
    /// Meta's app secrets (any one verifies a webhook) and the subscription verify token.
    std::vector<std::string> meta_app_secrets;
    std::string meta_verify_token;
    std::size_t max_webhook_body_bytes = 8 * 1024 * 1024;
};

struct ApiDependencies {
    pg::Pool& pool;
    store::TenantStore& tenants;
    store::ContactStore& contacts;
    store::TemplateStore& templates;
    store::MessageStore& messages;
    store::LimitStore& limits;
    store::AcceptWriter& writer;
    store::EventStore& events;
    store::BacklogStore& backlogs;
    /// Served at GET /metrics; the handlers count webhook ingest into it.
    metrics::Registry& metrics;
    const Clock& clock;
    /// Null: no /webhooks/meta routes. A null processor: this instance stores webhooks and
    /// leaves applying them to others (WAGATE_WEBHOOK_WORKERS=0).
    store::WebhookInbox* webhook_inbox = nullptr;
    store::WebhookProcessor* webhook_processor = nullptr;
};

/// The business-facing send API, the admin API, the health routes and GET /metrics.
class Api {
public:
    Api(ApiSettings settings, ApiDependencies deps);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    /// Send API, Meta's webhook and health routes on `public_routes`; /admin/v1 and /metrics on
    /// `admin_routes` (the same router when no separate admin listener is configured).
    void register_routes(http::Router& public_routes, http::Router& admin_routes);

    /// Marks migrations as current for /readyz (set once `serve` has migrated or checked).
    void set_schema_ready(bool ready) noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The Graph error envelope for an error the HTTP server detects before any handler (404, 405,
/// 413, 431, 400 malformed, 500).
http::Response render_server_error(int status, std::string_view details, const std::string& request_id);

/// Outbound message ids as the API shows them: "wagate." followed by 32 hex digits.
std::string external_message_id(std::string_view id_hex);
/// The 32 hex digits of an external id, or empty if `external` is not a gateway id.
std::string internal_message_id(std::string_view external);

}  // namespace wagate::api
