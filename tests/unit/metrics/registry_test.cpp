#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <wagate/metrics/registry.hpp>

namespace wagate {
namespace {
using metrics::Registry;

TEST(MetricsRegistry, RendersPrometheusTextWithHelpTypeAndSortedFamilies) {
    Registry r;
    r.counter("b_total", "B things", {{"kind", "x"}}).add(3);
    r.counter("b_total", "B things", {{"kind", "y"}}).add();
    r.gauge("a_level", "A level").set(2.5);
    r.gauge_from("c_now", "C", {{"l", "1"}}, [] { return 7.0; });
    EXPECT_EQ(r.render(),
              "# HELP a_level A level\n# TYPE a_level gauge\na_level 2.5\n"
              "# HELP b_total B things\n# TYPE b_total counter\nb_total{kind=\"x\"} 3\nb_total{kind=\"y\"} 1\n"
              "# HELP c_now C\n# TYPE c_now gauge\nc_now{l=\"1\"} 7\n");
}

TEST(MetricsRegistry, TheSameSeriesIsTheSameObject) {
    Registry r;
    auto& a = r.counter("x_total", "x", {{"k", "v"}});
    auto& b = r.counter("x_total", "x", {{"k", "v"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &r.counter("x_total", "x", {{"k", "w"}}));
    EXPECT_THROW(r.gauge("x_total", "x"), std::logic_error);
    EXPECT_THROW(r.counter("bad-name", "x"), std::logic_error);
}

TEST(MetricsRegistry, LabelValuesAreEscaped) {
    Registry r;
    r.counter("e_total", "line\nbreak \\ \"q\"", {{"v", "a\"b\\c\nd"}}).add();
    EXPECT_EQ(r.render(), "# HELP e_total line\\nbreak \\\\ \"q\"\n# TYPE e_total counter\ne_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithSumAndCount) {
    Registry r;
    auto& h = r.histogram("d_seconds", "d", {{"route", "/x"}}, {0.1, 1});
    h.observe(0.05);
    h.observe(0.1);  // on a bound: counted in that bucket (le is "less or equal")
    h.observe(0.5);
    h.observe(3);
    EXPECT_EQ(r.render(),
              "# HELP d_seconds d\n# TYPE d_seconds histogram\n"
              "d_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
              "d_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
              "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
              "d_seconds_sum{route=\"/x\"} 3.65\n"
              "d_seconds_count{route=\"/x\"} 4\n");
}

TEST(MetricsRegistry, ConcurrentUpdatesAreAllCounted) {
    Registry r;
    auto& c = r.counter("n_total", "n");
    auto& h = r.histogram("h_seconds", "h");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100'000; ++i) {
                c.add();
                h.observe(0.001);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(c.value(), 400'000u);
    EXPECT_EQ(h.count(), 400'000u);
}

}  // namespace
}  // namespace wagate
