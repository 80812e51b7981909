// The emergency-stop sequence of the original plan as one ordered procedure (cold path):
//   1. halt signals      trading state HALTED, kill switch latched for everything, strategies told to stop
//   2. cancel pending    every working entry's client id handed to the OMS to cancel (reduce-only exits
//                        keep protecting the position until it is flat; the caller cancels them then)
//   3. close positions   one reduce-only MARKET order per open position, handed to the OMS to send
//   4. persist state     the caller writes its journal/state
//   5. raise an alert    the caller pages a person
// The side effects outside risk/ go through EmergencyActions, implemented by the engine/OMS; the
// procedure fixes their order. Buffers are sized at construction so a stop never allocates in the middle.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "risk/order_request.hpp"
#include "risk/risk_gate.hpp"

namespace enigma::risk {

enum class EmergencyStep : std::uint8_t { halt_signals, cancel_pending, close_positions, persist_state, raise_alert };
inline constexpr std::size_t kEmergencyStepCount = 5;
[[nodiscard]] std::string_view to_string(EmergencyStep s) noexcept;

class EmergencyActions {
 public:
  virtual ~EmergencyActions() = default;
  virtual void halt_signals() = 0;                                         // stop strategies emitting
  virtual void cancel_orders(std::span<const ClientOrderId> ids) = 0;      // send these cancels (entries)
  virtual void close_positions(std::span<const OrderRequest> closes) = 0;  // send these market closes
  virtual void persist_state() = 0;                                        // flush journal / state
  virtual void raise_alert(std::string_view reason) = 0;                   // page a person
};

class EmergencyStop {
 public:
  // Sizes the id and close buffers from the gate's registry and instrument table.
  explicit EmergencyStop(RiskGate& gate);

  // Runs the five steps in order. The close orders are entered in the gate with register_forced (they
  // bypass the HALTED state the stop itself set) so their fills still move the position. Client ids of
  // the closes are "estop-<now_ns>-<instrument>". Returns the number of close orders emitted.
  std::size_t run(EmergencyActions& actions, std::string_view reason, std::int64_t now_ns);

  // Steps completed by the last run, in the order they ran.
  [[nodiscard]] std::span<const EmergencyStep> completed() const noexcept { return {steps_.data(), step_count_}; }

 private:
  RiskGate& gate_;
  std::vector<ClientOrderId> cancel_ids_;
  std::vector<OrderRequest> closes_;
  std::array<EmergencyStep, kEmergencyStepCount> steps_{};
  std::size_t step_count_{0};
};

}  // namespace enigma::risk
