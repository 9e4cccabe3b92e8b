#include <wagate/store/template_store.hpp>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;

namespace {

#define WAGATE_TEMPLATE_COLUMNS                                                              \
    "waba_id, name, language, category, status, definition::text, "                         \
    WAGATE_SQL_RFC3339("updated_at")

constexpr pg::Statement kUpsert{
    "template_upsert",
    "INSERT INTO templates AS t (waba_id, name, language, category, status, definition) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb) "
    "ON CONFLICT (waba_id, name, language) DO UPDATE SET category = $4, status = $5, "
    "  definition = $6::jsonb, updated_at = now() "
    "RETURNING " WAGATE_TEMPLATE_COLUMNS};

constexpr pg::Statement kList{"template_list",
                              "SELECT " WAGATE_TEMPLATE_COLUMNS
                              " FROM templates WHERE waba_id = $1 ORDER BY name, language"};

constexpr pg::Statement kRemove{"template_remove",
                                "DELETE FROM templates WHERE waba_id = $1 AND name = $2 AND language = $3"};

StoredTemplate row(const pg::Rows& r, int i) {
    return StoredTemplate{std::string(r.get(i, 0)), std::string(r.get(i, 1)), std::string(r.get(i, 2)),
                          std::string(r.get(i, 3)), std::string(r.get(i, 4)), std::string(r.get(i, 5)),
                          std::string(r.get(i, 6))};
}

}  // namespace

asio::awaitable<Result<StoredTemplate>> TemplateStore::upsert(const StoredTemplate& t) {
    const pg::Params params =
        pg::Params{}.add(t.waba_id).add(t.name).add(t.language).add(t.category).add(t.status).add(t.definition_json);
    auto rows = co_await pool_.execute(kUpsert, params);
    if (!rows) {
        co_return rows.error();
    }
    co_return row(*rows, 0);
}

asio::awaitable<Result<std::vector<StoredTemplate>>> TemplateStore::list(const std::string& waba_id) {
    const pg::Params params = pg::Params{}.add(waba_id);
    auto rows = co_await pool_.execute(kList, params);
    if (!rows) {
        co_return rows.error();
    }
    std::vector<StoredTemplate> out;
    for (int i = 0; i < rows->size(); ++i) {
        out.push_back(row(*rows, i));
    }
    co_return out;
}

asio::awaitable<Result<bool>> TemplateStore::remove(const std::string& waba_id, const std::string& name,
                                                    const std::string& language) {
    const pg::Params params = pg::Params{}.add(waba_id).add(name).add(language);
    auto rows = co_await pool_.execute(kRemove, params);
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected() > 0;
}

}  // namespace wagate::store
