#include <wagate/store/webhook_store.hpp>

#include <mutex>

#include <spdlog/spdlog.h>
#include <wagate/crypto/digest.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/group_commit.hpp"

namespace wagate::store {
namespace asio = boost::asio;

namespace {

// $1 SHA-256 of each body, $2 the bodies (bytea hex), $3 whether this instance claims each (it
// will apply it from memory), $4 lease ms.
// One row per input, in input order: the delivery id, and whether the same bytes were stored
// before (Meta's retries of a body are byte-identical).
constexpr pg::Statement kStore{
    "webhook_store",
    "WITH input AS (SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::boolean[]) WITH ORDINALITY"
    "  AS t(sha, body, claim, n)), "
    "stored AS ("
    "  INSERT INTO webhook_deliveries (body_sha256, body, claimed_until)"
    "  SELECT sha, body, CASE WHEN claim THEN now() + $4::bigint * interval '1 millisecond' END"
    "  FROM input ORDER BY n"
    "  ON CONFLICT (body_sha256) DO NOTHING RETURNING id, body_sha256) "
    "SELECT COALESCE(s.id, d.id), s.id IS NULL FROM input i "
    "LEFT JOIN stored s ON s.body_sha256 = i.sha "
    "LEFT JOIN webhook_deliveries d ON s.id IS NULL AND d.body_sha256 = i.sha "
    "ORDER BY i.n"};

constexpr pg::Statement kQuarantine{
    "webhook_quarantine",
    "INSERT INTO webhook_quarantine (reason, signature, remote_address, body_length, body_sha256, body) "
    "VALUES ($1, $2, $3, $4, decode($5, 'hex'), decode($6, 'hex'))"};

constexpr std::size_t kQuarantinedPrefix = 64 * 1024;

struct Incoming {
    std::string body;
    bool claim = false;
};

using Commit = GroupCommit<Incoming, WebhookInbox::Stored>;

std::string bytea_hex(std::string_view bytes) {
    return "\\x" + crypto::to_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

/// Unverified POSTs cost a database write each; an anonymous flood must not turn into a flood of
/// rows. At most kBurst quarantined in a row, refilled at kPerSecond.
class QuarantineBudget {
public:
    bool take() {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        tokens_ = std::min(kBurst, tokens_ + std::chrono::duration<double>(now - last_).count() * kPerSecond);
        last_ = now;
        if (tokens_ < 1) {
            return false;
        }
        tokens_ -= 1;
        return true;
    }

private:
    static constexpr double kBurst = 100;
    static constexpr double kPerSecond = 10;
    std::mutex mutex_;
    double tokens_ = kBurst;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

struct WebhookInbox::Impl {
    pg::Pool& pool;
    WebhookSettings settings;
    std::shared_ptr<Commit> commit;
    QuarantineBudget quarantine_budget;

    Impl(pg::Pool& p, WebhookSettings s) : pool(p), settings(s) {}

    asio::awaitable<void> flush(Commit::Batch& batch) {
        pg::ArrayLiteral shas;
        pg::ArrayLiteral bodies;
        pg::ArrayLiteral claims;
        for (const auto& entry : batch) {
            const auto digest = crypto::sha256(entry.item.body);
            shas.add("\\x" + crypto::to_hex(digest));
            bodies.add(bytea_hex(entry.item.body));
            claims.add(std::string_view(entry.item.claim ? "t" : "f"));
        }
        pg::Params params;
        params.add(shas.str()).add(bodies.str()).add(claims.str());
        params.add(static_cast<std::int64_t>(settings.lease.count()));
        auto rows = co_await pool.execute(kStore, params);
        if (rows && rows->size() != static_cast<int>(batch.size())) {
            rows = Error{Errc::kInternal, "webhook store returned a row count unlike its input"};
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!rows) {
                Commit::complete(batch[i], rows.error());
                continue;
            }
            const int r = static_cast<int>(i);
            Commit::complete(batch[i], Stored{rows->get_int64(r, 0), rows->get_bool(r, 1)});
        }
    }
};

WebhookInbox::WebhookInbox(asio::any_io_executor executor, pg::Pool& pool, WebhookSettings settings)
    : impl_(std::make_shared<Impl>(pool, settings)) {
    // Two flushers: one batch commits while the next one fills. The flush holds the inbox only
    // while it runs, so a batch in flight at shutdown cannot outlive it unnoticed.
    impl_->commit = std::make_shared<Commit>(
        std::move(executor), settings.max_batch, 2,
        flush_while_alive<Incoming, Stored>(std::weak_ptr<Impl>(impl_),
                                            Error{Errc::kDbUnavailable, "the gateway is stopping"}),
        // Bodies travel hex-encoded in one array parameter: keep a batch far below PostgreSQL's
        // 1 GB limit on a value.
        [](const Incoming& incoming) { return incoming.body.size(); }, std::size_t{64} << 20);
}

WebhookInbox::~WebhookInbox() = default;

asio::awaitable<Result<WebhookInbox::Stored>> WebhookInbox::store(std::string body, bool claim) {
    return impl_->commit->submit(Incoming{std::move(body), claim});
}

asio::awaitable<Result<void>> WebhookInbox::quarantine(std::string reason, std::string signature,
                                                       std::string remote_address, std::string body) {
    if (!impl_->quarantine_budget.take()) {
        spdlog::warn("webhook quarantine is over its rate; an unverified POST was not kept");
        co_return Result<void>{};
    }
    const std::string_view prefix = std::string_view(body).substr(0, kQuarantinedPrefix);
    pg::Params params;
    params.add(reason).add(signature.substr(0, 256)).add(remote_address);
    params.add(static_cast<std::int64_t>(body.size())).add(crypto::to_hex(crypto::sha256(body)));
    params.add(crypto::to_hex({reinterpret_cast<const std::uint8_t*>(prefix.data()), prefix.size()}));
    auto rows = co_await impl_->pool.execute(kQuarantine, params);
    if (!rows) {
        co_return rows.error();
    }
    co_return Result<void>{};
}

}  // namespace wagate::store
