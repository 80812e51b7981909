// How a venue's book subscription reads (each feed/venues/<venue>.hpp says it as kBookSubscription), so that a
// paper or live run can ask for a fresh book after a gap or a failed checksum without reconnecting: every
// configured subscription that names a book is sent again as unsubscribe + subscribe, and the venue answers
// with a new snapshot. Venues that resync from a REST snapshot instead (Binance, KuCoin) have an empty rule.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace enigma::feed {

struct BookSubscription {
  std::array<std::string_view, 2> verbs{};    // the field whose value is "subscribe"; the first one present is used
  std::array<std::string_view, 3> markers{};  // a subscription naming one of these asks for a book
};

// The unsubscribe + subscribe pairs, in order, of the `subscriptions` that ask for a book under `rule`.
[[nodiscard]] inline std::vector<std::string> book_resubscribe_frames(const BookSubscription& rule,
                                                                      const std::vector<std::string>& subscriptions) {
  std::vector<std::string> out;
  for (const std::string& sub : subscriptions) {
    if (std::none_of(rule.markers.begin(), rule.markers.end(),
                     [&](std::string_view m) { return !m.empty() && sub.find(m) != std::string::npos; }))
      continue;
    for (const std::string_view verb : rule.verbs) {
      const std::size_t k = verb.empty() ? std::string::npos : sub.find(verb);
      if (k == std::string::npos) continue;
      // `"op":"subscribe"` (any spacing after the colon) -> `"op":"unsubscribe"`.
      const std::size_t v = sub.find("\"subscribe\"", k + verb.size());
      if (v == std::string::npos) break;
      std::string unsub = sub;
      unsub.insert(v + 1, "un");
      out.push_back(std::move(unsub));
      out.push_back(sub);
      break;
    }
  }
  return out;
}

}  // namespace enigma::feed
