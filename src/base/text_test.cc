#include "base/text.h"

#include <gtest/gtest.h>

#include <string>

namespace suanpan {
namespace {

TEST(TextTest, ReadableNamesPass) {
  EXPECT_TRUE(CheckDisplayName("name", "train-llama 7b", 128).ok());
  EXPECT_TRUE(CheckDisplayName("name", "训练任务-日志", 128).ok());
  // 128 characters of three bytes each: 384 bytes, still 128 characters.
  std::string han;
  for (int i = 0; i < 128; ++i) han += "算";
  EXPECT_TRUE(CheckDisplayName("name", han, 128).ok());
  EXPECT_EQ(CountChars(han), 128u);
  han += "算";
  Status s = CheckDisplayName("name", han, 128);
  EXPECT_EQ(s.field(), "name");
  EXPECT_NE(s.message().find("at most 128 characters, got 129"), std::string::npos) << s.message();
}

TEST(TextTest, InvisibleAndControlCharactersAreNamed) {
  struct Case {
    std::string text;
    std::string cp;
  } cases[] = {{"a\u202Egnp.exe", "U+202E"},  // right-to-left override
               {"a\u2066b", "U+2066"},        // left-to-right isolate
               {"a\u200Bb", "U+200B"},        // zero-width space
               {"a\uFEFFb", "U+FEFF"},        // byte order mark
               {"a\x7F"
                "b",
                "U+007F"},                // DEL
               {"a\x1B[31mb", "U+001B"},  // ESC
               {"a\u0085b", "U+0085"},    // C1 next line
               {"a\u2028b", "U+2028"}};   // line separator
  for (const Case& c : cases) {
    Status s = CheckDisplayName("name", c.text, 128);
    EXPECT_FALSE(s.ok()) << c.cp;
    EXPECT_EQ(s.field(), "name");
    EXPECT_NE(s.message().find(c.cp), std::string::npos) << s.message();
  }
  EXPECT_NE(CheckDisplayName("name", "\xC0\xAF", 128).message().find("UTF-8"), std::string::npos);
  EXPECT_FALSE(CheckDisplayName("name", "", 128).ok());
}

TEST(TextTest, RequestIdsAreSafeTokensOnly) {
  EXPECT_TRUE(IsSafeToken("req-7f3a.b_c:1", 128));
  EXPECT_FALSE(IsSafeToken("x status=200 token=admin", 128));
  EXPECT_FALSE(IsSafeToken("a\nb", 128));
  EXPECT_FALSE(IsSafeToken(std::string(129, 'a'), 128));
  EXPECT_FALSE(IsSafeToken("", 128));
}

TEST(TextTest, TerminalEscapesAreMadeVisible) {
  EXPECT_EQ(EscapeForTerminal("ok\n\tline"), "ok\n\tline");
  EXPECT_EQ(EscapeForTerminal("\x1B]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(EscapeForTerminal("a\rb"), "a\\rb");
  EXPECT_EQ(EscapeForTerminal("\xC2\x9B"
                              "2J"),
            "\\u009b2J");
  EXPECT_EQ(EscapeForTerminal("\xFF"), "\\xff");
  EXPECT_EQ(EscapeForTerminal("日志"), "日志");
}

TEST(TextTest, JsonDepthIsLinearAndSkipsStrings) {
  EXPECT_EQ(JsonDepth(R"({"a": [1, {"b": "[[[["}]})", 64), 3);
  EXPECT_EQ(JsonDepth(R"("\"[[[")", 64), 0);
  const std::string deep(400'000, '[');
  EXPECT_EQ(JsonDepth(deep, 64), 65);  // stops past the limit
}

TEST(TextTest, XmlAndCsvEscaping) {
  EXPECT_EQ(XmlEscaped("a<b>&\"c\" 'd'"), "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;");
  EXPECT_EQ(XmlEscaped("tab\tnl\nbell\x07"
                       "esc\x1b"),
            "tab\tnl\nbellesc");
  EXPECT_EQ(XmlEscaped("算力券"), "算力券");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("line\r\nbreak"), "\"line\r\nbreak\"");
}

}  // namespace
}  // namespace suanpan
