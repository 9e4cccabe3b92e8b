#include <gtest/gtest.h>
#include <wagate/core/masking.hpp>

namespace wagate {
namespace {

TEST(MaskPhoneNumbers, NumbersKeepOnlyTheirLastFourDigits) {
    EXPECT_EQ(mask_phone_numbers("to +15551234567 failed"), "to +*******4567 failed");
    EXPECT_EQ(mask_phone_numbers("15551234567"), "*******4567");
    EXPECT_EQ(mask_phone_numbers(R"(invalid input: "491701234567")"), R"(invalid input: "********4567")");
    EXPECT_EQ(mask_phone_numbers("wa_id=12345678,"), "wa_id=****5678,");          // 8 digits: the shortest
    EXPECT_EQ(mask_phone_numbers("123456789012345"), "***********2345");          // 15: the longest
}

TEST(MaskPhoneNumbers, OtherTokensAreLeftAlone) {
    for (const char* kept : {"request 0192f3a4b5c6d7e8f90123456789abcd", "1234567", "1234567890123456",
                             "attempt 12 of 20", "id abc12345678", "12345678abc", "v23.0", ""}) {
        EXPECT_EQ(mask_phone_numbers(kept), kept);
    }
}

}  // namespace
}  // namespace wagate
