// The test venues' "held subscription" fault (fake_kucoin_futures.hpp, fake_bybit.hpp, fake_okx.hpp): while
// holding, a private connection's subscribe commands are neither in force nor answered, so what the venue
// pushes meanwhile reaches no one; release() takes them in order as if they came then. It is the window after
// a reconnect before the venue has the subscription. Every call is made with the venue's mutex held.
#pragma once

#include <boost/asio/post.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace enigma::testing {

template <class Session>
class SubscriptionHold {
 public:
  void hold() { holding_ = true; }
  // True when `text` (a client frame on `s`) is a subscription and was held: the venue answers nothing now.
  bool held(const std::shared_ptr<Session>& s, const std::string& text) {
    if (!holding_ || text.find("\"subscribe\"") == std::string::npos) return false;
    held_.emplace_back(s, text);
    return true;
  }
  [[nodiscard]] std::size_t size() const { return held_.size(); }
  // Ends the hold: on the venue's io thread, each held command's answers (`answer(session, text)`, which takes
  // the venue's mutex itself) are pushed on its session if it still lives.
  template <class Io, class Answer>
  void release(Io& io, Answer answer) {
    holding_ = false;
    boost::asio::post(io, [held = std::move(held_), answer] {
      for (const auto& [w, text] : held)
        if (const auto s = w.lock())
          for (auto& a : answer(*s, text)) s->push(std::move(a));
    });
    held_.clear();
  }

 private:
  bool holding_ = false;
  std::vector<std::pair<std::weak_ptr<Session>, std::string>> held_;
};

}  // namespace enigma::testing
