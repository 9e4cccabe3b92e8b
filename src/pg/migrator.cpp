#include <wagate/pg/migrator.hpp>

#include <algorithm>
#include <map>
#include <memory>

#include <libpq-fe.h>
#include <wagate/crypto/digest.hpp>

namespace wagate::pg {
namespace {

// Arbitrary but fixed: every wagate instance and CLI run takes the same lock.
constexpr const char* kLockKey = "7305010563221";

struct ConnCloser {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResultCloser {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

std::string checksum(std::string_view sql) { return crypto::to_hex(crypto::sha256(sql)); }

Result<ResultPtr> run(PGconn* conn, const char* what, const char* sql, int n = 0,
                      const char* const* params = nullptr) {
    ResultPtr r(n == 0 ? PQexec(conn, sql)
                       : PQexecParams(conn, sql, n, nullptr, params, nullptr, nullptr, 0));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return Error{PQstatus(conn) == CONNECTION_OK ? Errc::kInternal : Errc::kDbUnavailable,
                     std::string(what) + ": " + PQerrorMessage(conn)};
    }
    return r;
}

}  // namespace

int migration_version(std::string_view name) noexcept {
    if (name.size() < 10 || !name.ends_with(".sql") || name[4] != '_') {
        return -1;
    }
    int version = 0;
    for (int i = 0; i < 4; ++i) {
        const char c = name[static_cast<std::size_t>(i)];
        if (c < '0' || c > '9') {
            return -1;
        }
        version = version * 10 + (c - '0');
    }
    return version;
}

Result<MigrationReport> migrate(const std::string& conninfo, std::span<const MigrationFile> files) {
    std::map<int, const MigrationFile*> by_version;
    for (const auto& f : files) {
        const int v = migration_version(f.name);
        if (v < 0 || !by_version.emplace(v, &f).second) {
            return Error{Errc::kConflict, "bad or duplicate migration file name: " + std::string(f.name)};
        }
    }

    ConnPtr conn(PQconnectdb(conninfo.c_str()));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        return Error{Errc::kDbUnavailable,
                     std::string("connecting for migrations: ") + (conn ? PQerrorMessage(conn.get()) : "")};
    }
    PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
    PGconn* c = conn.get();
    const char* lock_params[] = {kLockKey};
    if (auto r = run(c, "advisory lock", "SELECT pg_advisory_lock($1::bigint)", 1, lock_params); !r) {
        return r.error();
    }
    if (auto r = run(c, "migration bookkeeping",
                     "CREATE SCHEMA IF NOT EXISTS wagate;"
                     "CREATE TABLE IF NOT EXISTS wagate.schema_migrations ("
                     " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())");
        !r) {
        return r.error();
    }
    auto applied = run(c, "reading applied migrations",
                       "SELECT version, name, checksum FROM wagate.schema_migrations ORDER BY version");
    if (!applied) {
        return applied.error();
    }
    MigrationReport report;
    PGresult* rows = applied->get();
    for (int i = 0; i < PQntuples(rows); ++i) {
        const int version = std::atoi(PQgetvalue(rows, i, 0));
        const std::string name = PQgetvalue(rows, i, 1);
        auto it = by_version.find(version);
        if (it == by_version.end()) {
            return Error{Errc::kConflict, "the database has migration " + name +
                                              ", which this wagate does not know (is it older?)"};
        }
        if (checksum(it->second->sql) != PQgetvalue(rows, i, 2)) {
            return Error{Errc::kConflict, "migration " + name +
                                              " was edited after it was applied: add a new migration instead"};
        }
        by_version.erase(it);
        ++report.already_applied;
    }
    for (const auto& [version, file] : by_version) {
        const std::string name(file->name);
        const std::string sum = checksum(file->sql);
        const std::string version_text = std::to_string(version);
        const std::string sql(file->sql);
        const char* params[] = {version_text.c_str(), name.c_str(), sum.c_str()};
        Result<ResultPtr> step = run(c, "BEGIN", "BEGIN");
        if (step) {
            step = run(c, "search_path", "SET LOCAL search_path = wagate, pg_catalog");
        }
        if (step) {
            step = run(c, name.c_str(), sql.c_str());
        }
        if (step) {
            step = run(c, "recording migration",
                       "INSERT INTO wagate.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                       3, params);
        }
        if (step) {
            step = run(c, "COMMIT", "COMMIT");
        }
        if (!step) {
            ResultPtr(PQexec(c, "ROLLBACK"));
            return step.error();
        }
        report.applied.push_back(name);
    }
    return report;
}

Result<std::size_t> pending_migrations(const std::string& conninfo, std::span<const MigrationFile> files) {
    ConnPtr conn(PQconnectdb(conninfo.c_str()));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        return Error{Errc::kDbUnavailable,
                     std::string("connecting: ") + (conn ? PQerrorMessage(conn.get()) : "")};
    }
    auto applied = run(conn.get(), "reading applied migrations",
                       "SELECT version FROM wagate.schema_migrations");
    if (!applied) {
        return files.size();  // no bookkeeping table yet: nothing applied
    }
    std::size_t pending = files.size();
    for (int i = 0; i < PQntuples(applied->get()); ++i) {
        const int version = std::atoi(PQgetvalue(applied->get(), i, 0));
        for (const auto& f : files) {
            if (migration_version(f.name) == version) {
                --pending;
            }
        }
    }
    return pending;
}

}  // namespace wagate::pg
