// Unit tests of the Prometheus text exposition builder behind electric_shapes.metrics().
#include "electric_shapes/pure/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace es::prometheus;

namespace {

TEST(PrometheusText, LabelValueEscapesBackslashQuoteAndNewline)
{
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escape_label_value("plain-slot_1"), "plain-slot_1");
    EXPECT_EQ(escape_label_value(""), "");
}

TEST(PrometheusText, LabelValueKeepsOtherBytes)
{
    EXPECT_EQ(escape_label_value("tab\there é"), "tab\there é");
}

TEST(PrometheusText, HelpEscapesBackslashAndNewlineButNotQuotes)
{
    EXPECT_EQ(escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
}

TEST(PrometheusText, MetricNames)
{
    EXPECT_TRUE(is_valid_metric_name("electric_shapes_slot_lag_bytes"));
    EXPECT_TRUE(is_valid_metric_name("a:b_c"));
    EXPECT_TRUE(is_valid_metric_name("_x"));
    EXPECT_FALSE(is_valid_metric_name(""));
    EXPECT_FALSE(is_valid_metric_name("1abc"));
    EXPECT_FALSE(is_valid_metric_name("a-b"));
    EXPECT_FALSE(is_valid_metric_name("a b"));
}

TEST(PrometheusText, LabelNames)
{
    EXPECT_TRUE(is_valid_label_name("slot"));
    EXPECT_TRUE(is_valid_label_name("_shape2"));
    EXPECT_FALSE(is_valid_label_name("__name__"));
    EXPECT_FALSE(is_valid_label_name("a:b"));
    EXPECT_FALSE(is_valid_label_name("9a"));
    EXPECT_FALSE(is_valid_label_name(""));
}

TEST(PrometheusText, Values)
{
    EXPECT_EQ(format_value(0.0), "0");
    EXPECT_EQ(format_value(42.0), "42");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(1e21), "1e+21");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(PrometheusText, FamiliesHaveHelpTypeAndGroupedSamples)
{
    TextBuilder b;
    b.declare("es_changes_total", Type::Counter, "Changes decoded.");
    b.declare("es_lag_bytes", Type::Gauge, "Lag.");
    b.add("es_changes_total", {{"slot", "a"}}, int64_t{3});
    b.add("es_lag_bytes", {{"slot", "a"}}, 1.5);
    b.add("es_changes_total", {{"slot", "b"}}, int64_t{9223372036854775807});
    EXPECT_EQ(b.text(),
              "# HELP es_changes_total Changes decoded.\n"
              "# TYPE es_changes_total counter\n"
              "es_changes_total{slot=\"a\"} 3\n"
              "es_changes_total{slot=\"b\"} 9223372036854775807\n"
              "# HELP es_lag_bytes Lag.\n"
              "# TYPE es_lag_bytes gauge\n"
              "es_lag_bytes{slot=\"a\"} 1.5\n");
}

TEST(PrometheusText, SampleWithoutLabels)
{
    TextBuilder b;
    b.declare("es_up", Type::Gauge, "Up.");
    b.add("es_up", {}, int64_t{1});
    EXPECT_EQ(b.text(), "# HELP es_up Up.\n# TYPE es_up gauge\nes_up 1\n");
}

TEST(PrometheusText, LabelsAreEscapedInSamples)
{
    TextBuilder b;
    b.declare("es_x", Type::Gauge, "Multi\nline \\ help");
    b.add("es_x", {{"slot", "we\"ird\\\nname"}, {"shape", "s"}}, 1.0);
    EXPECT_EQ(b.text(),
              "# HELP es_x Multi\\nline \\\\ help\n"
              "# TYPE es_x gauge\n"
              "es_x{slot=\"we\\\"ird\\\\\\nname\",shape=\"s\"} 1\n");
}

TEST(PrometheusText, EmptyFamilyStillDeclared)
{
    TextBuilder b;
    b.declare("es_none", Type::Untyped, "Nothing yet.");
    EXPECT_EQ(b.text(), "# HELP es_none Nothing yet.\n# TYPE es_none untyped\n");
}

TEST(PrometheusText, CountersMustEndInTotal)
{
    TextBuilder b;
    EXPECT_THROW(b.declare("es_changes", Type::Counter, "x"), std::invalid_argument);
    EXPECT_NO_THROW(b.declare("es_changes", Type::Gauge, "x"));
}

TEST(PrometheusText, RefusesBadInput)
{
    TextBuilder b;
    EXPECT_THROW(b.declare("bad-name", Type::Gauge, "x"), std::invalid_argument);
    b.declare("es_g", Type::Gauge, "x");
    EXPECT_THROW(b.declare("es_g", Type::Gauge, "again"), std::invalid_argument);
    EXPECT_THROW(b.add("es_undeclared", {}, 1.0), std::invalid_argument);
    EXPECT_THROW(b.add("es_g", {{"bad-label", "v"}}, 1.0), std::invalid_argument);
    EXPECT_THROW(b.add("es_g", {{"a", "1"}, {"a", "2"}}, 1.0), std::invalid_argument);
    b.add("es_g", {{"a", "1"}}, 1.0);
    EXPECT_THROW(b.add("es_g", {{"a", "1"}}, 2.0), std::invalid_argument);
}

}  // namespace

TEST(PrometheusText, HistogramHasCumulativeBucketsSumAndCount)
{
    TextBuilder b;
    b.declare("es_latency_seconds", Type::Histogram, "Latency.");
    b.add_histogram("es_latency_seconds", {{"route", "shape"}}, {0.005, 0.25}, {1, 3}, 1.5, 4);
    EXPECT_EQ(b.text(),
              "# HELP es_latency_seconds Latency.\n"
              "# TYPE es_latency_seconds histogram\n"
              "es_latency_seconds_bucket{route=\"shape\",le=\"0.005\"} 1\n"
              "es_latency_seconds_bucket{route=\"shape\",le=\"0.25\"} 3\n"
              "es_latency_seconds_bucket{route=\"shape\",le=\"+Inf\"} 4\n"
              "es_latency_seconds_sum{route=\"shape\"} 1.5\n"
              "es_latency_seconds_count{route=\"shape\"} 4\n");
}

TEST(PrometheusText, HistogramRefusesBadBuckets)
{
    TextBuilder b;
    b.declare("es_h", Type::Histogram, "h");
    b.declare("es_g", Type::Gauge, "g");
    EXPECT_THROW(b.add_histogram("es_g", {}, {1}, {1}, 1, 1), std::invalid_argument);
    EXPECT_THROW(b.add_histogram("es_h", {}, {1, 2}, {1}, 1, 1), std::invalid_argument);
    EXPECT_THROW(b.add_histogram("es_h", {}, {2, 1}, {1, 1}, 1, 1), std::invalid_argument);
    EXPECT_THROW(b.add_histogram("es_h", {}, {1, 2}, {2, 1}, 1, 2), std::invalid_argument);
    EXPECT_THROW(b.add_histogram("es_h", {}, {1}, {3}, 1, 2), std::invalid_argument);
    EXPECT_THROW(b.add_histogram("es_h", {{"le", "x"}}, {1}, {1}, 1, 1), std::invalid_argument);
    EXPECT_NO_THROW(b.add_histogram("es_h", {}, {1}, {1}, 1, 1));
    EXPECT_THROW(b.add_histogram("es_h", {}, {1}, {1}, 1, 1), std::invalid_argument);  // same labels twice
}
