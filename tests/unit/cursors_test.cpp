#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "hookline/api/cursors.hpp"
#include "hookline/util/crypto.hpp"

namespace hookline::api {
namespace {

TEST(SeqCursor, ReadsOnlyTheDigitsItWrote) {
  EXPECT_EQ(std::get<std::int64_t>(ParseSeqCursor(FormatSeqCursor(42))), 42);
  EXPECT_EQ(std::get<std::int64_t>(ParseSeqCursor("9223372036854775807")), INT64_MAX);
  for (const char* bad : {"", "12abc", "+12", "-1", " 12", "12 ", "0x10", "1.5", "9223372036854775808"}) {
    const auto parsed = ParseSeqCursor(bad);
    ASSERT_TRUE(std::holds_alternative<Problem>(parsed)) << bad;
    EXPECT_EQ(std::get<Problem>(parsed).status, 400) << bad;
    EXPECT_EQ(std::get<Problem>(parsed).code, "invalid_parameter") << bad;
  }
}

TEST(ReplyCursor, RefusesWhatIsNotHexOfTheRightArray) {
  for (const std::string& bad :
       {std::string("zz"), std::string("abc"), crypto::HexEncode("not json"), crypto::HexEncode(R"("s")"),
        crypto::HexEncode(R"([1,"l","c","e"])"), crypto::HexEncode(R"([1.5,"l","c","e","co"])"),
        crypto::HexEncode(R"([1,2,3,4,5])"), crypto::HexEncode(R"([1,"l",null,"e","co"])"),
        crypto::HexEncode(R"([1,"l","c",{"e":1},"co"])"), crypto::HexEncode(R"([1,"l","c","e",5])"),
        crypto::HexEncode(R"([1,"l","c","e","co",6])")}) {
    const auto parsed = ParseReplyCursor(bad);
    ASSERT_TRUE(std::holds_alternative<Problem>(parsed)) << bad;
    EXPECT_EQ(std::get<Problem>(parsed).code, "invalid_parameter") << bad;
  }
}

TEST(ReplyCursor, ACursorOverIdsThatAreNotUtf8ReadsBack) {
  const ReplyCursor made{-5, std::string("\xff\xfe lead", 7), "campaign \"1\"\n", std::string("e\0v", 3),
                         std::string("\xc3 co", 4)};
  const auto parsed = ParseReplyCursor(FormatReplyCursor(made));
  ASSERT_TRUE(std::holds_alternative<ReplyCursor>(parsed));
  EXPECT_EQ(std::get<ReplyCursor>(parsed), made);
}

}  // namespace
}  // namespace hookline::api
