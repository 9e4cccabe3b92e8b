#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <wagate/pg/migrator.hpp>

#include "support/test_database.hpp"

namespace wagate::test {
namespace {

class MigratorTest : public ::testing::Test {
protected:
    void SetUp() override { WAGATE_REQUIRE_DATABASE(); }
};

TEST_F(MigratorTest, TheTestDatabaseHasEveryEmbeddedMigration) {
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.schema_migrations"),
              std::to_string(pg::embedded_migrations().size()));
    auto pending = pg::pending_migrations(test_database_url(), pg::embedded_migrations());
    ASSERT_TRUE(pending);
    EXPECT_EQ(*pending, 0u);
}

TEST_F(MigratorTest, RerunningAppliesNothing) {
    auto report = pg::migrate(test_database_url(), pg::embedded_migrations());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_TRUE(report->applied.empty());
    EXPECT_EQ(report->already_applied, pg::embedded_migrations().size());
}

TEST_F(MigratorTest, ConcurrentRunsApplyEachFileOnce) {
    const std::string url = create_scratch_database("concurrent");
    std::vector<std::future<Result<pg::MigrationReport>>> runs;
    for (int i = 0; i < 4; ++i) {
        runs.push_back(std::async(std::launch::async,
                                  [url] { return pg::migrate(url, pg::embedded_migrations()); }));
    }
    std::size_t applied = 0;
    for (auto& r : runs) {
        auto report = r.get();
        ASSERT_TRUE(report) << report.error().message;
        applied += report->applied.size();
    }
    EXPECT_EQ(applied, pg::embedded_migrations().size());
}

TEST_F(MigratorTest, AnEditedAppliedMigrationIsRefused) {
    const std::string url = create_scratch_database("edited");
    const std::vector<pg::MigrationFile> original = {{"0001_a.sql", "CREATE TABLE a (x int);"}};
    ASSERT_TRUE(pg::migrate(url, original));
    const std::vector<pg::MigrationFile> edited = {{"0001_a.sql", "CREATE TABLE a (x bigint);"},
                                                   {"0002_b.sql", "CREATE TABLE b (x int);"}};
    auto report = pg::migrate(url, edited);
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, Errc::kConflict);
    EXPECT_NE(report.error().message.find("0001_a.sql"), std::string::npos);
}

TEST_F(MigratorTest, AnUnknownAppliedVersionIsRefused) {
    const std::string url = create_scratch_database("newer");
    ASSERT_TRUE(pg::migrate(url, std::vector<pg::MigrationFile>{{"0001_a.sql", "SELECT 1;"},
                                                                {"0002_b.sql", "SELECT 1;"}}));
    auto report = pg::migrate(url, std::vector<pg::MigrationFile>{{"0001_a.sql", "SELECT 1;"}});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, Errc::kConflict);
}

TEST_F(MigratorTest, AFailingMigrationLeavesNothingHalfApplied) {
    const std::string url = create_scratch_database("failing");
    const std::vector<pg::MigrationFile> files = {
        {"0001_ok.sql", "CREATE TABLE ok (x int);"},
        {"0002_bad.sql", "CREATE TABLE half (x int); SELECT no_such_function();"}};
    auto report = pg::migrate(url, files);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("0002_bad.sql"), std::string::npos);
    auto pending = pg::pending_migrations(url, files);
    ASSERT_TRUE(pending);
    EXPECT_EQ(*pending, 1u);  // 0001 applied, 0002 rolled back entirely
}

TEST(MigrationVersion, ParsesOnlyNumberedSqlFiles) {
    EXPECT_EQ(pg::migration_version("0001_init.sql"), 1);
    EXPECT_EQ(pg::migration_version("0042_x.sql"), 42);
    EXPECT_EQ(pg::migration_version("001_init.sql"), -1);
    EXPECT_EQ(pg::migration_version("0001-init.sql"), -1);
    EXPECT_EQ(pg::migration_version("0001_init.txt"), -1);
    EXPECT_EQ(pg::migration_version("abcd_init.sql"), -1);
}

}  // namespace
}  // namespace wagate::test
