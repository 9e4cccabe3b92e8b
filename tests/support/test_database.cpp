#include "support/test_database.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <wagate/pg/migrator.hpp>

namespace wagate::test {
namespace {

std::string server_url() {
    if (const char* dsn = std::getenv("WAGATE_TEST_PG_DSN"); dsn && *dsn) {
        return dsn;
    }
    if (const char* file = std::getenv("WAGATE_TEST_PG_DSN_FILE"); file && *file) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);
        return line;
    }
    return {};
}

/// Replaces the database name of a postgresql:///NAME?... URI.
std::string with_database(const std::string& url, const std::string& name) {
    const std::string prefix = "postgresql:///";
    if (url.rfind(prefix, 0) == 0) {
        const std::size_t q = url.find('?');
        return prefix + name + (q == std::string::npos ? "" : url.substr(q));
    }
    return url + " dbname=" + name;
}

std::string exec(const std::string& url, const std::string& statement) {
    const auto rows = query(url, statement);
    return rows.empty() || rows.front().empty() ? std::string() : rows.front().front();
}

class DatabaseEnvironment : public ::testing::Environment {
public:
    void TearDown() override {
        const std::string server = server_url();
        if (!name_.empty() && !server.empty()) {
            exec(server, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        }
    }
    const std::string& url() {
        if (!initialised_) {
            initialised_ = true;
            const std::string server = server_url();
            if (!server.empty()) {
                name_ = "wagate_test_" + std::to_string(::getpid());
                exec(server, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
                exec(server, "CREATE DATABASE " + name_);
                url_ = with_database(server, name_);
                auto migrated = pg::migrate(url_, pg::embedded_migrations());
                if (!migrated) {
                    throw std::runtime_error("migrating the test database: " + migrated.error().message);
                }
            }
        }
        return url_;
    }

private:
    bool initialised_ = false;
    std::string name_;
    std::string url_;
};

DatabaseEnvironment* environment() {
    static DatabaseEnvironment* env = [] {
        auto* e = new DatabaseEnvironment;
        ::testing::AddGlobalTestEnvironment(e);  // gtest owns it
        return e;
    }();
    return env;
}

// Registers the environment before main() runs the tests, so the database is dropped at the end.
[[maybe_unused]] const bool kRegistered = (environment(), true);

}  // namespace

const std::string& test_database_url() { return environment()->url(); }

Rows query(const std::string& url, const std::string& statement) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error("test database: " + std::string(PQerrorMessage(conn.get())));
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), statement.c_str()), &PQclear);
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error("SQL failed: " + statement + ": " + PQerrorMessage(conn.get()));
    }
    Rows rows(static_cast<std::size_t>(PQntuples(r.get())));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        for (int j = 0; j < PQnfields(r.get()); ++j) {
            rows[static_cast<std::size_t>(i)].emplace_back(PQgetvalue(r.get(), i, j));
        }
    }
    return rows;
}

std::string sql(const std::string& statement) { return exec(test_database_url(), statement); }

void reset_database() {
    // Every table but the migrator's own, so a table added by a later migration is never missed.
    sql("DO $$ BEGIN EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('wagate.%I', tablename), ', ') || "
        "' RESTART IDENTITY CASCADE' FROM pg_tables WHERE schemaname = 'wagate' "
        "AND tablename <> 'schema_migrations'); END $$");
}

std::string create_scratch_database(const std::string& name) {
    const std::string server = server_url();
    const std::string db = "wagate_scratch_" + std::to_string(::getpid()) + "_" + name;
    exec(server, "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    exec(server, "CREATE DATABASE " + db);
    return with_database(server, db);
}

}  // namespace wagate::test
