#include <gtest/gtest.h>

#include "support/test_database.hpp"

namespace wagate::test {
namespace {

TEST(MigrationsTest, SchemaIsMigrated) {
    WAGATE_REQUIRE_DATABASE();
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.schema_migrations"), "1");
}

}  // namespace
}  // namespace wagate::test
