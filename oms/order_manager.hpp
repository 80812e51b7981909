// The OMS core, venue-agnostic: the table of our orders, the positions they open and close, the journal
// written before anything is sent, and one-cancels-other exits. Venue encoders (oms/venues) and the
// simulated exchange plug in around it: the caller encodes and sends what submit()/cancel() approved,
// and feeds every venue report to on_report().
//
// Single-threaded (the OMS thread). After construction nothing allocates: tables are fixed-capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "oms/journal.hpp"
#include "oms/order_state.hpp"
#include "oms/order_types.hpp"
#include "oms/position.hpp"
#include "risk/flat_map.hpp"

namespace enigma::oms {

// Fixed-capacity table of orders indexed by client id.
class OrderTable {
 public:
  explicit OrderTable(std::uint32_t capacity);

  // Registers a new order (status NEW). Errc::capacity when full; Errc::out_of_range when an order with
  // this client id (or its 64-bit hash) is already present.
  [[nodiscard]] Result<OrderState*> add(const OrderSpec& spec) noexcept;
  [[nodiscard]] OrderState* find(const ClientOrderId& id) noexcept;
  // Drops terminal orders to make room (swap-remove; pointers into the table are invalidated).
  std::size_t purge_terminal() noexcept;
  [[nodiscard]] std::span<OrderState> all() noexcept { return {orders_.data(), size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  std::vector<OrderState> orders_;
  risk::detail::FlatMap64 index_;
  std::uint32_t size_{0};
};

struct OrderManagerConfig {
  std::uint32_t max_orders{4096};
  std::uint32_t max_positions{256};
  std::uint32_t max_oco_pairs{1024};
  std::string journal_path;  // required
  JournalConfig journal{};
};

// What one venue report led to.
struct ReportOutcome {
  OrderState* order{nullptr};         // nullptr: not our order (reconcile as external)
  ApplyResult applied{};
  Position* position{nullptr};        // the position the order belongs to, if any
  std::optional<ClientOrderId> cancel_sibling;  // OCO: cancel this exit now
};

class OrderManager {
 public:
  // Opens the journal and rebuilds orders and positions from it (orders sent but never answered come
  // back UNKNOWN: query them before anything else). Throws enigma::Error on journal failure or when the
  // journal holds more than the tables' capacity.
  explicit OrderManager(OrderManagerConfig cfg);

  // A new position from a signal, with its mandatory stop (see position.hpp). Journaled.
  [[nodiscard]] Result<Position*> open_position(InstrumentId instrument, Side side, Price reference_px, Price stop,
                                                std::int64_t now_ns) noexcept;
  // Journals `spec` and marks it PENDING_NEW: call right before the encoded request leaves. An entry order
  // (spec.position_id set, same side as the position, not reduce-only) moves its position to PENDING.
  // Exits with an oco_group are paired with the other exit of the same group.
  // `next_client_counter` is the id generator's counter after this order's id (journaled so a restart
  // never reuses an id). Errc::capacity / Errc::out_of_range as OrderTable::add; Errc::not_found when
  // spec.position_id names no position; Errc::io when the journal refused the record (nothing is sent).
  [[nodiscard]] Result<OrderState*> submit(const OrderSpec& spec, std::uint64_t next_client_counter,
                                           std::int64_t now_ns) noexcept;
  // Journals the cancel and marks the order PENDING_CANCEL; Errc::not_found / Errc::out_of_range when the
  // order is unknown or not working.
  [[nodiscard]] Errc cancel(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  // A request timed out or got a 5xx: the order is UNKNOWN until a status query answers.
  [[nodiscard]] Errc on_timeout(const ClientOrderId& id, std::int64_t now_ns) noexcept;
  // Journals and applies a venue report; updates the position and the OCO pairing.
  ReportOutcome on_report(const ExecReport& r, std::int64_t now_ns) noexcept;
  // Tightens a position's stop (TRAILING); journaled.
  [[nodiscard]] Errc trail_stop(std::uint32_t position_id, Price new_stop, std::int64_t now_ns) noexcept;

  [[nodiscard]] OrderState* find(const ClientOrderId& id) noexcept { return orders_.find(id); }
  // Drops finished orders from the table (they stay in the journal); invalidates OrderState pointers.
  std::size_t purge_terminal() noexcept { return orders_.purge_terminal(); }
  [[nodiscard]] std::size_t order_count() const noexcept { return orders_.size(); }
  [[nodiscard]] Position* position(std::uint32_t id) noexcept;
  // The oldest open position of `instrument` on `side` (0 when none): a reduce-only order sent without a
  // position (a strategy exit, a flatten) closes this one, so the journal's positions follow the fills.
  [[nodiscard]] std::uint32_t open_position_id(InstrumentId instrument, Side side) const noexcept;
  [[nodiscard]] std::span<OrderState> orders() noexcept { return orders_.all(); }
  [[nodiscard]] std::span<const Position> positions() const noexcept { return {positions_.data(), position_count_}; }
  // Counter to resume the ClientIdGenerator from after a restart (ClientIdGenerator::resume_from).
  [[nodiscard]] std::uint64_t next_client_counter() const noexcept { return next_client_counter_; }
  [[nodiscard]] const Journal& journal() const noexcept { return journal_; }
  // Forces the journal to disk (the emergency stop's "persist state" step; cold path).
  [[nodiscard]] Errc sync_journal() noexcept { return journal_.sync(); }

 private:
  void journal_position(const Position& p, std::int64_t now_ns) noexcept;
  void pair_oco(const OrderState& o) noexcept;

  OrderTable orders_;
  std::vector<Position> positions_;
  std::uint32_t position_count_{0};
  std::uint32_t next_position_id_{1};
  OcoTracker oco_;
  std::vector<ClientOrderId> oco_first_leg_;  // by group slot: the first exit seen, waiting for its pair
  std::vector<std::uint32_t> oco_first_group_;
  std::uint64_t next_client_counter_{1};
  Journal journal_;
  std::uint64_t journal_errors_{0};

 public:
  // Journal appends that failed (capacity / sync); each is an alert: state after a crash may be stale.
  [[nodiscard]] std::uint64_t journal_errors() const noexcept { return journal_errors_; }
  // Share of the active journal segment used (0..1); near 1 with journal().rollover_failed() means the
  // next segment could not be prepared (disk full) and appends will soon be refused.
  [[nodiscard]] double journal_fill_ratio() const noexcept { return journal_.fill_ratio(); }
};

}  // namespace enigma::oms
