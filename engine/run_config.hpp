// Everything one `enigma replay|paper|live|bench` run needs, read from one TOML file (config/*.toml).
// Each module's section maps onto that module's own config struct, whose validate() still runs; keys
// nobody reads are errors naming file, line and key (core/config.hpp).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/instrument.hpp"
#include "engine/pipeline.hpp"
#include "engine/rollout.hpp"
#include "engine/state.hpp"
#include "engine/trading_core.hpp"
#include "feed/transport.hpp"
#include "oms/live_venue.hpp"
#include "strategy/strategy.hpp"

namespace enigma::engine {

// A strategy kind: its index in the registry (strategy/registry.hpp), named by its `kind` string.
using StrategyKind = std::size_t;
// The kind named `name` ("imbalance", "mean-reversion", ...); throws enigma::Error listing the registered kinds.
[[nodiscard]] StrategyKind strategy_kind(std::string_view name);
[[nodiscard]] std::string_view to_string_kind(StrategyKind k) noexcept;
// The registered kinds joined with `sep` (for --help and messages).
[[nodiscard]] std::string strategy_kinds_text(std::string_view sep = ", ");

// One strategy instance of a run: a `[strategy]` table or one `[[strategy]]` entry. It holds one config of
// every registered strategy; only the config of `kind` is used, the others keep their defaults (or what the
// entry's other sub-tables set). The common keys (id, instrument, order_qty) are in every one of them.
struct StrategyInstance {
  StrategyKind kind{strategy_kind("imbalance")};
  strategy::RegisteredStrategies::Configs configs{};
  template <class C>
  [[nodiscard]] C& config() noexcept {
    return std::get<C>(configs);
  }
  template <class C>
  [[nodiscard]] const C& config() const noexcept {
    return std::get<C>(configs);
  }
  [[nodiscard]] const strategy::StrategyCommonConfig& common() const noexcept;
  [[nodiscard]] strategy::AnyStrategy make() const;  // throws enigma::Error (the strategy's validation)
};

struct InstrumentEntry {
  InstrumentSpec spec;
  risk::InstrumentLimits limits;
};

struct AdminSettings {
  bool enabled{false};
  std::string address{"127.0.0.1"};
  bool allow_remote{false};  // a non-loopback address is refused unless true, and then needs a token
  std::uint16_t port{8686};
  std::string token_env{"ENIGMA_ADMIN_TOKEN"};  // bearer token is read from this environment variable
  std::int64_t publish_ms{200};                   // status snapshot interval (taken on the OMS thread)
};

// [live]: where orders go and where the credentials come from (never the values themselves). What the venues
// read (URLs, credential sources, each venue's limits and options) is oms::LiveAccount; the rest is the engine's.
struct LiveSettings : oms::LiveAccount {
  // The share of the venue's request budget new orders may not use (kept for cancels, the kill, queries,
  // keep-alives).
  std::int64_t rate_reserve_pct{20};
  std::int64_t request_timeout_ms{5000};   // no answer by then: the order's outcome is UNKNOWN
  std::int64_t drain_ms{3000};             // at shutdown: how long to wait for the answers to our cancels
  // Keep-alive REST connections for new orders (cancels, queries and the kill have one of their own).
  std::int64_t order_connections{1};
  // The gateway thread's CPU (it spins with busy_poll / io_uring): -1 = not pinned. Checked against the
  // process's affinity mask at start (exit 3 naming the core).
  std::int64_t gateway_core{-1};
  std::string ca_file;                     // extra trusted CA of the order hosts; empty: [feed] ca_file
  // Order connection: "asio" (gateway thread sleeps between polls) or "busy_poll" (SO_BUSY_POLL and
  // SO_PREFER_BUSY_POLL on the order socket, the gateway thread spins).
  feed::Transport transport{feed::Transport::asio};
  // Start-up reconciliation: an open order at the venue that our journal does not hold is reported,
  // reported and cancelled, or adopted (journaled and managed as ours: limits, kill switch, stop policy).
  UnknownOrderPolicy unknown_orders{UnknownOrderPolicy::report};
};

// Whether `venue` has live order entry (Binance USD-M, KuCoin Futures, Bybit, OKX: the venues with [live]
// settings of their own); the error for one that has not, naming `config` (the config file's path).
[[nodiscard]] bool has_live_order_entry(Venue venue) noexcept;
[[noreturn]] void refuse_live_order_entry(Venue venue, const std::string& config);

// [record]: paper and live record every frame they receive (feed/recorder.hpp SessionRecorder).
struct RecordSettings {
  bool enabled{true};
  std::string dir;                           // empty: the run directory
  std::uint64_t rotate_bytes{256ull << 20};  // close the segment and start the next one at this size
  bool zstd{true};                           // compress = "zstd" | "none" (closed segments)
  std::uint64_t ring_bytes{64ull << 20};     // trading thread -> writer thread buffer (power of two)
};

// [[backtest.input]] (enigma backtest): one instrument's data, or (venue without instrument) captures of every
// symbol they carry on one venue. Paths may be files, directories (their *.csv, *.csv.gz / capture files in
// name order) or globs; the command expands them.
struct BacktestInput {
  std::optional<std::size_t> instrument;  // index into [[instrument]]; none: captures only, of `venue`
  Venue venue{Venue::unknown};         // the captures' venue: the instrument's, or the `venue` key
  std::vector<std::string> candles;    // candle CSVs datetime,open,high,low,close,volume (several days: several files)
  std::vector<std::string> captures;   // recorded L2 captures, as [replay] data
  std::vector<std::string> funding;    // funding CSVs datetime,time_ms,funding_rate: charged at their timestamps
  std::int64_t interval_s{0};          // the candles' bar length
};

struct RunConfig {
  std::string source;                 // config file path (for messages)
  EngineConfig engine;                // [engine]
  // [log] heartbeat_s: a heartbeat line every this many seconds of the run's clock (0 = none); [log] format
  // ("text" | "json") sets engine.log_json.
  std::int64_t log_heartbeat_ns{1'000'000'000};
  // [replay]
  Venue venue{Venue::binance_usdm};
  std::vector<std::string> data;      // recorded files (relative paths are from the working directory)
  Speed speed{Speed::max};
  std::string runs_dir{"runs"};
  // [exchange_info]: per venue, the exchange-info files read (feed/exchange_info.hpp) and, merged, their
  // instruments: the defaults and the check of [[instrument]], and the registry's catalogue.
  struct ExchangeInfoFile {
    Venue venue{Venue::unknown};
    std::string path;
    std::size_t instruments{0}, skipped_options{0};
    std::vector<std::string> unrepresentable;  // listed finer than enigma's 10 decimals: skipped
  };
  std::vector<ExchangeInfoFile> exchange_info;
  std::vector<InstrumentSpec> catalogue;
  // [[instrument]]
  std::vector<InstrumentEntry> instruments;
  // [backtest] (enigma backtest only; replay refuses it)
  std::vector<BacktestInput> backtest;
  // [strategy], or the first [[strategy]] entry (single-strategy code and tests edit it)
  StrategyInstance strategy{};
  // The first instance's config of strategy type C's config (e.g. strategy::ConfluenceConfig).
  template <class C>
  [[nodiscard]] C& strategy_config() noexcept {
    return strategy.config<C>();
  }
  template <class C>
  [[nodiscard]] const C& strategy_config() const noexcept {
    return strategy.config<C>();
  }
  // [[strategy]] entries after the first (a portfolio: one instance per instrument, distinct ids)
  std::vector<StrategyInstance> more_strategies;
  // [selector]: ucb / committee over strategy instances of one instrument (strategy/selector.hpp)
  strategy::SelectorConfig selector;
  // [risk], [sim], [oms]
  TradingCoreConfig trading{};
  // [admin]
  AdminSettings admin{};
  // [feed] (paper/live)
  std::string ws_url;                 // e.g. wss://fstream.binance.com/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker
  std::string ca_file;                // extra trusted CA (tests: the self-signed test server)
  std::string snapshot_url;           // REST depth snapshot for book sync after (re)connects and gaps
  std::string ping{"binance"};        // none | binance | kucoin | okx | bybit
  // KuCoin token flow: POST here (…/api/v1/bullet-public) before each connect, then connect to the returned
  // server with its token; `url` is then unused.
  std::string bullet_url;
  std::vector<std::string> resubscribe;  // after a gap (OKX/Bybit/Coinbase); empty: derived from `subscribe`
  std::int64_t stale_after_ms{5000};  // no data this long while connected: reconnect
  feed::Transport feed_transport{feed::Transport::asio};  // [feed] transport: asio | busy_poll | io_uring
  bool feed_io_uring_sqpoll{false};                       // [feed] io_uring_sqpoll: SQPOLL kernel thread
  bool hardware_timestamps{false};    // [feed] hardware_timestamps: ask the NIC for RX_HARDWARE stamps too
  std::vector<std::string> subscribe; // frames sent after connect
  double run_seconds{0};              // paper/live: stop after this long (0 = until SIGINT/SIGTERM)
  // [live]
  LiveSettings live{};
  // [record]
  RecordSettings record{};
  // [alerts] (engine/alerts.hpp): rules, channels, retries
  AlertSettings alerts{};
  // [state] dir: paper/live keep their order journal here across runs, locked by one engine at a time
  // (engine/state.hpp). Empty: state/<mode>-<venue>. Replays journal into their run directory.
  std::string state_dir;
  RolloutConfig rollout;              // [rollout]

  // Loads and validates; throws enigma::Error naming file, line and key.
  [[nodiscard]] static RunConfig load(const std::string& path);
  [[nodiscard]] static RunConfig parse(std::string_view toml_text, const std::string& source_name);

  // The instrument registry described by [[instrument]] (ids in file order).
  void fill_registry(InstrumentRegistry& registry) const;
  // Every strategy instance of the run in file order: the first (`strategy`), then
  // `more_strategies`.
  [[nodiscard]] std::vector<StrategyInstance> strategy_instances() const;
  // Strategies for the run, built from [strategy] or the [[strategy]] entries.
  [[nodiscard]] std::vector<strategy::AnyStrategy> make_strategies() const;
  // The kind of the run's strategy; a portfolio's kinds joined with '+' ("imbalance+mean-reversion").
  [[nodiscard]] std::string strategy_name() const;
};

// `enigma strategies`: every registered strategy (kind, summary, its sub-table's keys with defaults and
// ranges, as its Config::read asks for them) and the keys every strategy table has.
void print_strategies(std::ostream& out);

// WebSocket and snapshot settings of a paper/live run from [feed], and its recording from [record]: into
// [record] dir, else into `run_dir`; not recorded when [record] enabled = false or both are empty.
[[nodiscard]] PaperOptions paper_options(const RunConfig& rc, const std::string& run_dir = {});

}  // namespace enigma::engine
