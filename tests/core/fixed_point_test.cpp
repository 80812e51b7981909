#include "core/fixed_point.hpp"
#include "core/events.hpp"
#include "core/spsc_ring.hpp"
#include "core/histogram.hpp"
#include "core/clock.hpp"

#include <gtest/gtest.h>

using namespace enigma;

TEST(FixedPoint, ParsesExactly) {
  auto r = Price::parse("60123.45");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.raw(), 601234500000000LL);
  EXPECT_EQ(r.value.to_string(), "60123.45");
}
