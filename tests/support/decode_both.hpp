// For tests: one recorded frame through a scanner-first decoder and its simdjson-only twin, which must give
// the same result and the same events (field by field).
#pragma once

#include <gtest/gtest.h>

#include "feed/capture_reader.hpp"
#include "feed/event_buffer.hpp"
#include "tests/support/same_event.hpp"

namespace enigma::test {

// `a` and `b` are cleared first; `rb` is the simdjson path's result, for the caller's counts.
template <class Decoder>
::testing::AssertionResult decode_both(Decoder& scanned, Decoder& plain, const feed::CapturedFrame& f, feed::EventBuffer& a,
                                       feed::EventBuffer& b, feed::DecodeResult& rb) {
  a.clear();
  b.clear();
  const feed::DecodeResult ra = scanned.decode(f.payload, f.padded_capacity, f.line_no, a);
  rb = plain.decode(f.payload, f.padded_capacity, f.line_no, b);
  if (ra.error != rb.error || ra.kind != rb.kind || ra.events != rb.events || a.size() != b.size())
    return ::testing::AssertionFailure() << "line " << f.line_no << ": the two paths' results differ (" << a.size()
                                         << " vs " << b.size() << " events)";
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_event(a[i], b[i])) return ::testing::AssertionFailure() << "line " << f.line_no << ": event " << i << " differs";
  return ::testing::AssertionSuccess();
}

}  // namespace enigma::test
