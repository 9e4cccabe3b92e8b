#include <wagate/store/contact_store.hpp>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

namespace wagate::store {
namespace asio = boost::asio;

namespace {

#define WAGATE_CONTACT_COLUMNS                                                                   \
    "phone_number_id, wa_id, (extract(epoch FROM last_inbound_at) * 1000)::bigint, opted_in, " \
    "opted_out, identity_ack_required"

constexpr pg::Statement kGet{"contact_get",
                             "SELECT " WAGATE_CONTACT_COLUMNS
                             " FROM contacts WHERE phone_number_id = $1 AND wa_id = $2"};

// $3: opted_in (NULL = unchanged), $4: consent source, $5: last inbound, Unix ms (NULL = unchanged).
constexpr pg::Statement kChange{
    "contact_change",
    "WITH c AS ("
    "  INSERT INTO contacts AS c (phone_number_id, wa_id, opted_in, opted_out, last_inbound_at)"
    "  VALUES ($1, $2, COALESCE($3::boolean, false), COALESCE(NOT $3::boolean, false),"
    "          to_timestamp($5::bigint / 1000.0))"
    "  ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET"
    "    opted_in = COALESCE($3::boolean, c.opted_in),"
    "    opted_out = COALESCE(NOT $3::boolean, c.opted_out),"
    "    last_inbound_at = GREATEST(c.last_inbound_at, to_timestamp($5::bigint / 1000.0)),"
    "    updated_at = now()"
    "  RETURNING " WAGATE_CONTACT_COLUMNS "), "
    "audit AS ("
    "  INSERT INTO contact_consent_events (phone_number_id, wa_id, opted_in, source)"
    "  SELECT $1, $2, $3::boolean, $4 WHERE $3::boolean IS NOT NULL) "
    "SELECT * FROM c"};

constexpr pg::Statement kAcknowledge{
    "contact_identity_ack",
    "UPDATE contacts SET identity_ack_required = false, updated_at = now() "
    "WHERE phone_number_id = $1 AND wa_id = $2 RETURNING " WAGATE_CONTACT_COLUMNS};

Contact to_contact(const pg::Rows& r) {
    Contact c;
    c.phone_number_id = r.get(0, 0);
    c.wa_id = r.get(0, 1);
    if (!r.is_null(0, 2)) {
        c.last_inbound_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(r.get_int64(0, 2)));
    }
    c.opted_in = r.get_bool(0, 3);
    c.opted_out = r.get_bool(0, 4);
    c.identity_ack_required = r.get_bool(0, 5);
    return c;
}

}  // namespace

asio::awaitable<Result<std::optional<Contact>>> ContactStore::get(const std::string& phone_number_id,
                                                                 const std::string& wa_id) {
    const pg::Params params = pg::Params{}.add(phone_number_id).add(wa_id);
    auto rows = co_await pool_.execute(kGet, params);
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<Contact>{};
    }
    co_return std::optional<Contact>(to_contact(*rows));
}

asio::awaitable<Result<Contact>> ContactStore::change(const std::string& phone_number_id,
                                                      const std::string& wa_id,
                                                      const ContactChanges& changes) {
    pg::Params params;
    params.add(phone_number_id).add(wa_id);
    changes.opted_in ? params.add(*changes.opted_in) : params.add_null();
    params.add(changes.consent_source);
    if (changes.last_inbound_at) {
        params.add(static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 changes.last_inbound_at->time_since_epoch())
                                                 .count()));
    } else {
        params.add_null();
    }
    auto rows = co_await pool_.execute(kChange, params);
    if (!rows) {
        co_return rows.error();
    }
    co_return to_contact(*rows);
}

asio::awaitable<Result<std::optional<Contact>>> ContactStore::acknowledge_identity(
    const std::string& phone_number_id, const std::string& wa_id) {
    const pg::Params params = pg::Params{}.add(phone_number_id).add(wa_id);
    auto rows = co_await pool_.execute(kAcknowledge, params);
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<Contact>{};
    }
    co_return std::optional<Contact>(to_contact(*rows));
}

}  // namespace wagate::store
