#include "engine/commands.hpp"

#include <CLI/CLI.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/logger.hpp"
#include "engine/admin.hpp"
#include "engine/bench.hpp"
#include "engine/journal_check.hpp"
#include "engine/live_gateway.hpp"
#include "engine/pipeline.hpp"
#include "engine/report.hpp"
#include "engine/run_config.hpp"
#include "engine/run_output.hpp"
#include "engine/state.hpp"
#include "engine/status.hpp"
#include "feed/book_check.hpp"
#include "feed/recorder.hpp"
#include "feed/venues/binance.hpp"
#include "feed/venues/bybit.hpp"
#include "feed/venues/kucoin.hpp"
#include "feed/venues/okx.hpp"
#include "strategy/csv.hpp"
#include "strategy/indicator_table.hpp"
#include "tuning/host_check.hpp"

namespace enigma::engine {

namespace {

// Signal handlers only set flags (and poke an eventfd, both async-signal-safe); the work happens on
// threads at safe points: SIGINT/SIGTERM stop intake at the next frame (the pipeline's stop flag; the
// first signal names the interruption), SIGUSR1 asks the replay for a status line at the next frame
// boundary, SIGHUP asks the session's watcher thread to reopen the log file (logrotate's postrotate).
std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_status_request{false};
std::atomic<bool> g_reopen_log{false};
std::atomic<int> g_wake_fd{-1};  // eventfd the watcher blocks on; created once, never closed

extern "C" void on_signal(int sig) {
  const int saved_errno = errno;
  if (sig == SIGINT || sig == SIGTERM) {
    int none = 0;
    g_stop_signal.compare_exchange_strong(none, sig, std::memory_order_relaxed);
    g_stop.store(true, std::memory_order_relaxed);
  } else if (sig == SIGUSR1) {
    g_status_request.store(true, std::memory_order_relaxed);
  } else if (sig == SIGHUP) {
    g_reopen_log.store(true, std::memory_order_relaxed);
  }
  if (const int fd = g_wake_fd.load(std::memory_order_relaxed); fd >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);
  }
  errno = saved_errno;
}

// Exit status of a run a signal ended: the shell's 128 + signal number (130 SIGINT, 143 SIGTERM).
int exit_code_for_signal(int sig) noexcept { return sig == 0 ? 0 : 128 + sig; }
const char* signal_name(int sig) noexcept { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal"; }

// Does what the flag-only handlers cannot: reopens the log on SIGHUP, and answers SIGUSR1 where the run's
// loop does not (paper, live). Sleeps on the eventfd; no polling.
class SignalWatcher {
 public:
  SignalWatcher(Logger& logger, bool pipeline_reports_status) : logger_(logger), pipeline_reports_status_(pipeline_reports_status) {
    int fd = g_wake_fd.load();
    if (fd < 0) {
      fd = ::eventfd(0, EFD_CLOEXEC);
      if (fd < 0) throw Error(std::string("eventfd for the signal watcher: ") + std::strerror(errno));
      g_wake_fd.store(fd);
    }
    fd_ = fd;
    thread_ = std::thread([this] { run(); });
  }
  ~SignalWatcher() {
    closing_.store(true);
    const std::uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void run() {
    while (!closing_.load()) {
      std::uint64_t n;
      if (::read(fd_, &n, sizeof n) < 0 && errno != EINTR) return;
      if (g_reopen_log.exchange(false)) {
        logger_.reopen();
        ENIGMA_LOG_INFO("engine", "SIGHUP: log file reopened");
        std::fprintf(stderr, "enigma: SIGHUP: reopened %s\n", logger_.options().path.c_str());
      }
      if (!pipeline_reports_status_ && g_status_request.exchange(false)) {
        ENIGMA_LOG_INFO("engine", "SIGUSR1: status lines are written by replay runs; use the admin endpoint here");
        std::fprintf(stderr, "enigma: SIGUSR1: status lines are written by replay runs; use the admin endpoint (GET /status)\n");
      }
    }
  }

  Logger& logger_;
  bool pipeline_reports_status_;
  int fd_;
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

void install_run_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
}

struct RunArgs {
  std::string config = "config/replay.toml";
  std::vector<std::string> data;
  std::string speed;
  std::string topology;
  std::string venue;
  std::string runs_dir;
  bool quiet = false;
};
RunArgs g_replay;
RunArgs g_bench;
RunArgs g_paper;
struct LiveArgs {
  std::string config;
  std::string runs_dir;
  bool confirm = false;
} g_live;

struct CheckHostArgs {
  std::string cores;
} g_check_host;

struct ReportArgs {
  std::string run_dir;
} g_report;

struct BookCheckArgs {
  std::string venue;
  std::vector<std::string> files;
  bool verbose = false;
} g_book_check;

struct IndicatorArgs {
  std::string csv;
  std::string out;
} g_indicators;

struct ConvertArgs {
  std::string capture;
  std::string out;
} g_convert;

// Applies command-line overrides on top of the TOML.
RunConfig load_run_config(const RunArgs& a) {
  RunConfig rc = RunConfig::load(a.config);
  if (!a.data.empty()) rc.data = a.data;
  if (!a.speed.empty()) rc.speed = a.speed == "recorded" ? Speed::recorded : Speed::max;
  if (!a.topology.empty()) rc.engine.topology = a.topology == "pipelined" ? Topology::pipelined : Topology::fused;
  if (!a.venue.empty()) {
    const auto v = venue_from_string(a.venue);
    if (!v) throw Error("unknown venue '" + a.venue + "'");
    rc.venue = *v;
  }
  if (!a.runs_dir.empty()) rc.runs_dir = a.runs_dir;
  if (rc.data.empty()) throw Error(a.config + ": [replay] data is empty and no --data was given");
  return rc;
}

// What every trading run (replay, paper) sets up around the pipeline: its run directory and log, the
// instruments, strategies and trading core, the optional admin endpoint, and signal handling.
struct RunSession {
  const RunConfig& rc;
  std::string dir;
  std::unique_ptr<Logger> logger;
  InstrumentRegistry registry;
  std::unique_ptr<strategy::StrategyStage> strategies;
  std::unique_ptr<StateDirLock> state;  // paper/live; declared before `core`: released after its journal closes
  std::unique_ptr<TradingCore> core;
  SpscRing<AdminCommand> admin_ring{64};
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<StatusPublisher> status;
  PipelineOptions po;

  std::unique_ptr<SignalWatcher> watcher;

  // `pipeline_reports_status`: the run's loop answers SIGUSR1 itself (replay), else the watcher does.
  RunSession(const RunConfig& config, const std::string& prefix, const char* mode, bool pipeline_reports_status = false)
      : rc(config), dir(make_run_dir(config.runs_dir, prefix)) {
    LoggerOptions lo;
    lo.path = dir + "/logs/enigma.log";
    lo.level = rc.engine.log_level;
    lo.rotate_bytes = rc.engine.log_rotate_bytes;
    lo.keep_files = rc.engine.log_keep_files;
    lo.json = rc.engine.log_json;
    logger = std::make_unique<Logger>(lo);
    Logger::set_global(logger.get());
    try {
      set_up(mode, pipeline_reports_status);
    } catch (const std::exception& e) {
      log_failure(e);
      throw;
    }
    // Only a run that set up moves the `latest` link.
    point_latest_at(rc.runs_dir, dir);
  }

  // A runtime error of the run goes to its log as well as to stderr (main prints it, exit 3).
  void log_failure(const std::exception& e) {
    logger->write_text(LogLevel::error, "engine", std::string("run failed: ") + e.what());
  }

  // Runs the command's body; an error escaping it is logged to the run's log, then rethrown.
  template <class Body>
  int guarded(Body&& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      log_failure(e);
      throw;
    }
  }

  void set_up(const char* mode, bool pipeline_reports_status) {
    install_run_signal_handlers();
    watcher = std::make_unique<SignalWatcher>(*logger, pipeline_reports_status);
    const TscClock& clk = TscClock::instance();
    if (!clk.warning().empty()) ENIGMA_LOG_WARN("engine", "{}", clk.warning());
    rc.fill_registry(registry);
    strategies = std::make_unique<strategy::StrategyStage>(rc.make_strategies());
    TradingCoreConfig trading = rc.trading;
    // The OMS journals every order before it leaves: a replay into its run directory; paper and live into
    // their account's locked state directory, which the next start-up resumes from.
    const bool keeps_state = std::string_view(mode) != "replay";
    if (keeps_state) {
      state = std::make_unique<StateDirLock>(rc.state_dir.empty() ? default_state_dir(mode, rc.venue) : rc.state_dir);
      trading.journal_path = state->journal_path();
      const auto wall_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      trading.client_id_epoch = static_cast<std::uint64_t>(wall_s.count());  // ids never repeat across restarts
    } else {
      trading.journal_path = dir + "/journal.bin";
    }
    core = std::make_unique<TradingCore>(registry, trading);
    core->set_run_stop(&g_stop);  // disk full: the engine ends the run itself (exit 3)
    if (keeps_state) {
      const auto wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
      write_resume_report(*core, registry, dir, state->dir(), mode, std::string_view(mode) == "paper", wall_ns.count());
    }
    if (rc.admin.enabled) {
      const char* tok = std::getenv(rc.admin.token_env.c_str());
      admin = std::make_unique<AdminServer>(rc.admin.address, rc.admin.port, tok ? tok : "", admin_ring);
      admin->set_log_path(dir + "/logs/enigma.log");  // the dashboard's last log lines
      admin->start();
      ENIGMA_LOG_INFO("admin", "listening on {}:{}", rc.admin.address, static_cast<int>(admin->port()));
      status = std::make_unique<StatusPublisher>(*admin, registry, mode, rc.admin.publish_ms * 1'000'000);
      status->set_timeframes(rc.confluence.candles, rc.mean_reversion.candles);
      po.status = status.get();
    }
    const SupervisorConfig& sv = rc.trading.supervisor;
    ENIGMA_LOG_INFO("supervisor", "on_kill={} on_stop={} max_daily_drawdown={} max_total_drawdown={} max_trades_per_day={} feed_down_s={}",
                    to_string(sv.on_kill), to_string(sv.on_stop), rc.trading.risk.max_daily_drawdown.to_double(),
                    sv.max_total_drawdown.to_double(), sv.max_trades_per_day, sv.feed_down_ns / 1'000'000'000);
    po.venue = rc.venue;
    po.traded = rc.imbalance.common.instrument;
    po.topology = rc.engine.topology;
    po.speed = rc.speed;
    po.idle = rc.engine.idle;
    po.cores = rc.engine.cores;
    po.admin = &admin_ring;
    po.stop = &g_stop;
    if (pipeline_reports_status) po.status_request = &g_status_request;
  }

  // Writes the run's files and report, prints the summary and returns the exit status: 0, or 128 + the
  // signal that interrupted the run (130 SIGINT, 143 SIGTERM).
  int finish(PipelineResult& r, const char* mode) {
    const int sig = g_stop_signal.load();
    if (core->stopped_for_disk_full()) {
      r.fatal_error = core->order_manager().journal().rollover_error();
      if (r.fatal_error.empty()) r.fatal_error = "journal: no room for its next segment (disk full)";
      ENIGMA_LOG_ERROR("engine", "run stopped by the engine: disk full");
      if (Logger* l = Logger::global()) l->write_text(LogLevel::error, "engine", "disk full: " + r.fatal_error);
    }
    if (sig != 0) {
      r.interrupted = signal_name(sig);
      ENIGMA_LOG_WARN("engine", "run interrupted by {} after {} of {} frames", signal_name(sig), r.frames, r.frames_in_input);
    }
    ENIGMA_LOG_INFO("engine", "run done frames={} orders={} fills={} emergency_stops={} unprotected_positions={}", r.frames,
                    r.orders.orders, r.orders.fills, r.orders.emergency_stops, core->unprotected_positions());
    if (status) {  // the last snapshot equals the summary
      FeedView fv;
      fv.frames = r.frames;
      fv.events = r.events;
      fv.book_updates = r.book_updates;
      fv.gaps = r.gaps;
      fv.resyncs = r.resyncs;
      fv.reconnects = r.reconnects;
      status->maybe_publish(*core, fv, false, true);
    }
    RunSummaryInput in{&rc, &registry, &r, core.get(), mode, std::string(to_string(po.topology))};
    log_data_warnings(in);
    if (!r.fatal_error.empty()) {
      // Exit 3 whether or not the run's files fit on the full disk: say which could not be written.
      std::fprintf(stderr, "enigma %s: stopped: %s\n", mode, r.fatal_error.c_str());
      try {
        write_run_files(dir, in);
        write_report(dir);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "enigma %s: the summary could not be written: %s\n", mode, e.what());
        log_failure(e);
      }
      std::fputs(format_summary(in, dir).c_str(), stdout);
      return 3;
    }
    write_run_files(dir, in);
    write_file_atomic(dir + "/host-check.txt", tuning::format_checks(tuning::check_host({})));
    write_report(dir);
    std::fputs(format_summary(in, dir).c_str(), stdout);
    return exit_code_for_signal(sig);
  }

  ~RunSession() {
    watcher.reset();
    if (admin) admin->stop();
    Logger::set_global(nullptr);
    if (logger) logger->shutdown();
  }
};

int cmd_replay() {
  const RunConfig rc = load_run_config(g_replay);
  RunSession s(rc, "", "replay", /*pipeline_reports_status=*/true);
  s.po.progress = !g_replay.quiet;
  ENIGMA_LOG_INFO("engine", "replay start venue={} files={} topology={}", to_string(rc.venue), rc.data.size(), to_string(rc.engine.topology));
  std::fprintf(stderr, "enigma replay: %zu file(s), venue %s, %s topology -> %s\n", rc.data.size(), std::string(to_string(rc.venue)).c_str(),
               std::string(to_string(rc.engine.topology)).c_str(), s.dir.c_str());
  return s.guarded([&] {
    PipelineResult r = run_pipeline(rc.data, s.registry, *s.strategies, *s.core, s.po);
    return s.finish(r, "replay");
  });
}

// Paper trading: live market data over TLS WebSocket, simulated fills. Same outputs as a replay.
int cmd_paper() {
  RunConfig rc = RunConfig::load(g_paper.config);
  if (!g_paper.runs_dir.empty()) rc.runs_dir = g_paper.runs_dir;
  if (rc.ws_url.empty()) throw Error(g_paper.config + ": [feed] url is required for paper trading");
  rc.engine.topology = Topology::fused;  // paper runs the fused engine on the WebSocket thread
  RunSession s(rc, "paper-", "paper");
  ENIGMA_LOG_INFO("engine", "paper start url={}", rc.ws_url);
  std::fprintf(stderr, "enigma paper: %s -> %s (Ctrl-C to stop)\n", rc.ws_url.c_str(), s.dir.c_str());
  return s.guarded([&] {
    PipelineResult r = run_paper(paper_options(rc, s.dir), s.registry, *s.strategies, *s.core, s.po);
    return s.finish(r, "paper");
  });
}

// Live trading: market data exactly as paper, orders signed with the real credentials and sent to Binance
// USD-M through the gateway thread; fills from the user-data stream. Refuses without --confirm.
int cmd_live() {
  RunConfig rc = RunConfig::load(g_live.config);
  if (!g_live.runs_dir.empty()) rc.runs_dir = g_live.runs_dir;
  if (rc.ws_url.empty()) throw Error(g_live.config + ": [feed] url is required for live trading");
  if (rc.venue != Venue::binance_usdm) {
    throw Error(g_live.config + ": live order entry supports venue binance-usdm only, not '" +
                std::string(to_string(rc.venue)) + "'");
  }
  for (const auto& e : rc.instruments)
    if (e.spec.venue != Venue::binance_usdm)
      throw Error(g_live.config + ": instrument '" + std::string(e.spec.symbol.view()) + "' is not on binance-usdm");
  // Credentials: environment or an owner-only file, never the TOML; errors name the variable, not the value.
  const config::Secret key = config::load_secret(rc.live.api_key_env, rc.live.api_key_file);
  const config::Secret secret_text = config::load_secret(rc.live.api_secret_env, rc.live.api_secret_file);
  if (!g_live.confirm) {
    throw Error("live trading sends real orders to " + rc.live.rest_url + " with the key from " + rc.live.api_key_env +
                "; the configuration and credentials are valid. Re-run with --confirm to trade");
  }
  rc.engine.topology = Topology::fused;  // market data on the fused engine's thread, as paper
  RunSession s(rc, "live-", "live");
  return s.guarded([&] {
    LiveGatewayOptions go;
    go.rest_url = rc.live.rest_url;
    go.user_ws_url = rc.live.user_ws_url;
    go.api_key = std::string(key.reveal());
    go.tls.ca_file = rc.live.ca_file.empty() ? rc.ca_file : rc.live.ca_file;
    go.request_timeout_ns = rc.live.request_timeout_ms * 1'000'000;
    LiveGateway gateway(s.registry, go);
    {
      const oms::Secret secret(secret_text.reveal());
      const feed::ParsedUrl u = feed::parse_url(rc.live.rest_url);
      const std::string host = u.port == "443" ? u.host : u.host + ":" + u.port;
      s.core->go_live(gateway, go.api_key, secret, host);
      // Before the first order: the venue's open orders, positions and balance (README "State directory").
      oms::binance_futures::Config bc;
      bc.host = host;
      oms::binance_futures::Encoder venue_queries(s.registry, go.api_key, secret, bc);
      const auto wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
      (void)reconcile_live(*s.core, s.registry, gateway, venue_queries, rc.live.unknown_orders, s.dir, wall_ns.count());
      // What is still working after reconciliation is ours again: the risk gate counts it, and the kill
      // switch, the stop policy and the "position without a stop" check see it.
      const std::size_t adopted = s.core->track_restored_orders(wall_ns.count());
      if (adopted != 0) ENIGMA_LOG_INFO("resume", "{} working order(s) from the journal tracked by the engine again", adopted);
    }
    gateway.start();
    ENIGMA_LOG_INFO("engine", "live start market={} orders={}", rc.ws_url, rc.live.rest_url);
    std::fprintf(stderr, "enigma live: %s, orders to %s -> %s (Ctrl-C to stop and cancel)\n", rc.ws_url.c_str(),
                 rc.live.rest_url.c_str(), s.dir.c_str());
    PipelineResult r = run_live(paper_options(rc, s.dir), s.registry, *s.strategies, *s.core, s.po, rc.live.drain_ms * 1'000'000);
    gateway.stop();
    const auto& c = r.orders;
    ENIGMA_LOG_INFO("live", "gateway requests={} answers={} unknown={} venue_rejects={} last_code={} stream_reports={} stream_connects={} "
                    "reconnect_reconciliations={}",
                    gateway.stats().requests.load(), gateway.stats().answers.load(), c.unknown_outcomes, c.venue_rejects,
                    c.last_venue_code, gateway.stats().stream_reports.load(), gateway.stats().stream_connects.load(),
                    c.reconnect_reconciliations);
    if (s.core->working_orders() != 0)
      std::fprintf(stderr, "enigma live: %zu order(s) may still be working at the venue: check them there\n",
                   s.core->working_orders());
    return s.finish(r, "live");
  });
}

int cmd_bench() {
  const RunConfig rc = load_run_config(g_bench);
  return run_bench(rc, g_bench.quiet);
}

int cmd_check_host() {
  tuning::HostCheckOptions opt;
  if (!g_check_host.cores.empty()) opt.trading_cores = tuning::parse_cpu_list(g_check_host.cores);
  const auto checks = tuning::check_host(opt);
  std::fputs(tuning::format_checks(checks).c_str(), stdout);
  int warns = 0;
  for (const auto& c : checks) warns += c.status == tuning::CheckStatus::warn;
  std::printf("check-host: %zu checks, %d warnings%s\n", checks.size(), warns,
              warns ? " (apply fixes with tuning/apply.sh; dry-run by default)" : "");
  return 0;
}

int cmd_report() {
  const std::string html = write_report(g_report.run_dir);
  std::printf("report: wrote %s/report.md and %s\n", g_report.run_dir.c_str(), html.c_str());
  return 0;
}

int cmd_book_check() {
  const auto v = venue_from_string(g_book_check.venue);
  if (!v) throw Error("unknown venue '" + g_book_check.venue + "'");
  feed::BookCheckOptions opt;
  opt.verbose = g_book_check.verbose;
  feed::BookCheckResult r;
  switch (*v) {
    case Venue::binance_usdm:
    case Venue::binance_coinm:
    case Venue::binance_spot: r = feed::binance::check(g_book_check.files, *v, opt); break;
    case Venue::kucoin_spot:
    case Venue::kucoin_futures: r = feed::kucoin::check(g_book_check.files, *v, opt); break;
    case Venue::okx: r = feed::okx::check(g_book_check.files, *v, opt); break;
    case Venue::bybit: r = feed::bybit::check(g_book_check.files, *v, opt); break;
    default: throw Error("book-check does not support venue '" + g_book_check.venue + "'");
  }
  for (const auto& n : r.notes) std::fprintf(stderr, "  %s\n", n.c_str());
  std::printf("book-check: checked=%llu mismatched=%llu gaps=%llu resyncs=%llu\n", (unsigned long long)r.checked,
              (unsigned long long)r.mismatched, (unsigned long long)r.gaps, (unsigned long long)r.resyncs);
  return r.mismatched == 0 ? 0 : 1;
}

int cmd_indicators() {
  auto in = strategy::open_maybe_gzip(g_indicators.csv);
  if (g_indicators.out.empty()) {
    strategy::write_indicator_csv(*in, std::cout, g_indicators.csv);
  } else {
    std::ofstream out(g_indicators.out);
    if (!out) throw Error("cannot write '" + g_indicators.out + "'");
    strategy::write_indicator_csv(*in, out, g_indicators.csv);
    std::fprintf(stderr, "indicators: wrote %s\n", g_indicators.out.c_str());
  }
  return 0;
}

int cmd_convert() {
  const feed::ConvertStats s = feed::convert_capture(g_convert.capture, g_convert.out);
  std::printf("convert: %llu frames (%s) -> %s\n", (unsigned long long)s.frames, std::string(feed::to_string(s.format)).c_str(),
              g_convert.out.c_str());
  return 0;
}

std::vector<std::pair<CLI::App*, std::function<int()>>> g_commands;

void add_run_options(CLI::App* c, RunArgs& a) {
  c->add_option("--config", a.config, "TOML config")->capture_default_str()->check(CLI::ExistingFile);
  c->add_option("--data", a.data, "Recorded files (hftbacktest .gz, cryptofeed .raw.txt/.jsonl, zip); overrides [replay] data")
      ->check(CLI::ExistingFile);
  c->add_option("--speed", a.speed, "max | recorded")->check(CLI::IsMember({"max", "recorded"}));
  c->add_option("--topology", a.topology, "fused | pipelined")->check(CLI::IsMember({"fused", "pipelined"}));
  c->add_option("--venue", a.venue, "Venue of the data (binance-usdm, binance-spot, kucoin-futures, kucoin-spot, ...)");
  c->add_option("--runs-dir", a.runs_dir, "Where run directories are created (default from config: runs)");
  c->add_flag("--quiet", a.quiet, "No progress lines");
}

}  // namespace

void register_commands(CLI::App& app) {
  {
    auto* c = app.add_subcommand("replay", "Backtest: replay recorded data through the full pipeline against the simulated exchange");
    add_run_options(c, g_replay);
    g_commands.emplace_back(c, cmd_replay);
  }
  {
    auto* c = app.add_subcommand("paper", "Paper trading: live market data over TLS WebSocket, simulated exchange fills");
    c->add_option("--config", g_paper.config, "TOML config with a [feed] section")->required()->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_paper.runs_dir, "Where run directories are created");
    g_commands.emplace_back(c, cmd_paper);
  }
  {
    auto* c = app.add_subcommand("live", "Live trading on Binance USD-M: live market data, real orders (needs --confirm)");
    c->add_option("--config", g_live.config, "TOML config with [feed] and [live] sections")->required()->check(CLI::ExistingFile);
    c->add_option("--runs-dir", g_live.runs_dir, "Where run directories are created");
    c->add_flag("--confirm", g_live.confirm, "Really send orders (without it: validate config and credentials, then refuse)");
    g_commands.emplace_back(c, cmd_live);
  }
  {
    auto* c = app.add_subcommand("bench", "Latency benchmark: replay at full rate and recorded pace in both topologies, with the floor");
    add_run_options(c, g_bench);
    g_commands.emplace_back(c, cmd_bench);
  }
  {
    auto* c = app.add_subcommand("book-check", "Rebuild books from recorded files and verify them against the venue's top of book or checksum");
    c->add_option("--venue", g_book_check.venue, "binance-usdm|binance-coinm|binance-spot|kucoin-spot|kucoin-futures|okx|bybit")->required();
    c->add_option("files", g_book_check.files, "Recorded files (formats detected automatically)")->required()->check(CLI::ExistingFile);
    c->add_flag("--verbose", g_book_check.verbose, "Print details of mismatches");
    g_commands.emplace_back(c, cmd_book_check);
  }
  {
    auto* c = app.add_subcommand("indicators", "Compute every indicator over an OHLCV CSV (TA-Lib compatible columns)");
    c->add_option("--csv", g_indicators.csv, "Input CSV (time|timestamp_s|datetime, open, high, low, close, volume; .gz ok)")
        ->required()->check(CLI::ExistingFile);
    c->add_option("--out", g_indicators.out, "Output CSV (default: stdout)");
    g_commands.emplace_back(c, cmd_indicators);
  }
  {
    auto* c = app.add_subcommand("convert", "Convert a capture (shared/data formats) into enigma's crash-safe frame recording");
    c->add_option("capture", g_convert.capture, "Capture file")->required()->check(CLI::ExistingFile);
    c->add_option("out", g_convert.out, "Output recording")->required();
    g_commands.emplace_back(c, cmd_convert);
  }
  {
    static std::string journal_path;
    auto* c = app.add_subcommand("journal-check", "Inspect an order journal (file or directory of segments): contents and damage");
    c->add_option("path", journal_path, "Journal file (e.g. runs/<run>/journal.bin) or directory of its segments")->required();
    g_commands.emplace_back(c, [] { return run_journal_check(journal_path, std::cout); });
  }
  {
    auto* c = app.add_subcommand("report", "Regenerate report.md and report.html for a run directory");
    c->add_option("run_dir", g_report.run_dir, "Run directory (runs/<timestamp>)")->required()->check(CLI::ExistingDirectory);
    g_commands.emplace_back(c, cmd_report);
  }
  {
    auto* c = app.add_subcommand("check-host", "Check host tuning for low latency (isolcpus, governor, C-states, THP, IRQs, ...)");
    c->add_option("--cores", g_check_host.cores, "Trading cores to check, e.g. 2-3 (default: all but cpu0)");
    g_commands.emplace_back(c, cmd_check_host);
  }
}

int run_selected_command(CLI::App& app) {
  for (auto& [sub, fn] : g_commands)
    if (sub->parsed()) return fn();
  throw Error("no command given (see --help)");
}

}  // namespace enigma::engine
