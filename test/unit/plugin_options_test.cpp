// Unit tests of the output plugin's option parsing.
#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/pure/plugin_options.hpp"
#include "electric_shapes/pure/shape_name.hpp"

#include <gtest/gtest.h>

using es::parse_plugin_options;
using es::PluginOptions;
using es::RawOption;

namespace {

// The error parse_plugin_options raises for options, or "" when it accepts them.
std::string error_of(const std::vector<RawOption> &options)
{
    try {
        parse_plugin_options(options);
    } catch (const es::UserError &e) {
        EXPECT_EQ(e.sqlstate, "22023");
        return e.what();
    }
    return "";
}

TEST(PluginOptions, Defaults)
{
    PluginOptions o = parse_plugin_options({});
    EXPECT_TRUE(o.all_shapes);
    EXPECT_FALSE(o.include_transaction);
    EXPECT_EQ(o.values, es::ValuesMode::Text);
    EXPECT_TRUE(o.selects("anything"));
}

TEST(PluginOptions, ShapesList)
{
    PluginOptions o = parse_plugin_options({{"shapes", std::string(" a , b-2,a,c_3")}});
    EXPECT_FALSE(o.all_shapes);
    EXPECT_EQ(o.shapes.size(), 3u);
    EXPECT_TRUE(o.selects("a"));
    EXPECT_TRUE(o.selects("b-2"));
    EXPECT_FALSE(o.selects("d"));
}

TEST(PluginOptions, BooleanSpellings)
{
    EXPECT_TRUE(parse_plugin_options({{"include-transaction", std::nullopt}}).include_transaction);
    EXPECT_TRUE(parse_plugin_options({{"include-transaction", std::string("ON")}}).include_transaction);
    EXPECT_FALSE(parse_plugin_options({{"include-transaction", std::string("0")}}).include_transaction);
}

TEST(PluginOptions, ValuesMode)
{
    EXPECT_EQ(parse_plugin_options({{"values", std::string("json")}}).values, es::ValuesMode::Json);
    EXPECT_EQ(parse_plugin_options({{"values", std::string("TEXT")}}).values, es::ValuesMode::Text);
}

TEST(PluginOptions, ErrorsNameTheOption)
{
    EXPECT_EQ(error_of({{"colour", std::string("red")}}), "unrecognized option \"colour\"");
    EXPECT_EQ(error_of({{"values", std::string("xml")}}), "invalid value for option \"values\": \"xml\"");
    EXPECT_EQ(error_of({{"values", std::nullopt}}), "invalid value for option \"values\": \"\"");
    EXPECT_EQ(error_of({{"include-transaction", std::string("maybe")}}),
              "invalid value for option \"include-transaction\": \"maybe\"");
    EXPECT_EQ(error_of({{"shapes", std::string("a,,b")}}), "invalid shape name \"\" in option \"shapes\"");
    EXPECT_EQ(error_of({{"shapes", std::string("a b")}}), "invalid shape name \"a b\" in option \"shapes\"");
    EXPECT_EQ(error_of({{"shapes", std::string("")}}), "option \"shapes\" needs at least one shape name");
    EXPECT_EQ(error_of({{"values", std::string("text")}, {"values", std::string("json")}}),
              "option \"values\" is given more than once");
}

TEST(PluginOptions, LongValuesAreShortenedInErrors)
{
    std::string err = error_of({{"values", std::string(10000, 'x')}});
    EXPECT_LT(err.size(), 120u);
}

TEST(PluginOptions, ThousandsOfShapeNames)
{
    std::string list;
    for (int i = 0; i < 5000; i++)
        list += (i ? "," : "") + std::string("shape_") + std::to_string(i);
    PluginOptions o = parse_plugin_options({{"shapes", list}});
    EXPECT_EQ(o.shapes.size(), 5000u);
    EXPECT_TRUE(o.selects("shape_4999"));
}

TEST(ShapeName, Rule)
{
    EXPECT_TRUE(es::is_valid_shape_name("conv_42"));
    EXPECT_TRUE(es::is_valid_shape_name(std::string(63, 'a')));
    EXPECT_FALSE(es::is_valid_shape_name(std::string(64, 'a')));
    EXPECT_FALSE(es::is_valid_shape_name(""));
    EXPECT_FALSE(es::is_valid_shape_name("a.b"));
    EXPECT_FALSE(es::is_valid_shape_name("a\"b"));
    EXPECT_FALSE(es::is_valid_shape_name("h\xc3\xa9"));
}

}  // namespace

TEST(PluginOptions, RepeatedHugeNameIsShortenedInTheMessage)
{
    std::string name(100000, 'o');
    try {
        es::parse_plugin_options({{name, std::nullopt}, {name, std::nullopt}});
        FAIL() << "no error";
    } catch (const es::UserError &e) {
        EXPECT_EQ(e.sqlstate, "22023");
        EXPECT_LT(std::string(e.what()).size(), 200u);
    }
}

namespace {

TEST(NameSet, KeepsEachNameOnceInOrder)
{
    es::NameSet names;
    EXPECT_TRUE(names.insert("b"));
    EXPECT_TRUE(names.insert("a"));
    EXPECT_FALSE(names.insert("b"));
    EXPECT_EQ(names.size(), 2u);
    EXPECT_TRUE(names.contains("a"));
    EXPECT_FALSE(names.contains("c"));
    EXPECT_FALSE(names.contains(""));
    std::vector<std::string> in_order(names.begin(), names.end());
    EXPECT_EQ(in_order, (std::vector<std::string>{"b", "a"}));
}

TEST(NameSet, ThousandsOfNamesStayFindable)
{
    es::NameSet names;
    for (int i = 0; i < 20000; i++)
        names.insert("shape_" + std::to_string(i));
    for (int i = 0; i < 20000; i++)
        ASSERT_TRUE(names.contains("shape_" + std::to_string(i))) << i;
    EXPECT_FALSE(names.contains("shape_20000"));
    EXPECT_FALSE(names.contains("shape_"));
}

}  // namespace
