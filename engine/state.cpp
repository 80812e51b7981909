#include "engine/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/logger.hpp"
#include "engine/trading_core.hpp"

namespace enigma::engine {

std::string default_state_dir(std::string_view mode, Venue venue) {
  return "state/" + std::string(mode) + "-" + std::string(to_string(venue));
}

StateDirLock::StateDirLock(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("state directory '" + dir_ + "': cannot create it: " + ec.message());
  const std::string lock_path = dir_ + "/lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("state directory '" + dir_ + "': cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    // Whoever holds the lock wrote its pid into the file once it had it.
    char buf[32]{};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw Error("state directory '" + dir_ + "' is in use by another enigma" +
                  (holder.empty() ? std::string() : " (pid " + holder + ")") +
                  "; one engine per account and venue: stop it, or give this run its own [state] dir");
    }
    throw Error("state directory '" + dir_ + "': cannot lock " + lock_path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds without the pid; only the message of a refused second engine is poorer.
    ENIGMA_LOG_WARN("engine", "state directory {}: could not write our pid into the lock file: {}", dir_,
                    std::strerror(errno));
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock; the file stays (a stale pid in it is harmless)
}

namespace {
std::string side_name(Side s) { return s == Side::buy ? "buy" : "sell"; }

// Start-up lines are longer than a hot-path record holds; they go through the logger's text path.
template <class... A>
void log_resume(LogLevel level, fmt::format_string<A...> f, A&&... args) {
  if (Logger* l = Logger::global()) l->write_text(level, "resume", fmt::format(f, std::forward<A>(args)...));
}
}  // namespace

std::string write_resume_report(TradingCore& core, const InstrumentRegistry& registry, const std::string& run_dir,
                                const std::string& state_dir, std::string_view mode, bool simulated_exchange,
                                std::int64_t now_ns) {
  oms::OrderManager& om = core.order_manager();
  const std::string next_id(core.peek_next_client_id().view());
  auto symbol = [&](InstrumentId id) {
    return id < registry.size() ? std::string(registry.get(id).symbol.view()) : "instrument#" + std::to_string(id);
  };
  // The OMS rebuilt only what may still be live at the venue; finished orders stay history in the journal.
  std::size_t working = 0;
  std::string orders_json, positions_json;
  for (const oms::OrderState& o : om.orders()) {
    if (!oms::is_working(o.status)) continue;
    ++working;
    log_resume(LogLevel::info, "open order {} {} {} qty={} filled={} status={}", o.client_id().view(),
                    symbol(o.spec.req.instrument), side_name(o.spec.req.side), o.spec.req.qty.to_string(),
                    o.filled.to_string(), oms::to_string(o.status));
    orders_json += std::string(orders_json.empty() ? "" : ",") + "\n    {\"client_id\": \"" +
                   std::string(o.client_id().view()) + "\", \"symbol\": \"" + symbol(o.spec.req.instrument) +
                   "\", \"side\": \"" + side_name(o.spec.req.side) + "\", \"qty\": \"" + o.spec.req.qty.to_string() +
                   "\", \"filled\": \"" + o.filled.to_string() + "\", \"status\": \"" +
                   std::string(oms::to_string(o.status)) + "\"}";
  }
  std::size_t open_positions = 0;
  for (const oms::Position& p : om.positions()) {
    if (!p.is_open()) continue;
    ++open_positions;
    log_resume(LogLevel::info, "open position #{} {} {} qty={} avg_entry={} stop={}", p.id, symbol(p.instrument),
                    p.side == Side::buy ? "long" : "short", p.qty.to_string(), p.avg_entry().to_string(),
                    p.stop_price.to_string());
    positions_json += std::string(positions_json.empty() ? "" : ",") + "\n    {\"id\": " + std::to_string(p.id) +
                      ", \"symbol\": \"" + symbol(p.instrument) + "\", \"side\": \"" +
                      (p.side == Side::buy ? "long" : "short") + "\", \"qty\": \"" + p.qty.to_string() +
                      "\", \"avg_entry\": \"" + p.avg_entry().to_string() + "\", \"stop\": \"" +
                      p.stop_price.to_string() + "\"}";
  }
  const std::size_t orders_canceled_at_start = simulated_exchange ? core.cancel_orders_unknown_to_simulator(now_ns) : 0;
  log_resume(LogLevel::info, "state {}: journal working_orders={} open_positions={} next_client_counter={} next_client_id={}",
                  state_dir, working, open_positions, om.next_client_counter(), next_id);
  if (orders_canceled_at_start != 0)
    log_resume(LogLevel::warn, "{} working order(s) from the journal are not at the simulated exchange (it starts empty): resolved canceled",
                    orders_canceled_at_start);
  if (simulated_exchange && open_positions != 0)
    log_resume(LogLevel::warn, "the simulated exchange starts flat at [sim] initial_balance: the {} journal position(s) above are not carried into this paper run",
               open_positions);
  std::string json = "{\n  \"mode\": \"" + std::string(mode) + "\",\n  \"state_dir\": \"" + state_dir +
                     "\",\n  \"next_client_counter\": " +
                     std::to_string(om.next_client_counter()) + ",\n  \"next_client_id\": \"" + next_id +
                     "\",\n  \"working_orders_at_start\": [" + orders_json + (orders_json.empty() ? "" : "\n  ") +
                     "],\n  \"orders_canceled_at_start\": " + std::to_string(orders_canceled_at_start) +
                     ",\n  \"open_positions\": [" + positions_json + (positions_json.empty() ? "" : "\n  ") + "]\n}\n";
  const std::string path = run_dir + "/reconciliation.json";
  std::ofstream out(path);
  out << json;
  if (!out) throw Error("cannot write " + path);
  return json;
}

}  // namespace enigma::engine
