#include <gtest/gtest.h>
#include <wagate/pg/sqlstate.hpp>
#include <wagate/pg/statement.hpp>

namespace wagate::pg {
namespace {

TEST(ClassifySqlstate, FollowsTheTable) {
    struct Case {
        const char* state;
        Errc expected;
    };
    const Case cases[] = {{"23505", Errc::kConflict},      {"40001", Errc::kRetryable},
                          {"40P01", Errc::kRetryable},     {"57014", Errc::kTimeout},
                          {"08006", Errc::kDbUnavailable}, {"08001", Errc::kDbUnavailable},
                          {"57P01", Errc::kDbUnavailable}, {"57P03", Errc::kDbUnavailable},
                          {"53300", Errc::kDbUnavailable}, {"22P02", Errc::kInvalidArgument},
                          {"23503", Errc::kInvalidArgument}, {"42P01", Errc::kInternal},
                          {"", Errc::kInternal}};
    for (const auto& c : cases) {
        EXPECT_EQ(classify_sqlstate(c.state), c.expected) << c.state;
    }
}

TEST(ArrayLiteral, QuotesEscapesAndNulls) {
    ArrayLiteral a;
    a.add(std::string_view("plain")).add(std::string_view("with \"quote\" and \\ backslash")).add_null();
    a.add(std::string_view("{braces},commas")).add(std::string_view(""));
    EXPECT_EQ(a.str(), R"({"plain","with \"quote\" and \\ backslash",NULL,"{braces},commas",""})");
    EXPECT_EQ(ArrayLiteral{}.str(), "{}");
    EXPECT_EQ(text_array({"a", "b"}), R"({"a","b"})");
}

TEST(Params, KeepsValuesAndNulls) {
    Params p;
    p.add("x").add(std::int64_t{7}).add(true).add_null().add(std::optional<std::string>{});
    ASSERT_EQ(p.size(), 5);
    const char* const* v = p.values();
    EXPECT_STREQ(v[0], "x");
    EXPECT_STREQ(v[1], "7");
    EXPECT_STREQ(v[2], "t");
    EXPECT_EQ(v[3], nullptr);
    EXPECT_EQ(v[4], nullptr);
}

}  // namespace
}  // namespace wagate::pg
