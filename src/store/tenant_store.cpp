#include <wagate/store/tenant_store.hpp>

#include <charconv>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;
using pg::Params;
using pg::Statement;

namespace {

/// Runs `upsert` in a transaction after `lock` took the row's lock (if the row exists), so the
/// upsert's history rows compare against the row as it is when it changes.
asio::awaitable<Result<pg::Rows>> locked_upsert(pg::Pool& pool, const Statement& lock, const Statement& upsert,
                                                const std::string& id, const Params& params) {
    auto lease = co_await pool.acquire();
    if (!lease) {
        co_return lease.error();
    }
    pg::Connection& c = **lease;
    auto begun = co_await c.execute_simple("BEGIN", std::chrono::seconds(10));
    if (!begun) {
        co_return begun.error();
    }
    Result<pg::Rows> rows = co_await c.execute(lock, Params{}.add(id));
    if (rows) {
        rows = co_await c.execute(upsert, params);
    }
    auto ended = co_await c.execute_simple(rows ? "COMMIT" : "ROLLBACK", std::chrono::seconds(10));
    if (!ended) {
        co_return ended.error();
    }
    co_return rows;
}

// Absent fields arrive as NULL and keep the current value (COALESCE), or the column default on
// creation.
// A change of tier is recorded in state_changes with the gateway clock's time ($6). `old` is the
// row before the change: the upsert runs in a transaction after kLockBusinessRow, so no other
// change can come between what `old` read and what the upsert writes, and each transition is
// recorded once. (`old` cannot take the lock itself: a row lock on a row the same command
// modifies finds nothing.)
constexpr Statement kUpsertBusiness{
    "business_upsert",
    "WITH old AS (SELECT messaging_limit_tier FROM businesses WHERE id = $1), "
    "b AS ("
    "  INSERT INTO businesses AS b (id, name, messaging_limit_tier, upgrade_rule, auto_upgrade) "
    "  VALUES ($1, COALESCE($2, ''), COALESCE($3, 'TIER_250'), COALESCE($4, 'meta-2025'), "
    "          COALESCE($5::boolean, false)) "
    "  ON CONFLICT (id) DO UPDATE SET "
    "    name = COALESCE($2, b.name), messaging_limit_tier = COALESCE($3, b.messaging_limit_tier), "
    "    upgrade_rule = COALESCE($4, b.upgrade_rule), auto_upgrade = COALESCE($5::boolean, b.auto_upgrade), "
    "    updated_at = now() "
    "  RETURNING *), "
    "h AS ("
    "  INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at) "
    "  SELECT 'business', b.id, 'messaging_limit_tier', old.messaging_limit_tier, b.messaging_limit_tier, "
    "         'admin', " WAGATE_SQL_FROM_MICROS("$6") " "
    "  FROM b LEFT JOIN old ON true "
    "  WHERE old.messaging_limit_tier IS DISTINCT FROM b.messaging_limit_tier) "
    "SELECT id, name, messaging_limit_tier, upgrade_rule, auto_upgrade, "
    "  " WAGATE_SQL_RFC3339("created_at") ", "
    "  " WAGATE_SQL_RFC3339("updated_at") " FROM b"};

constexpr Statement kLockPhoneRow{"phone_lock_row",
                                  "SELECT 1 FROM phone_numbers WHERE id = $1 FOR NO KEY UPDATE"};

constexpr Statement kGetBusiness{
    "business_get",
    "SELECT id, name, messaging_limit_tier, upgrade_rule, auto_upgrade, "
    "  " WAGATE_SQL_RFC3339("created_at") ", "
    "  " WAGATE_SQL_RFC3339("updated_at") " "
    "FROM businesses WHERE id = $1"};

#define WAGATE_PHONE_COLUMNS                                                                      \
    "id, business_id, waba_id, display_phone_number, throughput_mps, quality_rating, status, "   \
    "callback_url, require_opt_in, access_token <> '', callback_secret <> '', "                  \
    WAGATE_SQL_RFC3339("created_at") ", " WAGATE_SQL_RFC3339("updated_at")

// The business must exist: the foreign key rejects an unknown one, on creation and on update.
// Changes of quality rating and status are recorded in state_changes with the gateway clock's
// time ($12), which also stamps status_changed_at (a FLAGGED number's 7 days count from it).
// `old` as in kUpsertBusiness, after kLockPhoneRow. An update may leave out business_id: the row to insert then takes
// the existing one, so NOT NULL holds until ON CONFLICT turns the insert into the update.
constexpr Statement kUpsertPhone{
    "phone_upsert",
    "WITH old AS (SELECT business_id, quality_rating, status FROM phone_numbers WHERE id = $1), "
    "p AS ("
    "  INSERT INTO phone_numbers AS p (id, business_id, waba_id, display_phone_number, access_token, "
    "    throughput_mps, quality_rating, status, callback_url, callback_secret, require_opt_in, "
    "    status_changed_at) "
    "  VALUES ($1, COALESCE($2, (SELECT business_id FROM old)), COALESCE($3, ''), COALESCE($4, ''), COALESCE($5, ''), "
    "    COALESCE($6::double precision, 80), COALESCE($7, 'UNKNOWN'), COALESCE($8, 'CONNECTED'), "
    "    COALESCE($9, ''), COALESCE($10, ''), COALESCE($11::boolean, true), " WAGATE_SQL_FROM_MICROS("$12") ") "
    "  ON CONFLICT (id) DO UPDATE SET "
    "    business_id = COALESCE($2, p.business_id), waba_id = COALESCE($3, p.waba_id), "
    "    display_phone_number = COALESCE($4, p.display_phone_number), "
    "    access_token = COALESCE($5, p.access_token), "
    "    throughput_mps = COALESCE($6::double precision, p.throughput_mps), "
    "    quality_rating = COALESCE($7, p.quality_rating), status = COALESCE($8, p.status), "
    "    callback_url = COALESCE($9, p.callback_url), callback_secret = COALESCE($10, p.callback_secret), "
    "    require_opt_in = COALESCE($11::boolean, p.require_opt_in), "
    "    status_changed_at = CASE WHEN COALESCE($8, p.status) <> p.status "
    "                        THEN " WAGATE_SQL_FROM_MICROS("$12") " ELSE p.status_changed_at END, "
    "    updated_at = now() "
    "  RETURNING *), "
    "h AS ("
    "  INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at) "
    "  SELECT 'phone_number', p.id, c.field, c.old_value, c.new_value, 'admin', " WAGATE_SQL_FROM_MICROS("$12") " "
    "  FROM p LEFT JOIN old ON true, "
    "  LATERAL (VALUES ('quality_rating', old.quality_rating, p.quality_rating), "
    "                  ('status', old.status, p.status)) AS c(field, old_value, new_value) "
    "  WHERE c.old_value IS DISTINCT FROM c.new_value) "
    "SELECT " WAGATE_PHONE_COLUMNS " FROM p"};

constexpr Statement kGetPhone{"phone_get",
                              "SELECT " WAGATE_PHONE_COLUMNS " FROM phone_numbers WHERE id = $1"};

constexpr Statement kCreateKey{
    "api_key_create",
    "WITH k AS (INSERT INTO api_keys (id, name, key_hash) VALUES ($1::uuid, $2, decode($3, 'hex')) "
    "           RETURNING id, created_at), "
    "     s AS (INSERT INTO api_key_scopes (api_key_id, phone_number_id) "
    "           SELECT $1::uuid, unnest($4::text[])) "
    "SELECT " WAGATE_SQL_RFC3339("created_at") " FROM k"};

constexpr Statement kListKeys{
    "api_key_list",
    "SELECT replace(k.id::text, '-', ''), k.name, "
    "  COALESCE(array_to_string(array_agg(s.phone_number_id ORDER BY s.phone_number_id) "
    "           FILTER (WHERE s.phone_number_id IS NOT NULL), ','), ''), "
    "  " WAGATE_SQL_RFC3339("k.created_at") ", "
    "  " WAGATE_SQL_RFC3339("k.revoked_at") " "
    "FROM api_keys k LEFT JOIN api_key_scopes s ON s.api_key_id = k.id "
    "GROUP BY k.id ORDER BY k.created_at, k.id"};

constexpr Statement kRevokeKey{
    "api_key_revoke",
    "UPDATE api_keys SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL"};

constexpr Statement kFindKey{
    "api_key_find",
    "SELECT encode(k.key_hash, 'hex'), k.revoked_at IS NOT NULL, "
    "  COALESCE(array_to_string(array_agg(s.phone_number_id) "
    "           FILTER (WHERE s.phone_number_id IS NOT NULL), ','), '') "
    "FROM api_keys k LEFT JOIN api_key_scopes s ON s.api_key_id = k.id "
    "WHERE k.id = $1::uuid GROUP BY k.id"};

std::vector<std::string> split_csv(std::string_view csv) {
    std::vector<std::string> out;
    while (!csv.empty()) {
        const std::size_t comma = csv.find(',');
        out.emplace_back(csv.substr(0, comma));
        csv = comma == std::string_view::npos ? std::string_view{} : csv.substr(comma + 1);
    }
    return out;
}

Business to_business(const pg::Rows& r) {
    return Business{std::string(r.get(0, 0)), std::string(r.get(0, 1)), std::string(r.get(0, 2)),
                    std::string(r.get(0, 3)), r.get_bool(0, 4), std::string(r.get(0, 5)),
                    std::string(r.get(0, 6))};
}

PhoneNumber to_phone(const pg::Rows& r) {
    PhoneNumber p;
    p.id = r.get(0, 0);
    p.business_id = r.get(0, 1);
    p.waba_id = r.get(0, 2);
    p.display_phone_number = r.get(0, 3);
    const std::string_view mps = r.get(0, 4);
    p.throughput_mps = std::strtod(std::string(mps).c_str(), nullptr);
    p.quality_rating = r.get(0, 5);
    p.status = r.get(0, 6);
    p.callback_url = r.get(0, 7);
    p.require_opt_in = r.get_bool(0, 8);
    p.has_access_token = r.get_bool(0, 9);
    p.has_callback_secret = r.get_bool(0, 10);
    p.created_at = r.get(0, 11);
    p.updated_at = r.get(0, 12);
    return p;
}

Params& add_opt(Params& p, const std::optional<bool>& v) {
    return v ? p.add(*v) : p.add_null();
}

Params& add_opt(Params& p, const std::optional<double>& v) {
    return v ? p.add(std::string_view(std::to_string(*v))) : p.add_null();
}

bool hex_to_digest(std::string_view hex, crypto::Sha256& out) {
    if (hex.size() != 64) {
        return false;
    }
    for (std::size_t i = 0; i < 32; ++i) {
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
        if (ec != std::errc{} || ptr != hex.data() + 2 * i + 2) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(value);
    }
    return true;
}

}  // namespace

asio::awaitable<Result<Business>> TenantStore::upsert_business(const std::string& id,
                                                               const BusinessChanges& c) {
    Params p;
    p.add(id).add(c.name).add(c.messaging_limit_tier).add(c.upgrade_rule);
    add_opt(p, c.auto_upgrade);
    p.add(to_micros(c.changed_at));
    auto rows = co_await locked_upsert(pool_, kLockBusinessRow, kUpsertBusiness, id, p);
    if (!rows) {
        co_return rows.error();
    }
    co_return to_business(*rows);
}

asio::awaitable<Result<std::optional<Business>>> TenantStore::get_business(const std::string& id) {
    auto rows = co_await pool_.execute(kGetBusiness, Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<Business>{};
    }
    co_return std::optional<Business>(to_business(*rows));
}

asio::awaitable<Result<PhoneNumber>> TenantStore::upsert_phone_number(const std::string& id,
                                                                      const PhoneNumberChanges& c) {
    Params p;
    p.add(id).add(c.business_id).add(c.waba_id).add(c.display_phone_number).add(c.access_token);
    add_opt(p, c.throughput_mps);
    p.add(c.quality_rating).add(c.status).add(c.callback_url).add(c.callback_secret);
    add_opt(p, c.require_opt_in);
    p.add(to_micros(c.changed_at));
    auto rows = co_await locked_upsert(pool_, kLockPhoneRow, kUpsertPhone, id, p);
    if (!rows) {
        // 23503 (foreign key) and 23502 (business_id NULL on creation) both mean: no such business.
        if (rows.error().code == Errc::kInvalidArgument &&
            (rows.error().message.find("foreign key") != std::string::npos ||
             rows.error().message.find("null value") != std::string::npos)) {
            co_return Error{Errc::kNotFound, "business not found"};
        }
        co_return rows.error();
    }
    co_return to_phone(*rows);
}

asio::awaitable<Result<std::optional<PhoneNumber>>> TenantStore::get_phone_number(const std::string& id) {
    auto rows = co_await pool_.execute(kGetPhone, Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<PhoneNumber>{};
    }
    co_return std::optional<PhoneNumber>(to_phone(*rows));
}

asio::awaitable<Result<ApiKeyInfo>> TenantStore::create_api_key(
    const std::string& id, const std::string& name, const crypto::Sha256& key_hash,
    const std::vector<std::string>& phone_number_ids) {
    Params p;
    p.add(id).add(name).add(crypto::to_hex(key_hash)).add(pg::text_array(phone_number_ids));
    auto rows = co_await pool_.execute(kCreateKey, p);
    if (!rows) {
        if (rows.error().code == Errc::kInvalidArgument &&
            rows.error().message.find("foreign key") != std::string::npos) {
            co_return Error{Errc::kNotFound, "phone number not found"};
        }
        co_return rows.error();
    }
    co_return ApiKeyInfo{id, name, phone_number_ids, std::string(rows->get(0, 0)), std::nullopt};
}

asio::awaitable<Result<std::vector<ApiKeyInfo>>> TenantStore::list_api_keys() {
    auto rows = co_await pool_.execute(kListKeys, Params{});
    if (!rows) {
        co_return rows.error();
    }
    std::vector<ApiKeyInfo> keys;
    for (int i = 0; i < rows->size(); ++i) {
        keys.push_back(ApiKeyInfo{std::string(rows->get(i, 0)), std::string(rows->get(i, 1)),
                                  split_csv(rows->get(i, 2)), std::string(rows->get(i, 3)),
                                  rows->get_optional(i, 4)});
    }
    co_return keys;
}

asio::awaitable<Result<bool>> TenantStore::revoke_api_key(const std::string& id) {
    auto rows = co_await pool_.execute(kRevokeKey, Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected() == 1;
}

asio::awaitable<Result<std::optional<ApiKeyCredential>>> TenantStore::find_api_key(const std::string& id) {
    auto rows = co_await pool_.execute(kFindKey, Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<ApiKeyCredential>{};
    }
    ApiKeyCredential credential;
    credential.id = id;
    if (!hex_to_digest(rows->get(0, 0), credential.key_hash)) {
        co_return Error{Errc::kInternal, "stored key hash is malformed"};
    }
    credential.revoked = rows->get_bool(0, 1);
    credential.phone_number_ids = split_csv(rows->get(0, 2));
    co_return std::optional<ApiKeyCredential>(std::move(credential));
}

}  // namespace wagate::store
