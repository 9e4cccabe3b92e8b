#pragma once

#include <string>
#include <vector>

namespace wagate::test {

/// The libpq URI of a database created for this test process and migrated with the production
/// migrator, so every run tests the migrations. The server comes from WAGATE_TEST_PG_DSN or the
/// file named by WAGATE_TEST_PG_DSN_FILE (written by scripts/pg-cluster.sh through CTest).
/// Returns empty when no server is configured; then tests skip, unless WAGATE_REQUIRE_PG=1, in
/// which case they fail.
const std::string& test_database_url();

/// Runs SQL text on the test database (blocking; test set-up and assertions only).
/// Throws std::runtime_error on failure. Returns the first column of the first row, or empty.
std::string sql(const std::string& statement);

/// Every row of `statement` run on the database at `url` (a connection of its own), as text.
/// Throws std::runtime_error on failure.
using Rows = std::vector<std::vector<std::string>>;
Rows query(const std::string& url, const std::string& statement);

/// TRUNCATEs every wagate table but the migrations record (keeps the schema).
void reset_database();

/// Creates a further empty database on the test server and returns its URI (migration tests).
std::string create_scratch_database(const std::string& name);

}  // namespace wagate::test

/// Skips (or fails, under WAGATE_REQUIRE_PG=1) when there is no test database.
#define WAGATE_REQUIRE_DATABASE()                                                      \
    do {                                                                               \
        if (::wagate::test::test_database_url().empty()) {                             \
            if (std::getenv("WAGATE_REQUIRE_PG")) {                                    \
                FAIL() << "WAGATE_REQUIRE_PG is set but no test database is configured"; \
            }                                                                          \
            GTEST_SKIP() << "no test PostgreSQL (set WAGATE_TEST_PG_DSN)";             \
        }                                                                              \
    } while (false)
