#include "web/json_pretty.h"

#include <gtest/gtest.h>

namespace latchkey::web {
namespace {

TEST(PrettyJson, IndentsObjectsAndArrays) {
  EXPECT_EQ(pretty_json(R"({"a":1,"b":[true,null],"c":{"d":"e"}})"),
            "{\n"
            "  \"a\": 1,\n"
            "  \"b\": [\n"
            "    true,\n"
            "    null\n"
            "  ],\n"
            "  \"c\": {\n"
            "    \"d\": \"e\"\n"
            "  }\n"
            "}");
}

TEST(PrettyJson, KeepsEmptyContainersCompact) {
  EXPECT_EQ(pretty_json(R"({"a":{},"b":[ ]})"), "{\n  \"a\": {},\n  \"b\": []\n}");
}

TEST(PrettyJson, CopiesStringsVerbatim) {
  EXPECT_EQ(pretty_json(R"({"k":"a, b: {c} [d] \"q\" \\"})"),
            "{\n  \"k\": \"a, b: {c} [d] \\\"q\\\" \\\\\"\n}");
}

TEST(PrettyJson, ReindentsAlreadyFormattedText) {
  EXPECT_EQ(pretty_json("{\n    \"a\" :  1 ,\n\t\"b\": 2\n}\n"), "{\n  \"a\": 1,\n  \"b\": 2\n}");
}

TEST(PrettyJson, ScalarsPassThrough) {
  EXPECT_EQ(pretty_json("42"), "42");
  EXPECT_EQ(pretty_json(R"("s")"), R"("s")");
  EXPECT_EQ(pretty_json(""), "");
}

TEST(PrettyJson, UnbalancedTextIsReturnedUnchanged) {
  EXPECT_EQ(pretty_json("{\"a\":1"), "{\"a\":1");
  EXPECT_EQ(pretty_json("{\"a\":1]"), "{\"a\":1]");
  EXPECT_EQ(pretty_json("}"), "}");
  EXPECT_EQ(pretty_json("{\"a"), "{\"a");
  EXPECT_EQ(pretty_json("\"abc\\"), "\"abc\\");
  EXPECT_EQ(pretty_json("not json <b>"), "not json <b>");
  EXPECT_EQ(pretty_json("{\"a\": \"b\" \"c\"}"), "{\"a\": \"b\" \"c\"}");
  EXPECT_EQ(pretty_json("{{#x}}{{{y}}}"), "{{#x}}{{{y}}}");  // members need string keys
  EXPECT_EQ(pretty_json("{\"a\":1,b:2}"), "{\"a\":1,b:2}");
}

}  // namespace
}  // namespace latchkey::web
